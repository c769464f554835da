. "$(dirname "$0")/common.inc"
# --listen / --remote without an appliance: option errors, the framing,
# exit codes, the client's cwd, stdin scripts, --csh and a missing server.
# The sockets go to $TMPDIR/.guestfish-UID (here: the test directory).
export TMPDIR=$PWD SHELL=/bin/bash
unset XDG_RUNTIME_DIR GUESTFISH_PID
# Do not leave a server behind if the case goes wrong.
trap '[ -n "${GUESTFISH_PID:-}" ] && "$GUESTFISH" --remote exit >/dev/null 2>&1' EXIT
filter() { sed -e "s|$PWD|WORK|g" -e "s|\.guestfish-$(id -u)|.guestfish-UID|g" \
               -e 's/socket-[0-9]*/socket-PID/g' -e 's/pid [0-9]*/pid PID/g' -e 's/GUESTFISH_PID [0-9][0-9]*/GUESTFISH_PID N/'; }
gf() { "$GUESTFISH" "$@" 2>&1 | filter; echo "rc=${PIPESTATUS[0]}"; }
# Errors before anything listens.
gf --remote echo hi
gf --remote=abc echo hi
gf --remote=2147483 echo hi
gf --listen echo hi
gf --listen --remote
gf --remote=1 -a disk.img echo hi
gf --listen -a nonexistent.img
ls -A
# A server without disks.
eval "$("$GUESTFISH" --listen)"; echo "listen rc=$?"
case $GUESTFISH_PID in ''|*[!0-9]*) echo "bad GUESTFISH_PID '$GUESTFISH_PID'" ;; esac
stat -c '%a %F' .guestfish-* "$TMPDIR"/.guestfish-*/socket-$GUESTFISH_PID | filter
g --remote echo "a  b" c
g --remote=$GUESTFISH_PID echo one : echo two
x=$("$GUESTFISH" --remote echo captured); echo "[$x]"
# Failing commands: non-zero exit, the same messages as guestfish cmd.
g --remote list-devices
g --remote no-such-command
g --remote echo first : no-such-command : echo not reached
# Files are relative to the client's directory.
mkdir sub && (cd sub && g --remote sparse disk.img 1M) && ls sub
# Commands from stdin: local commands and pipelines run on the client.
printf '%s\n' 'echo one' '-no-such-command' 'echo two | tr a-z A-Z' '!echo local' \
    'list-devices' 'echo not reached' | "$GUESTFISH" --remote; echo "rc=$?"
# --csh (or a $SHELL ending in csh) prints csh syntax.
line=$(SHELL=/bin/tcsh "$GUESTFISH" --listen); echo "$line" | filter
"$GUESTFISH" --remote="${line##* }" exit; echo "rc=$?"
g --remote exit
gf --remote echo hi
ls -A .guestfish-*
