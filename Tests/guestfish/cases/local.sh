. "$(dirname "$0")/common.inc"
gs '!echo local command
echo after'
gs '!false
echo not reached'
gs '<! printf "echo inline one\necho inline two\n"
echo after'
gs 'echo piped | tr a-z A-Z
echo "a|b" | tr a b
echo a|b'
gs 'setenv FISHVAR hello
!echo $FISHVAR
unsetenv FISHVAR
!echo "[$FISHVAR]"'
mkdir sub
gs 'lcd sub
!pwd | sed "s|.*/||"
lcd /nonexistent'
gs 'time echo timed' | sed 's/[0-9][0-9]*\.[0-9][0-9]/N.NN/'
gs 'not echo x'
gs 'not mkdir /x'
gs 'event ev close,trace "echo EVENT=\$EVENT \$1"
list-events
set-trace true
get-memsize
delete-event ev
list-events'
