. "$(dirname "$0")/common.inc"
# Ctrl-C (SIGINT) during an upload cancels it; the session goes on and the
# appliance stays usable.
head -c 300M /dev/urandom > big.bin
mkfifo cmds
"$GUESTFISH" -N fs:ext4:512M -m /dev/sda1 < cmds > out.txt 2>&1 &
pid=$!
exec 3> cmds
printf '%s\n' 'mkdir /sub' 'echo started' '-upload big.bin /sub/big' 'echo ok' 'ls /' 'exit' >&3
# Wait until the upload is under way, then interrupt it.
for i in $(seq 1 300); do grep -q started out.txt && break; sleep 0.1; done
sleep 1
kill -INT $pid
exec 3>&-
wait $pid; echo "rc=$?"
sed 's/^\*stdin\*:[0-9]*: //' out.txt
rm -f big.bin
