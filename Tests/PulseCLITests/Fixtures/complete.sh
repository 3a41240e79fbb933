#!/bin/bash
# Completes a command line with a generated bash completion script, as bash does on Tab:
#   complete.sh SCRIPT WORD... (the last word is the one being typed, "" for a new one)
# Prints the candidates, one per line, sorted.
script="$1"; shift
source "$script"
COMP_WORDS=("$@")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}
COMPREPLY=()
previous=""
if (( COMP_CWORD > 0 )); then previous="${COMP_WORDS[COMP_CWORD-1]}"; fi
_pulse "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "$previous"
printf '%s\n' "${COMPREPLY[@]}" | sort
