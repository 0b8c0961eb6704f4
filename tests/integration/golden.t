#!/bin/sh
# Golden files: for each fixture NAME.eml beside a NAME.expect (a bare
# report keeps its full name: bare-report.json.gz.expect), `tlswatch
# ingest --dry-run` must print exactly the expected JSON lines. A new
# reporter quirk = a new pair. Regenerate one with
#   ./tlswatch ingest --dry-run tests/fixtures/NAME.eml > tests/fixtures/NAME.expect
# and read the diff before committing it.
#
# Golden files only catch a change. What each fixture must become is also
# written below, from the figures tests/fixtures/make-fixtures.sh (and the
# hand-written fixtures) put in: each is ingested into a real database and
# its row read back with psql.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

TW=./tlswatch
n=0
for expect in tests/fixtures/*.expect; do
	base=${expect%.expect}
	input=$base
	[ -f "$input" ] || input=$base.eml
	got=$($TW ingest --dry-run "$input" 2>/dev/null)
	is "$got" "$(cat "$expect")" "$(basename "$input"): --dry-run output equals $(basename "$expect")"
	n=$((n + 1))
done
ok "$([ $n -ge 10 ] && echo 1)" "at least 10 golden pairs ($n)"

# fixture | status | report-ids | policies | failure rows | successful | failed | reason (a part of it)
# make-fixtures.sh: each report one sts policy, N successful sessions, 1
# failed, one failure-detail of 1 session. lenient-quirks.eml: three
# policies, 40 ("40" as a string) + 40 + 5 successful, 2 + 2 + 0 (missing)
# failed, two failure-details.
FACTS='rfc-gzip.eml|stored|fixture-rfc-gzip-1|1|1|11|1|
octet-stream-name.eml|stored|fixture-octet-stream-1|1|1|12|1|
zip-as-gzip.eml|stored|fixture-zip-as-gzip-1|1|1|13|1|
rfc2231-filename.eml|stored|fixture-rfc2231-1|1|1|14|1|
gzip-trailing-crlf.eml|stored|fixture-trailing-crlf-1|1|1|15|1|
forwarded-rfc822.eml|stored|fixture-forwarded-1|1|1|16|1|
qp-json.eml|stored|fixture-qp-json-1|1|1|17|1|
no-closing-boundary.eml|stored|fixture-no-closing-1|1|1|18|1|
no-closing-dangling.eml|stored|fixture-dangling-1|1|1|19|1|
contenttype-rewritten.eml|stored|fixture-contenttype-1|1|1|20|1|
description-filename.eml|stored|fixture-description-1|1|1|21|1|
two-reports.eml|stored|fixture-two-a-1 fixture-two-b-1|2|2|45|2|
toplevel-gzip.eml|stored|fixture-top-gzip-1|1|1|24|1|
toplevel-zip.eml|stored|fixture-top-zip-1|1|1|25|1|
bare-report.json|stored|fixture-bare-1|1|1|26|1|
lenient-quirks.eml|stored|fixture-lenient-1|3|2|85|4|
invalid-report.eml|quarantined||0|0|0|0|policies[0].summary.total-failure-session-count
dmarc-zip.eml|quarantined||0|0|0|0|not a TLS report (XML
bounce-dsn.eml|quarantined||0|0|0|0|not a TLS report
junk.eml|quarantined||0|0|0|0|not a mail message
empty.eml|quarantined||0|0|0|0|not a mail message'

pg_start_schema
# The newest message's figures, in the FACTS layout (reason aside).
figures() {
	q "with m as (select * from tlswatch.messages order by id desc limit 1)
	   select m.status || '|' || coalesce((select string_agg(r.report_id, ' ' order by r.report_id)
	          from tlswatch.reports r where r.message_ref = m.id), '')
	   || '|' || (select count(*) from tlswatch.policies p join tlswatch.reports r on r.id = p.report_ref
	              where r.message_ref = m.id)
	   || '|' || (select count(*) from tlswatch.failures f join tlswatch.policies p on p.id = f.policy_ref
	              join tlswatch.reports r on r.id = p.report_ref where r.message_ref = m.id)
	   || '|' || (select coalesce(sum(p.successful_sessions), 0) || '|' || coalesce(sum(p.failed_sessions), 0)
	              from tlswatch.policies p join tlswatch.reports r on r.id = p.report_ref
	              where r.message_ref = m.id)
	   from m"
}
while IFS='|' read -r name status ids policies failures ok failed reason; do
	$TW ingest "tests/fixtures/$name" </dev/null 2>/dev/null; rc=$?
	is "$rc $(figures)" "0 $status|$ids|$policies|$failures|$ok|$failed" "$name: $status, its reports, rows and sessions"
	[ -z "$reason" ] || like "$(q "select reason from tlswatch.messages order by id desc limit 1")" \
		"$(printf '%s' "$reason" | sed 's/[][().*]/\\&/g')" "$name: the reason says '$reason'"
done <<EOF
$FACTS
EOF
is "$(printf '%s\n' "$FACTS" | wc -l)" "$(ls tests/fixtures/*.eml tests/fixtures/bare-report.json | wc -l)" \
	"every fixture message has its line of facts"
done_testing
