#!/usr/bin/env python3
"""Drives guestfish's interactive shell through a pseudo-terminal: banner,
prompt, commands and their output, errors that do not end the session,
tab completion of command names (and of guest paths when an appliance
works), history saved in ~/.guestfish, quit. Exit status 0 on success."""
import os, pty, re, select, subprocess, sys, time

FISH = os.environ["GUESTFISH"]
PROMPT = b"><fs> "
failures = []


class Session:
    def __init__(self, args):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.environ["TERM"] = "dumb"
            os.execv(FISH, [FISH] + args)
        self.buf = b""

    def read_until(self, pattern, timeout=60):
        """Reads until the regex (bytes) matches; returns what was read."""
        end = time.time() + timeout
        while not re.search(pattern, self.buf):
            left = end - time.time()
            if left <= 0:
                raise TimeoutError("waiting for %r, got %r" % (pattern, self.buf[-400:]))
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                try:
                    data = os.read(self.fd, 4096)
                except OSError:
                    data = b""
                if not data:
                    raise EOFError("guestfish exited; output so far %r" % self.buf[-400:])
                self.buf += data
        m = re.search(pattern, self.buf)
        out, self.buf = self.buf[:m.end()], self.buf[m.end():]
        return out

    def send(self, s):
        os.write(self.fd, s.encode())

    def command(self, line, timeout=60):
        """Types a line and returns the output before the next prompt."""
        self.send(line + "\n")
        out = self.read_until(re.escape(PROMPT), timeout)
        out = out[:-len(PROMPT)].replace(b"\r\n", b"\n")
        # Drop the echoed input line.
        first, _, rest = out.partition(b"\n")
        return rest.decode(errors="replace")

    def finish(self):
        _, status = os.waitpid(self.pid, 0)
        return os.waitstatus_to_exitcode(status)


def check(name, cond, detail=""):
    if not cond:
        failures.append("%s %s" % (name, detail))


def basic():
    s = Session([])
    banner = s.read_until(re.escape(PROMPT)).decode(errors="replace")
    check("banner", "guestfish" in banner and "help" in banner, repr(banner))
    out = s.command("echo hello world")
    check("echo", out == "hello world\n", repr(out))
    out = s.command('echo "quoted \\x41"')
    check("quoting", out == "quoted A\n", repr(out))
    out = s.command("mkdir /x")
    check("error message", "libguestfs: error: mkdir: call launch" in out, repr(out))
    check("no file:line prefix when interactive", not out.startswith("*stdin*"), repr(out))
    out = s.command("set-memsize 600")
    out = s.command("get-memsize")
    check("session continues after error", out == "600\n", repr(out))
    out = s.command("help mkdir")
    check("help cmd", "SYNOPSIS" in out and "mkdir path" in out, repr(out))
    # Tab completion of a command name: "get-mems<TAB>" -> "get-memsize ".
    s.send("get-mems\t")
    time.sleep(0.5)
    s.send("\n")
    out = s.read_until(re.escape(PROMPT)).replace(b"\r\n", b"\n").decode(errors="replace")
    check("completion of command names", "get-memsize" in out and "\n600\n" in out, repr(out))
    # Two candidates: a second TAB lists them.
    s.send("set-mem\t")
    time.sleep(0.3)
    s.send("\t")
    time.sleep(0.3)
    s.send("\x15")  # ^U: clear the line
    s.send("echo done\n")
    out = s.read_until(b"done\r?\n" + re.escape(PROMPT)).decode(errors="replace")
    check("unique prefix completion", "set-memsize" in out, repr(out))
    # A pipe to a local command and a local shell command.
    out = s.command("echo piped | tr a-z A-Z")
    check("pipe", out == "PIPED\n", repr(out))
    out = s.command("!echo shell")
    check("local shell", out == "shell\n", repr(out))
    s.send("quit\n")
    rc = s.finish()
    check("exit status", rc == 0, str(rc))
    hist = open(os.path.join(os.environ["HOME"], ".guestfish")).read()
    check("history file", "echo hello world" in hist and "get-memsize" in hist, repr(hist))
    # EOF (^D) ends the session too.
    s = Session([])
    s.read_until(re.escape(PROMPT))
    s.send("\x04")
    check("eof", s.finish() == 0)


def appliance():
    if os.environ.get("APPLIANCE") == "no":
        return
    if subprocess.run([FISH, "--", "add-drive-scratch", "16M", ":", "run"],
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0:
        print("(no working appliance: guest path completion not tested)")
        return
    s = Session(["-N", "fs:ext4:32M", "-m", "/dev/sda1"])
    s.read_until(re.escape(PROMPT), timeout=300)
    s.command("mkdir /somedir")
    s.command("touch /somedir/file1")
    s.send("ls /some\t")
    time.sleep(1)
    s.send("\n")
    out = s.read_until(re.escape(PROMPT)).replace(b"\r\n", b"\n").decode(errors="replace")
    check("guest path completion", "/somedir/" in out and "\nfile1\n" in out, repr(out))
    s.send("cat /dev/sda\t")
    time.sleep(1)
    s.send("\x15echo ok\n")
    s.read_until(b"ok\r?\n" + re.escape(PROMPT))
    s.send("exit\n")
    check("exit status after appliance", s.finish() == 0)


basic()
appliance()
for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
