. "$(dirname "$0")/common.inc"
# alloc and sparse create the files and add them (no appliance needed).
gs 'alloc full.img 2M
sparse sparse.img 10M
disk-virtual-size full.img
disk-virtual-size sparse.img
disk-format sparse.img'
stat -c '%n %s' full.img sparse.img
[ "$(du -k sparse.img | cut -f1)" -lt 100 ] && echo sparse.img is sparse
gs 'alloc bad.img 12Q'
g --listen -f script.gf
g -N nosuchtype
