. "$(dirname "$0")/common.inc"
# A failing command stops a script; "-" in front of it does not.
cat > s1.gf <<'X'
echo one
mkdir /x
echo not reached
X
g -f s1.gf
cat > s2.gf <<'X'
#!/usr/bin/guestfish -f
echo one
-mkdir /x
  -  mkdir /y
echo reached
X
g -f s2.gf
# The same on stdin.
gs 'echo in
mkdir /x
echo not reached'
gs '-mkdir /x
echo reached'
# A script file that is executable with a #! line.
sed "1s|.*|#!$GUESTFISH -f|" s2.gf > s3.gf && chmod +x s3.gf
./s3.gf; echo "rc=$?"
g -f nonexistent.gf
# Unknown commands.
gs 'nosuchcommand a b'
g -- nosuchcommand
# Commands on the command line, separated by ':'.
g -- echo one : echo two : set-memsize 300 : get-memsize
g echo first : mkdir /x : echo not reached
