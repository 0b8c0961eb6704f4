#!/bin/sh
# valgrind memcheck over tlswatch ingest: every fixture through the pipe
# into PostgreSQL, and every fixture and shared-corpus file with --dry-run.
# Zero memory errors and zero definite leaks (possible leaks are GLib's
# type system and GMime's one-time tables, which live until exit).
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

command -v valgrind >/dev/null 2>&1 || skip_all "valgrind is not installed (apt-get install valgrind)"
ldd ./tlswatch | grep -q libasan && skip_all "a SANITIZE=1 build: ASan and valgrind do not mix"

TW=$PWD/tlswatch
pg_start_schema
tmp=$(mktemp -d)
VG="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite"

for f in tests/fixtures/*.eml; do
	$VG $TW ingest < "$f" >/dev/null 2>"$tmp/err"; rc=$?
	ok "$([ "$rc" -eq 0 ] && ! grep -q '^==' "$tmp/err" && echo 1)" "memcheck, pipe: $(basename "$f")"
	[ "$rc" -eq 0 ] || diag "exit $rc" "$(grep '^==' "$tmp/err" | head -20)"
done

{ ls tests/fixtures/*.eml tests/fixtures/*.json tests/fixtures/*.gz
  [ -d ../shared/corpus ] && find ../shared/corpus -type f ! -name '*.md'; } |
	tr '\n' '\0' | xargs -0 $VG $TW ingest --dry-run >/dev/null 2>"$tmp/err"; rc=$?
is "$rc" 0 "memcheck, --dry-run over every fixture and the shared corpus"
[ "$rc" -eq 0 ] || diag "$(grep '^==' "$tmp/err" | head -20)"

rm -rf "$tmp"
done_testing
