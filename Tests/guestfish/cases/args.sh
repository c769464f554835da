. "$(dirname "$0")/common.inc"
gs 'mkdir'
gs 'mkdir /a /b'
gs 'set-memsize 12x'
gs 'set-memsize abc'
gs 'set-memsize 99999999999'
gs 'set-memsize 0x200
get-memsize
set-memsize 01000
get-memsize
set-memsize 1k
get-memsize'
gs 'set-verbose maybe'
gs 'set-verbose yes
get-verbose
set-verbose off
get-verbose'
gs 'add /dev/null foo:bar'
gs 'add /dev/null readonly:true readonly:false'
gs 'add /dev/null readonly:perhaps'
gs 'add-drive /dev/null format:raw readonly:true
add-ro /dev/null
add_drive_ro /dev/null'
gs 'set-backend-settings "a b=c  \"d e\""
get-backend-settings'
gs 'set-append ""
get-append
set-append "x y"
get-append'
gs 'config -foo ""'
gs 'get-umask'
gs 'disk-virtual-size /dev/null'
gs 'supported'
