#!/bin/sh
# tlswatch db prune: removes exactly the reports before the cutoff's month
# (whole partitions, and row by row in *_past), their keys, the messages
# that deliver nothing any more and the alert history, and nothing else;
# --dry-run counts the same and changes nothing; a cutoff the alert rules
# or the digest still read is refused. Expected counts are computed here
# from the dates the test wrote, not asked of prune.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

TW=./tlswatch
pg_start_schema
tmp=$(mktemp -d)
trap 'pg_cleanup; rm -rf "$tmp"' EXIT

# A bare report: org, id, start date, domain; one failure-detail each.
report() {
	cat > "$tmp/$2.json" <<EOF
{"organization-name": "$1", "report-id": "$2", "contact-info": "tlsrpt@$1.example",
 "date-range": {"start-datetime": "$3", "end-datetime": "$3"},
 "policies": [{"policy": {"policy-type": "sts", "policy-domain": "$4",
   "policy-string": ["version: STSv1", "mode: testing"], "mx-host": ["mx.$4"]},
  "summary": {"total-successful-session-count": 10, "total-failure-session-count": 2},
  "failure-details": [{"result-type": "certificate-expired", "receiving-mx-hostname": "mx.$4",
   "failed-session-count": 2}]}]}
EOF
}

# Months of this database: partitions from two months back (db init).
m() { date -u -d "$(date -u +%Y-%m-15) $1 month" +%Y-%m; }
report a old-1999 1999-03-04T00:00:00Z a.example
report a m-2 "$(m -2)-05T00:00:00Z" a.example
report b m-2b "$(m -2)-28T00:00:00Z" b.example
report a m-1 "$(m -1)-05T00:00:00Z" a.example
report a m0 "$(m 0)-01T00:00:00Z" a.example
report a y2031 2031-06-01T00:00:00Z a.example
for f in "$tmp"/*.json; do $TW ingest "$f" 2>/dev/null || bail "ingest $f failed"; done
$TW ingest "$tmp/m-1.json" 2>/dev/null # a duplicate message, delivering nothing
# Prune runs "a year on" (--now, below): the failed row is recent then.
now=$(date -u -d "$(m 13)-10" +%Y-%m-%dT00:00:00Z)
q "insert into tlswatch.alerts (rule, domain, event, webhook, window_start, window_end, fired_at,
     figures, payload, state, next_attempt_at, created_at)
   select 'r', 'a.example', 'firing', 'w', now(), now(), now(), '{}', '', s, now(), c
   from (values ('sent', now() - interval '3 years'), ('pending', now() - interval '3 years'),
                ('failed', '$now'::timestamptz - interval '1 day')) v(s, c)" || bail "alert rows"

counts() {
	q "select (select count(*) from tlswatch.reports) || ' ' || (select count(*) from tlswatch.policies)
	   || ' ' || (select count(*) from tlswatch.failures) || ' ' || (select count(*) from tlswatch.domain_sessions)
	   || ' ' || (select count(*) from tlswatch.report_keys)
	   || ' ' || (select count(*) from tlswatch.messages) || ' ' || (select count(*) from tlswatch.alerts)"
}
is "$(counts)" "6 6 6 6 6 7 3" "before: 6 reports (policies, failures, sessions per domain, keys), 7 messages, 3 alert rows"

# Refusals: the default floor (62 days for the digest), and a rule's need.
$TW db prune --older-than 10d > "$tmp/out" 2> "$tmp/err"
is "$?" 64 "a 10-day cutoff: refused, exit 64"
like "$(cat "$tmp/err")" "refusing a cutoff of 10 days.*last 62 days" "the refusal says what is read"
printf '[webhook w]\nurl = http://127.0.0.1:9/\n[rule quiet]\nkind = silence\nsilent-for = 60d\nnotify = w\n' > "$tmp/conf"
$TW db prune --config "$tmp/conf" --older-than 80d 2> "$tmp/err" >/dev/null
is "$?" 64 "a silence rule of 60d (+30d lookback): an 80-day cutoff is refused"
like "$(cat "$tmp/err")" "last 90 days" "the refusal names the rule's 90 days"
$TW db prune 2> "$tmp/err" >/dev/null
is "$?" 64 "no --older-than and no [database] retention: refused"
is "$(counts)" "6 6 6 6 6 7 3" "refusals changed nothing"

# A year on: the cutoff is 400 days before that; the last month boundary
# at or before it decides.
cutoff=$(date -u -d "$now -400 days" +%s)
boundary=$(date -u -d "$(date -u -d "@$cutoff" +%Y-%m-01)" +%Y-%m-%dT00:00:00Z)
gone=$(q "select count(*) from tlswatch.reports where date_start < '$boundary'")
is "$gone" 4 "the test's arithmetic: 4 reports start before $boundary (1999, two of month -2, month -1)"

$TW db prune --older-than 400d --now "$now" --dry-run > "$tmp/dry" 2>&1
is "$?" 0 "dry run: exit 0"
is "$(counts)" "6 6 6 6 6 7 3" "dry run: nothing removed"
like "$(cat "$tmp/dry")" "^would remove \\(cutoff " "dry run: says would"

$TW db prune --older-than 400d --now "$now" > "$tmp/out" 2>&1
is "$?" 0 "prune: exit 0"
# Left: m0 and 2031 reports; messages: theirs (2): the duplicate and the
# others were received before the cutoff and deliver nothing now; alerts:
# the pending row stays whatever its age, the old sent one goes, the
# failed one is recent.
is "$(counts)" "2 2 2 2 2 2 2" "after: exactly the reports from $boundary on, their messages, recent and pending alerts"
is "$(q "select string_agg(report_id, ',' order by report_id) from tlswatch.reports")" "m0,y2031" \
	"the reports kept are m0 and y2031"
is "$(q "select string_agg(state, ',' order by state) from tlswatch.alerts")" "failed,pending" \
	"alerts: the old sent row went, pending and recent ones stay"
dry_total=$(awk '$1 ~ /^reports/ { n += $2 } END { print n + 0 }' "$tmp/dry")
real_total=$(awk '$1 ~ /^reports/ { n += $2 } END { print n + 0 }' "$tmp/out")
is "$dry_total $real_total" "4 4" "dry run and prune name the same 4 reports"
like "$(cat "$tmp/out")" "reports_$(m -2 | tr - _) +2 rows" "the output names the dropped partition and its rows"
is "$(q "select count(*) from pg_class where relname = 'reports_$(m -2 | tr - _)'")" 0 \
	"month -2's partition is gone"
is "$(q "select pg_get_expr(relpartbound, oid) from pg_class where relname = 'reports_past'")" \
	"FOR VALUES FROM (MINVALUE) TO ('$(date -u -d "$boundary" '+%Y-%m-%d %H:%M:%S')+00')" \
	"reports_past now ends where the first month kept begins"

# A report of a pruned month delivered again is accepted (its key went
# with it), lands in reports_past, and the digest still works.
$TW ingest "$tmp/m-1.json" 2> "$tmp/err"
like "$(tail -n 1 "$tmp/err")" "1 stored" "a pruned report delivered again is stored"
is "$(q "select tableoid::regclass from tlswatch.reports where report_id = 'm-1'")" "reports_past" \
	"it lands in reports_past"
$TW digest --since 7d > /dev/null
is "$?" 0 "digest runs after prune"

done_testing
