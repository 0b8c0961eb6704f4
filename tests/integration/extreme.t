#!/bin/sh
# Counts up to 2^63-1 are legal JSON and anyone can mail a rua address:
# two such reports for big.example, beside an ordinary small.example.
# Every digest format and alert --list must exit 0, give small.example its
# exact figures (with or without --domain), and show big.example's sums
# stopped at 9223372036854775807 and marked capped, never wrapped and never
# a database error (issue 11: it was `bigint out of range`, exit 65, for
# every domain, and "1 failed of -9223372036854775808").
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"
. "$(dirname "$0")/../lib/digest_gen.sh"
. "$(dirname "$0")/../lib/alert_gen.sh"

TW=./tlswatch
MAX=9223372036854775807
pg_start_schema
T=$PG_DIR/extreme
mkdir -p "$T/r"
alert_report "$T/r" "Google Inc." big-1 2024-06-05T06:00:00Z big.example $MAX $MAX \
	"$(gen_detail certificate-expired mx1.big.example 192.0.2.1 $MAX)"
alert_report "$T/r" "Microsoft Corporation" big-2 2024-06-05T07:00:00Z big.example $MAX $MAX \
	"$(gen_detail certificate-expired mx1.big.example 192.0.2.1 $MAX)"
alert_report "$T/r" "Google Inc." small-1 2024-06-05T06:00:00Z small.example 100 5 \
	"$(gen_detail starttls-not-supported mx.small.example 192.0.2.7 5)"
$TW ingest "$T"/r/*.json 2>"$T/err"; rc=$?
is "$rc" 0 "reports with counts of 2^63-1 are ingested"
like "$(cat "$T/err")" "3 stored, 0 duplicate, 0 quarantined, 0 failed" "all three stored"

RANGE="--from 2024-06-04 --to 2024-06-05"
for fmt in text markdown html json; do
	$TW digest $RANGE --format $fmt >"$T/d.$fmt" 2>"$T/err"; rc=$?
	is "$rc" 0 "digest --format $fmt: exit 0 (stderr: $(head -c 200 "$T/err"))"
done
is "$(jget "$T/d.json" '{domains}[1]{domain}') $(jget "$T/d.json" '{domains}[1]{sessions}{successful}') $(jget "$T/d.json" '{domains}[1]{sessions}{failed}') $(jget "$T/d.json" '{domains}[1]{capped}')" \
	"small.example 100 5 false" "json: small.example exact, not capped"
is "$(jget "$T/d.json" '{domains}[0]{domain}') $(jget "$T/d.json" '{domains}[0]{sessions}{successful}') $(jget "$T/d.json" '{domains}[0]{sessions}{failed}') $(jget "$T/d.json" '{domains}[0]{sessions}{total}') $(jget "$T/d.json" '{domains}[0]{capped}')" \
	"big.example $MAX $MAX $MAX true" "json: big.example's sums stop at 2^63-1, capped"
is "$(jget "$T/d.json" '{domains}[0]{sessions}{failure_rate}')" 50 "json: big.example's rate from the counts, not the capped total"
like "$(cat "$T/d.text")" "small.example:.*
  sessions          105 " "text: small.example's sessions"
like "$(cat "$T/d.text")" "  \\(capped\\)  " "text: the capped domain says so"
unlike "$(cat "$T/d.text" "$T/d.markdown" "$T/d.html")" "-922337" "no wrapped negative figure in any format"
like "$(cat "$T/d.markdown")" "Capped:" "markdown: says capped"

$TW digest $RANGE --domain small.example --format json >"$T/one.json" 2>"$T/err"; rc=$?
is "$rc" 0 "digest --domain small.example: exit 0 beside big.example"
is "$(jget "$T/one.json" '{domains}[0]{sessions}{total}') $(jget "$T/one.json" '{domains}[1]')" "105 null" \
	"--domain small.example: its figures only"

printf '[webhook hook]\nurl = http://127.0.0.1:9/x\n[rule any]\nwindow = 24h\nmin-failed-sessions = 1\nnotify = hook\n' >"$T/a.conf"
$TW alert --config "$T/a.conf" --now 2024-06-05T12:00:00Z --list >"$T/list" 2>"$T/err"; rc=$?
is "$rc" 0 "alert --list: exit 0"
like "$(cat "$T/list")" "big.example: $MAX failed of $MAX \\(50.00%\\) \\(capped\\), firing" "alert --list: big.example capped, 50 %"
like "$(cat "$T/list")" "small.example: 5 failed of 105 \\(4.76%\\), firing" "alert --list: small.example exact"
like "$(cat "$T/err")" "rule any, big.example: figures stopped at $MAX" "alert: a warning names the capped domain"
done_testing
