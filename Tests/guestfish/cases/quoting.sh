. "$(dirname "$0")/common.inc"
gs 'echo plain words   with   spaces'
gs 'echo "double quoted" '"'"'single quoted'"'"
gs 'echo "tab\there" "nl\nx" "hex\x41\x42" "oct\101" "q\"uote" "back\\slash"'
gs "echo 'no \\n escapes in single quotes'"
gs 'echo a"b"c mid"quote'
gs 'echo "" "" end'
gs 'echo ~ ~/sub "~"' | sed "s|$HOME|HOME|g"
gs '# a comment line
   # indented comment

echo hash # not a comment after a command'
gs 'echo "unterminated'
gs "echo 'unterminated"
gs 'echo "a"b'
gs 'echo "bad \q escape"'
gs 'echo "\x4"'
