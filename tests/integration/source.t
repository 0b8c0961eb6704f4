#!/bin/sh
# The source itself: clang-format clean, and none of the C functions that
# invite overflows or silent errors (curl's checksrc list): strcpy, strcat,
# sprintf, vsprintf, gets, atoi, atol, strtok. And no SQL assembled with
# printf: every statement is a literal with $n parameters.
. "$(dirname "$0")/../lib/tap.sh"

files=$(find . -path ./var -prune -o \( -name '*.c' -o -name '*.h' \) -print | grep -v '^./common/resources.c$' | sort)

if command -v clang-format >/dev/null 2>&1; then
	bad=$(for f in $files; do clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || echo "$f"; done)
	is "$bad" "" "clang-format: every file formatted (clang-format -i FILE)"
else
	ok 1 "clang-format not installed: formatting not checked # SKIP"
fi

banned=$(grep -nE '\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|strtok)\(' $files)
is "$banned" "" "no banned functions"

sqlfmt=$(grep -nE '(printf|strconcat|g_string_append).*\b(SELECT|INSERT|UPDATE|DELETE)\b' $files)
is "$sqlfmt" "" "no SQL built with printf or string concatenation"
done_testing
