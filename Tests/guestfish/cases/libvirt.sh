. "$(dirname "$0")/common.inc"
. "$(dirname "$0")/libvirt.inc"
# -c/-d and the add-domain command without an appliance.
truncate -s 64M disk.img
qemu-img create -q -f qcow2 extra.qcow2 32M
libvirt_node
# Adding the disks works; a running domain only read-only.
g -c "$U" -d off -- echo added off 2>&1 | filter
g --connect="$U" --domain="$OFF_UUID" -- echo added by UUID 2>&1 | filter
g -c "$U" -d running -- echo not reached 2>&1 | filter
g --ro -c "$U" -d running -- echo added running read-only 2>&1 | filter
g -c "$U" -d nope 2>&1 | filter
# The command (and its alias) returns the number of disks.
gs "add-domain off libvirturi:$U" 2>&1 | filter
gs "domain off libvirturi:$U readonlydisk:ignore" 2>&1 | filter
gs "domain off libvirturi:$U readonlydisk:error" 2>&1 | filter
gs "domain off libvirturi:$U readonly:true readonlydisk:error" 2>&1 | filter
gs "domain off libvirturi:$U live:true" 2>&1 | filter
gs "domain $OFF_UUID libvirturi:$U" 2>&1 | filter
gs "domain $OFF_UUID libvirturi:$U allowuuid:true" 2>&1 | filter
