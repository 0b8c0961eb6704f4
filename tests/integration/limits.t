#!/bin/sh
# Caps hold while decoding, not after: a gzip bomb is quarantined with peak
# memory under twice the cap (measured by /usr/bin/time, not trusted), and a
# message over max-message-size is quarantined with its header only.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

TW=$PWD/tlswatch
pg_start_schema
tmp=$(mktemp -d)

# The bomb as a mail part: base64 of a gzip that inflates far past 64 MiB.
{
	printf 'From: bomber@example.org\nTo: tlsrpt@example.com\nSubject: Report Domain: example.com\n'
	printf 'MIME-Version: 1.0\nContent-Type: multipart/report; report-type=tlsrpt; boundary=B\n\n'
	printf -- '--B\nContent-Type: text/plain\n\nA report.\n--B\n'
	printf 'Content-Type: application/tlsrpt+gzip\nContent-Transfer-Encoding: base64\n\n'
	base64 tests/fixtures/bomb.json.gz
	printf -- '--B--\n'
} > "$tmp/bomb.eml"

/usr/bin/time -f '%M' -o "$tmp/rss" $TW ingest < "$tmp/bomb.eml" 2>"$tmp/err"; rc=$?
is "$rc" 0 "bomb: exit 0"
is "$(q "select status from tlswatch.messages order by id desc limit 1")" quarantined "bomb: quarantined"
like "$(q "select reason from tlswatch.messages order by id desc limit 1")" "exceeds 67108864 bytes|max-gzip-ratio" "bomb: the reason names the cap"
rss_kib=$(tail -n 1 "$tmp/rss")
ok "$([ "$rss_kib" -lt $((2 * 64 * 1024)) ] && echo 1)" "bomb: peak RSS ${rss_kib} KiB is under 2x the 64 MiB cap"

# A smaller cap from the configuration holds the same way.
printf '[ingest]\nmax-report-size = 1M\n' > "$tmp/small.conf"
$TW ingest --config "$tmp/small.conf" < "$tmp/bomb.eml" 2>/dev/null
like "$(q "select reason from tlswatch.messages order by id desc limit 1")" "exceeds 1048576 bytes" "max-report-size = 1M: the reason names 1 MiB"

# A message over max-message-size: quarantined, header only.
printf '[ingest]\nmax-message-size = 1K\n' > "$tmp/tiny.conf"
$TW ingest --config "$tmp/tiny.conf" < tests/fixtures/rfc-gzip.eml 2>/dev/null; rc=$?
is "$rc" 0 "oversized message: exit 0"
is "$(q "select status from tlswatch.messages order by id desc limit 1")" quarantined "oversized message: quarantined"
like "$(q "select reason from tlswatch.messages order by id desc limit 1")" "larger than max-message-size" "oversized message: reason names the cap"
hdr=$(sed -n '1,/^\r\{0,1\}$/p' tests/fixtures/rfc-gzip.eml | wc -c)
is "$(q "select octet_length(raw) from tlswatch.messages order by id desc limit 1")" "$hdr" "oversized message: only the header is kept"
like "$(q "select from_addr from tlswatch.messages order by id desc limit 1")" "@" "oversized message: From still recorded"

rm -rf "$tmp"
done_testing
