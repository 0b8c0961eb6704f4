#!/bin/sh
# Every cap on hostile input holds and says which config key stopped the
# message: each case is quarantined (exit 0) with a reason naming the key,
# except max-processing-time, which exits 75 with nothing committed so
# that the MTA retries. (max-message-size and the bomb against
# max-report-size are in limits.t.)
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"
. "$(dirname "$0")/../lib/hostile.sh"

TW=$PWD/tlswatch
pg_start_schema
tmp=$(mktemp -d)

conf() { printf '[ingest]\n%s\n' "$1" > "$tmp/c.conf"; }

quarantined() { # NAME KEY-ERE MESSAGE-FILE
	$TW ingest --config "$tmp/c.conf" < "$3" 2>"$tmp/err"; rc=$?
	is "$rc" 0 "$1: exit 0"
	is "$(last status)" quarantined "$1: quarantined"
	like "$(last reason)" "$2" "$1: the reason names the key"
}

# MIME parts and nesting.
{
	printf 'From: a@example.net\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=B\n\n'
	for i in 1 2 3 4 5; do printf -- '--B\nContent-Type: text/plain\n\npart %s\n' $i; done
	printf -- '--B--\n'
} > "$tmp/wide.eml"
conf 'max-mime-parts = 3'
quarantined max-mime-parts 'over max-mime-parts, 3\)' "$tmp/wide.eml"
{
	printf 'From: a@example.net\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=B1\n\n'
	for i in 2 3 4; do printf -- '--B%s\nContent-Type: multipart/mixed; boundary=B%s\n\n' $((i - 1)) $i; done
	printf -- '--B4\nContent-Type: text/plain\n\ndeep\n--B4--\n--B3--\n--B2--\n--B1--\n'
} > "$tmp/deep.eml"
conf 'max-mime-depth = 2'
quarantined max-mime-depth 'over max-mime-depth, 2 levels\)' "$tmp/deep.eml"

# The JSON document: its size (max-report-size counts the decoded bytes,
# plain JSON too), depth, policies, failure-details, string lengths.
report_json '$r->{"padding"} = "x" x 3000' > "$tmp/big.json"
mail_part application/tlsrpt+json "$tmp/big.json" > "$tmp/big.eml"
conf 'max-report-size = 2K'
quarantined 'max-report-size (document size)' 'exceeds 2048 bytes \(max-report-size\)' "$tmp/big.eml"

report_json > "$tmp/plain.json"
mail_part application/tlsrpt+json "$tmp/plain.json" > "$tmp/plain.eml"
conf 'max-json-depth = 4'
quarantined max-json-depth 'exceeds max-json-depth \(4\)' "$tmp/plain.eml"

report_json 'push @{$r->{policies}}, $r->{policies}[0]' > "$tmp/two.json"
mail_part application/tlsrpt+json "$tmp/two.json" > "$tmp/two.eml"
conf 'max-policies = 1'
quarantined max-policies 'policies: 2 entries exceed max-policies \(1\)' "$tmp/two.eml"

report_json 'my $f = $r->{policies}[0]{"failure-details"}; push @$f, $f->[0]' > "$tmp/fd.json"
mail_part application/tlsrpt+json "$tmp/fd.json" > "$tmp/fd.eml"
conf 'max-failure-details = 1'
quarantined max-failure-details '2 entries exceed max-failure-details \(1 per report\)' "$tmp/fd.eml"
# The MTA's first line (what Postfix keeps): the outcome and the cause
# without the part's label, at most 88 characters after "tlswatch: ", cut with "..." (issue 12).
is "$(head -n 1 "$tmp/err")" \
	"tlswatch: quarantined: invalid report: policies[0].failure-details: 2 entries exceed max-failur..." \
	"the first stderr line: outcome first, the cause cut to fit Postfix's status text"

report_json '$r->{"contact-info"} = "a" x 65537' > "$tmp/long.json"
mail_part application/tlsrpt+json "$tmp/long.json" > "$tmp/long.eml"
conf ''
quarantined 'max-string-length (default)' \
	'contact-info: string length of 65537 exceeds max-string-length \(65536\)' "$tmp/long.eml"

# The caps kept per message (watchdog_message_begin in ingest.c).
conf 'max-string-length = 100'
report_json '$r->{"contact-info"} = "a" x 101' > "$tmp/l101.json"
mail_part application/tlsrpt+json "$tmp/l101.json" > "$tmp/l101.eml"
$TW ingest --config "$tmp/c.conf" < "$tmp/l101.eml" 2>/dev/null
like "$(last reason)" 'exceeds max-string-length \(100\)' 'max-string-length = 100 holds'

report_json '$r->{"padding"} = " " x (3 * 1024 * 1024)' | gzip -9 > "$tmp/ratio.json.gz"
mail_part application/tlsrpt+gzip "$tmp/ratio.json.gz" > "$tmp/ratio.eml"
conf ''
$TW ingest --config "$tmp/c.conf" < "$tmp/ratio.eml" 2>/dev/null; rc=$?
is "$rc" 0 "max-gzip-ratio: exit 0"
like "$(last reason)" 'gzip ratio exceeds max-gzip-ratio \(200:1\)' \
	'max-gzip-ratio: quarantined, the reason names the key'

conf 'max-total-report-size = 2K'
$TW ingest --config "$tmp/c.conf" < "$tmp/big.eml" 2>/dev/null
like "$(last reason)" 'left of max-total-report-size' \
	'max-total-report-size: quarantined, the reason names the key'

# max-processing-time: the database hangs (a lock held elsewhere), the
# watchdog stops ingest with 75 and one line; nothing is committed.
before=$(q "select count(*) from tlswatch.messages")
psql -XAtq -c "begin; lock table tlswatch.messages in access exclusive mode; select pg_sleep(6); commit" >/dev/null 2>&1 &
locker=$!
sleep 1
conf 'max-processing-time = 1'
start=$(date +%s)
$TW ingest --config "$tmp/c.conf" < tests/fixtures/rfc-gzip.eml 2>"$tmp/err"; rc=$?
took=$(($(date +%s) - start))
wait "$locker"
like "$rc" '^75$' "max-processing-time: exit 75 (after ${took} s)"
like "$(cat "$tmp/err")" 'not done within max-processing-time \(1 s\): deferred' \
	'max-processing-time: one line on stderr names the key'
like "$(q "select count(*) from tlswatch.messages")" "^$before\$" \
	"max-processing-time: nothing committed"

rm -rf "$tmp"
done_testing
