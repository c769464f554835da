. "$(dirname "$0")/common.inc"
mkdir -p src/sub src/empty out
echo one > src/a.txt; echo two > src/sub/b.txt; ln -s a.txt src/link
head -c 100000 /dev/urandom > src/sub/random.bin
g -N fs:ext4:64M -m /dev/sda1 -- mkdir /up : copy-in src /up : ls /up/src : ls /up/src/sub : \
     readlink /up/src/link : copy-out /up/src out : copy-out /up/src/a.txt out : \
     copy-in src/a.txt /nonexistent
diff -r src out/src && echo round trip ok
cat out/a.txt
# upload from stdin, download to stdout, pipes and glob.
echo "from stdin" | g -N fs:ext4:64M -m /dev/sda1 -- upload - /in : download /in - : \
    touch /a1 : touch /a2 : touch /b1 : glob echo /a* : glob echo /nomatch* : glob echo /dev/sd*
cat > s.gf <<'X'
write /in "piped text"
cat /in | tr a-z A-Z
ls / | wc -l
X
g -N fs:ext4:64M -m /dev/sda1 -f s.gf
# edit with a non-interactive "editor"
EDITOR="sed -i s/first/edited/" g -N fs:ext4:64M -m /dev/sda1 -- write /e "first line" : edit /e : cat /e
