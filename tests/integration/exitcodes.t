#!/bin/sh
# The exit status is a contract with the MTA: with a message in hand every
# problem that a fix or a retry can cure is 75 (Postfix defers), never 78 or
# 64 (Postfix bounces); commands a person runs say 64 and 78.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

TW=./tlswatch
FX=tests/fixtures
tmp=$(mktemp -d)
printf '[ingest]\nmax-mesage-size = 1M\n' > "$tmp/bad.conf"

$TW ingest --config "$tmp/bad.conf" < $FX/rfc-gzip.eml 2>"$tmp/err"; rc=$?
is "$rc" 75 "pipe, bad configuration: 75"
like "$(cat "$tmp/err")" "^tlswatch: $tmp/bad.conf: \[ingest\] max-mesage-size: unknown key" "pipe, bad configuration: file, group and key on stderr"
TLSWATCH_CONFIG=$tmp/missing.conf $TW ingest < $FX/rfc-gzip.eml 2>/dev/null; rc=$?
is "$rc" 75 "pipe, TLSWATCH_CONFIG names a missing file: 75"
$TW ingest --bogus-option < $FX/rfc-gzip.eml 2>/dev/null; rc=$?
is "$rc" 75 "pipe, unknown option: 75"

$TW ingest --config "$tmp/bad.conf" $FX/rfc-gzip.eml 2>/dev/null; rc=$?
is "$rc" 78 "by hand, bad configuration: 78"
$TW db frobnicate 2>/dev/null; rc=$?
is "$rc" 64 "by hand, bad usage: 64"
$TW ingest --dry-run /nonexistent.eml 2>"$tmp/err"; rc=$?
is "$rc" 66 "by hand, unreadable path: 66"
like "$(cat "$tmp/err")" "0 stored, 0 duplicate, 0 quarantined, 1 failed" "by hand: the summary line counts it"

# Schema missing: the operator must run db init; the mail waits (75).
pg_start
$TW ingest < $FX/rfc-gzip.eml 2>"$tmp/err"; rc=$?
is "$rc" 75 "pipe, schema not initialised: 75"
like "$(cat "$tmp/err")" "db init" "pipe, schema not initialised: says to run db init"
$TW db init >/dev/null
$TW db status > "$tmp/out"
n=$(ls sql/[0-9][0-9][0-9]_*.sql | wc -l)
like "$(cat "$tmp/out")" "^schema version $n, latest $n\$" "db status after init: version $n, one per file in sql/"
$TW db init > "$tmp/out"
like "$(cat "$tmp/out")" "0 migrations applied" "db init twice: nothing applied"

# Nothing on stderr may start with a digit: Postfix would read 4.x.x/5.x.x
# as a status. Every line starts with "tlswatch: ".
$TW ingest < $FX/junk.eml 2>"$tmp/err"
is "$(grep -vc '^tlswatch: ' "$tmp/err")" 0 "every stderr line starts with tlswatch:"

rm -rf "$tmp"
done_testing
