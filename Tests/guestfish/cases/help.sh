. "$(dirname "$0")/common.inc"
gs 'help'
gs 'help mkdir'
gs 'help add'
gs 'help glob'
gs 'help nosuch'
gs 'help echo extra'
g -h echo
g -h nosuch
"$GUESTFISH" -h | head -3
"$GUESTFISH" -h | grep -E '^(copy-in|mkdir|run|add-ro|quit) '
n=$("$GUESTFISH" -h | wc -l); [ "$n" -gt 200 ] && echo "long list ok"
"$GUESTFISH" --help | head -4
g --nosuchoption
g -N help | head -3
