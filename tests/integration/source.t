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

# SQL in printf or concatenation, a whole call at a time (a line break
# cannot hide it); first shown to catch one that is split over lines.
sample=$(mktemp)
printf 'void f(void)\n{\n\tq = g_strdup_printf(\n\t\t"SELECT x"\n\t\t" WHERE id = %%s", id);\n}\n' >"$sample"
like "$(perl tests/lib/sql_printf.pl "$sample")" ":3: g_strdup_printf\\( \"SELECT x\"" \
	"the SQL check finds a printf of SQL split over lines"
rm -f "$sample"
sqlfmt=$(perl tests/lib/sql_printf.pl $files)
is "$sqlfmt" "" "no SQL built with printf or string concatenation"
done_testing
