#!/bin/sh
# Quarantine is recoverable: a report refused under a too-tight cap is
# listed, shown (headers, reason, raw bytes), and stored by `retry` once the
# cause is gone; what still fails stays quarantined with its new reason.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

TW=./tlswatch
FX=tests/fixtures
pg_start_schema
tmp=$(mktemp -d)

printf '[ingest]\nmax-json-depth = 4\n' > "$tmp/small.conf"
$TW ingest --config "$tmp/small.conf" < $FX/description-filename.eml 2>/dev/null; rc=$?
is "$rc" 0 "a quarantined message exits 0 (handled)"
id=$(q "select max(id) from tlswatch.messages")
is "$(q "select status from tlswatch.messages where id = $id")" quarantined "report deeper than max-json-depth = 4: quarantined"
$TW ingest < $FX/junk.eml 2>/dev/null; rc=$?
is "$rc" 0 "junk: exit 0"
junk=$(q "select max(id) from tlswatch.messages")

list=$($TW quarantine list)
like "$list" "^$id " "list: shows the first id"
like "$list" "exceeds max-json-depth \\(4\\)" "list: shows the reason"
like "$list" "^$junk " "list: shows the junk message"

show=$($TW quarantine show "$id")
like "$show" "^Reason: .*exceeds max-json-depth \\(4\\)" "show: reason"
like "$show" "^Content-Type: multipart/report" "show: the message header"
$TW quarantine show --raw "$id" > "$tmp/raw"; rc=$?
is "$rc" 0 "show --raw: exit 0"
ok "$(cmp -s "$tmp/raw" $FX/description-filename.eml && echo 1)" "show --raw: the bytes as received"

$TW quarantine retry "$id" 2>"$tmp/err"; rc=$?
is "$rc" 0 "retry: exit 0"
is "$(q "select status || coalesce(reason, '') from tlswatch.messages where id = $id")" stored "retry: the row is stored now, reason cleared"
is "$(q "select count(*) from tlswatch.reports where message_ref = $id")" 1 "retry: its report points at the same row"

$TW quarantine retry --all 2>/dev/null; rc=$?
is "$rc" 0 "retry --all: exit 0 (what stays quarantined is handled)"
is "$(q "select status from tlswatch.messages where id = $junk")" quarantined "retry --all: junk stays quarantined"
like "$(q "select reason from tlswatch.messages where id = $junk")" "not a mail message" "retry --all: with its reason"

$TW quarantine show 999999 2>"$tmp/err"; rc=$?
is "$rc" 64 "show of an unknown id: exit 64"
$TW quarantine retry "$id" 2>/dev/null; rc=$?
is "$rc" 64 "retry of a row that is no longer quarantined: exit 64"

rm -rf "$tmp"
done_testing
