#!/bin/sh
# Monthly partitions of reports, policies, failures (migration 003) and
# domain_sessions (013) at their edges, on a fresh database, with reports ingested by tlswatch
# itself: the last second (and the last microsecond) of a month and the
# first second of the next, zone offsets that move a report across the
# UTC month boundary, the last month created ahead and the first beyond
# it, a report years ahead (reports_future), one in 1999 (reports_past),
# a leap day. Each report's policies and failures must sit in the
# partition of the same month as the report: the expected names are
# computed here from the dates, by date(1). Then
# tlswatch.create_partitions() moves the years-ahead rows into months of
# their own without losing or doubling a row (every row compared before
# and after), the upper catch-all starts after the last month asked for,
# every monthly range is exactly its month, a second call does nothing,
# ingest goes on, and a re-delivery of a moved report is a duplicate.
# Last, the same month boundaries on a database created, filled and moved
# forward by sessions in other time zones (PGTZ): months are UTC months.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

TW=./tlswatch
[ -x "$TW" ] || bail "$TW is not built (make all)"
pg_start_schema
T=$PG_DIR/partitions
mkdir -p "$T/r" "$T/s"

# Months relative to today, so the test means the same every month. A
# new database has partitions from two years back (BACK) to DB_MONTHS_AHEAD
# (common/db.h) ahead: the last is read here, from the catalog.
this=$(date -u +%Y-%m-01)
this_s=$(date -u -d "$this" +%s)
month() { date -u -d "$this $1 month" +%Y_%m; } # OFFSET: YYYY_MM
first() { date -u -d "$this $1 month" +%Y-%m-01; } # OFFSET: its first day
MONTHLY="select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid
	where i.inhparent = 'tlswatch.reports'::regclass and c.relname ~ '^reports_[0-9]{4}_[0-9]{2}\$' order by 1"
oldest=$(q "$MONTHLY" | head -n 1)
newest=$(q "$MONTHLY" | tail -n 1)
BACK=-24
is "$oldest" "reports_$(month $BACK)" "a new database starts its months two years back"
ahead=0
while [ "reports_$(month $ahead)" != "$newest" ]; do
	ahead=$((ahead + 1))
	[ "$ahead" -le 24 ] || bail "no monthly reports partition up to two years ahead (last: $newest)"
done
ok "$([ "$ahead" -ge 3 ] && echo 1)" "partitions exist $ahead months ahead (at least three)"
beyond=$((ahead + 1))
y=$(date -u +%Y)
far=$((y + 5))
# The one leap year among y+2..y+5: its 29th of February is beyond the
# months created ahead, and before far-06.
for l in $((y + 2)) $((y + 3)) $((y + 4)) $((y + 5)); do
	[ $((l % 4)) -eq 0 ] && { [ $((l % 100)) -ne 0 ] || [ $((l % 400)) -eq 0 ]; } && leap=$l
done
is "$(date -u -d "$leap-02-29" +%F)" "$leap-02-29" "$leap has a 29th of February"
diag "this month $(month 0), far report in $far-06, leap day $leap-02-29"

# mk ID START [ORG]: a report for p.example from START (RFC 3339) to a day
# later, two policies (sts with two failure details, tlsa with one).
mk() {
	printf '{"organization-name":"%s","date-range":{"start-datetime":"%s","end-datetime":"%s"},"contact-info":"tlsrpt@example.net","report-id":"%s","policies":[{"policy":{"policy-type":"sts","policy-string":["version: STSv1","mode: testing","mx: *.p.example","max_age: 86400"],"policy-domain":"p.example","mx-host":["*.p.example"]},"summary":{"total-successful-session-count":100,"total-failure-session-count":7},"failure-details":[{"result-type":"certificate-expired","sending-mta-ip":"192.0.2.1","receiving-mx-hostname":"mx1.p.example","failed-session-count":5},{"result-type":"starttls-not-supported","sending-mta-ip":"192.0.2.2","receiving-mx-hostname":"mx2.p.example","failed-session-count":2}]},{"policy":{"policy-type":"tlsa","policy-string":["3 1 1 AB"],"policy-domain":"p.example","mx-host":["mx1.p.example"]},"summary":{"total-successful-session-count":100,"total-failure-session-count":7},"failure-details":[{"result-type":"dnssec-invalid","receiving-mx-hostname":"mx1.p.example","failed-session-count":7}]}]}\n' \
		"${3:-Partition Org}" "$2" "$(date -u -d "@$(($(date -u -d "$(echo "$2" | sed 's/T/ /; s/Z$//')" +%s) + 86400))" +%Y-%m-%dT%H:%M:%SZ)" \
		"$1" >"$T/r/$1.json"
}
# The cases: ID START EXPECTED-SUFFIX (of reports_, policies_, failures_).
cat >"$T/cases" <<EOF
last-second $(date -u -d "@$((this_s - 1))" +%Y-%m-%dT%H:%M:%SZ) $(month -1)
last-microsecond $(date -u -d "@$((this_s - 1))" +%Y-%m-%dT%H:%M:%S).999999Z $(month -1)
first-second ${this}T00:00:00Z $(month 0)
plus-one-hour ${this}T00:30:00+01:00 $(month -1)
minus-one-hour $(date -u -d "@$((this_s - 1800))" +%Y-%m-%dT%H:%M:%S)-01:00 $(month 0)
no-zone ${this}T00:00:00 $(month 0)
last-ahead $(date -u -d "@$(($(date -u -d "$(first $beyond)" +%s) - 1))" +%Y-%m-%dT%H:%M:%SZ) $(month $ahead)
first-beyond $(first $beyond)T00:00:00Z future
leap-day $leap-02-29T12:00:00Z future
far $far-06-01T00:00:00Z future
y1999 1999-01-01T00:00:00Z past
EOF
while read -r id start want; do mk "$id" "$start"; done <"$T/cases"
$TW ingest "$T"/r/*.json 2>"$T/err"; rc=$?
is "$rc" 0 "ingest of $(wc -l <"$T/cases") reports: exit 0"
like "$(cat "$T/err")" "$(wc -l <"$T/cases" | tr -d ' ') stored, 0 duplicate, 0 quarantined, 0 failed" "every report stored"

# where ID: the partitions of the report, of its policies and of its
# failures, and how many rows each has, then the partition and rows of its
# sessions per domain ("reports_2026_11 policies_2026_11 failures_2026_11
# 1 2 3 domain_sessions_2026_11 1": both policies are p.example's).
where() {
	q "select (select string_agg(distinct c.relname, ',') from tlswatch.reports r join pg_class c on c.oid = r.tableoid where r.report_id = '$1')
		|| ' ' || (select string_agg(distinct c.relname, ',') from tlswatch.reports r join tlswatch.policies p on p.report_ref = r.id
			join pg_class c on c.oid = p.tableoid where r.report_id = '$1')
		|| ' ' || (select string_agg(distinct c.relname, ',') from tlswatch.reports r join tlswatch.policies p on p.report_ref = r.id
			join tlswatch.failures f on f.policy_ref = p.id join pg_class c on c.oid = f.tableoid where r.report_id = '$1')
		|| ' ' || (select count(*) from tlswatch.reports r where r.report_id = '$1')
		|| ' ' || (select count(*) from tlswatch.reports r join tlswatch.policies p on p.report_ref = r.id where r.report_id = '$1')
		|| ' ' || (select count(*) from tlswatch.reports r join tlswatch.policies p on p.report_ref = r.id
			join tlswatch.failures f on f.policy_ref = p.id where r.report_id = '$1')
		|| ' ' || (select string_agg(distinct c.relname, ',') || ' ' || count(*) from tlswatch.domain_sessions d
			join pg_class c on c.oid = d.tableoid where d.report_id = '$1')"
}
while read -r id start want; do
	is "$(where "$id")" "reports_$want policies_$want failures_$want 1 2 3 domain_sessions_$want 1" "$id ($start): report, policies, failures in *_$want"
done <"$T/cases"
is "$(q "select to_char(date_start at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') from tlswatch.reports where report_id = 'last-microsecond'")" \
	"$(date -u -d "@$((this_s - 1))" '+%Y-%m-%d %H:%M:%S').000000" \
	"the last microsecond of the month is stored as its second (ingest keeps whole seconds), not rounded into the next month"

# inexact TABLE: the monthly partitions of TABLE whose range is not exactly
# their UTC month, with their bounds ("-": none).
inexact() {
	q "set timezone = 'UTC';
		select coalesce(string_agg(c.relname || ' ' || pg_get_expr(c.relpartbound, c.oid), '; ' order by c.relname), '-')
		from pg_inherits i join pg_class c on c.oid = i.inhrelid
		cross join lateral (select to_timestamp(right(c.relname, 7), 'YYYY_MM') at time zone 'UTC' as m) x
		where i.inhparent = 'tlswatch.$1'::regclass and c.relname ~ '_[0-9]{4}_[0-9]{2}\$'
		and pg_get_expr(c.relpartbound, c.oid) <> format('FOR VALUES FROM (''%s'') TO (''%s'')',
			to_char(x.m, 'YYYY-MM-DD') || ' 00:00:00+00', to_char(x.m + interval '1 month', 'YYYY-MM-DD') || ' 00:00:00+00')"
}
for t in reports policies failures domain_sessions; do
	is "$(inexact $t)" - "$t: a new database's monthly partitions cover exactly their months"
done

# ---- create_partitions ---------------------------------------------------------
# Every row of the three tables, to compare after the move.
ROWS_R="select id || ' ' || report_id || ' ' || date_start || ' ' || md5(original) from tlswatch.reports order by id"
ROWS_P="select id || ' ' || report_ref || ' ' || policy_index || ' ' || date_start || ' ' || policy_type || ' ' || successful_sessions
	|| ' ' || failed_sessions from tlswatch.policies order by id"
ROWS_F="select policy_ref || ' ' || detail_index || ' ' || date_start || ' ' || result_type || ' ' || failed_sessions
	|| ' ' || coalesce(host(sending_mta_ip), '-') from tlswatch.failures order by policy_ref, detail_index"
ROWS_S="select report_ref || ' ' || date_start || ' ' || policy_domain || ' ' || successful_sessions || ' '
	|| failed_sessions from tlswatch.domain_sessions order by report_ref"
COUNTS="select (select count(*) from tlswatch.reports) || ' ' || (select count(*) from tlswatch.policies) || ' '
	|| (select count(*) from tlswatch.failures) || ' ' || (select count(*) from tlswatch.report_keys) || ' '
	|| (select count(*) from tlswatch.domain_sessions)"
q "$ROWS_R" >"$T/s/r.before"
q "$ROWS_P" >"$T/s/p.before"
q "$ROWS_F" >"$T/s/f.before"
q "$ROWS_S" >"$T/s/s.before"
counts_before=$(q "$COUNTS")
n=$(wc -l <"$T/cases" | tr -d ' ')
is "$counts_before" "$n $((2 * n)) $((3 * n)) $n $n" \
	"before: $n reports, $((2 * n)) policies, $((3 * n)) failures, $n keys, $n sessions per domain"

# The months from the first not yet created to far-07.
want_created=$(m=$beyond; while :; do s=$(month $m); echo "reports_$s"; [ "$s" = "${far}_07" ] && break; m=$((m + 1)); done)
is "$(q "select * from tlswatch.create_partitions('$far-07-01')")" "$want_created" \
	"create_partitions('$far-07-01') creates reports_$(month $beyond) .. reports_${far}_07 and says so"

is "$(q "$COUNTS")" "$counts_before" "after: the same number of reports, policies, failures, keys and sessions per domain"
is "$(q "$ROWS_R")" "$(cat "$T/s/r.before")" "after: every report row as it was, none lost or doubled"
is "$(q "$ROWS_P")" "$(cat "$T/s/p.before")" "after: every policy row as it was"
is "$(q "$ROWS_F")" "$(cat "$T/s/f.before")" "after: every failure row as it was"
is "$(q "$ROWS_S")" "$(cat "$T/s/s.before")" "after: every domain_sessions row as it was"
is "$(where far)" "reports_${far}_06 policies_${far}_06 failures_${far}_06 1 2 3 domain_sessions_${far}_06 1" "the $far-06 report and its rows moved to *_${far}_06"
is "$(where leap-day)" "reports_${leap}_02 policies_${leap}_02 failures_${leap}_02 1 2 3 domain_sessions_${leap}_02 1" "the leap-day report moved to *_${leap}_02"
is "$(where first-beyond)" "reports_$(month $beyond) policies_$(month $beyond) failures_$(month $beyond) 1 2 3 domain_sessions_$(month $beyond) 1" \
	"the first-beyond report moved to *_$(month $beyond)"
is "$(where y1999)" "reports_past policies_past failures_past 1 2 3 domain_sessions_past 1" "the 1999 report stays in *_past"
is "$(q "select count(*) from tlswatch.reports_future") $(q "select count(*) from tlswatch.policies_future") $(q "select count(*) from tlswatch.failures_future") $(q "select count(*) from tlswatch.domain_sessions_future")" \
	"0 0 0 0" "nothing left in the *_future partitions"

for t in reports policies failures domain_sessions; do
	is "$(q "set timezone = 'UTC'; select pg_get_expr(relpartbound, oid) from pg_class where oid = 'tlswatch.${t}_future'::regclass")" \
		"FOR VALUES FROM ('$far-08-01 00:00:00+00') TO (MAXVALUE)" "${t}_future now starts at $far-08-01"
	# Contiguous: each month partition is exactly its month, and the
	# months run without a gap from past to future.
	is "$(inexact $t)" - "$t: every monthly partition covers exactly its month"
	months=$(m=$BACK; while :; do s=$(month $m); echo "${t}_$s"; [ "$s" = "${far}_07" ] && break; m=$((m + 1)); done)
	is "$(q "select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'tlswatch.$t'::regclass order by c.relname")" \
		"$(printf '%s\n%s\n%s\n' "$months" "${t}_future" "${t}_past" | sort)" \
		"$t: past, every month from $(month $BACK) to ${far}_07 without a gap, future"
	is "$(q "set timezone = 'UTC'; select pg_get_expr(relpartbound, oid) from pg_class where oid = 'tlswatch.${t}_past'::regclass")" \
		"FOR VALUES FROM (MINVALUE) TO ('$(first $BACK) 00:00:00+00')" "${t}_past ends where the first month starts"
done

is "$(q "select count(*) from tlswatch.create_partitions('$far-07-01')")" 0 "a second call creates nothing (no rows)"
is "$(q "select count(*) from tlswatch.create_partitions('$far-07-31 23:59:59+00')")" 0 "nor a call for a later day of the same month"
is "$(q "select count(*) from tlswatch.create_partitions('$(first 1)')")" 0 "nor a call for an earlier month"
is "$(q "select count(*) from pg_inherits where inhparent = 'tlswatch.reports'::regclass")" \
	"$(($(echo "$months" | wc -l) + 2))" "the number of reports partitions is unchanged"

# ---- ingest afterwards -----------------------------------------------------------
mk after-july "$far-07-15T00:00:00Z"
mk after-beyond "$far-08-01T00:00:00Z"
mk after-now "${this}T12:00:00Z"
$TW ingest "$T/r/after-july.json" "$T/r/after-beyond.json" "$T/r/after-now.json" 2>"$T/err"; rc=$?
is "$rc" 0 "ingest after create_partitions: exit 0"
like "$(cat "$T/err")" "3 stored, 0 duplicate, 0 quarantined, 0 failed" "three new reports stored"
is "$(where after-july)" "reports_${far}_07 policies_${far}_07 failures_${far}_07 1 2 3 domain_sessions_${far}_07 1" "a report for $far-07 goes to its new month"
is "$(where after-beyond)" "reports_future policies_future failures_future 1 2 3 domain_sessions_future 1" "a report for $far-08 goes to *_future"
is "$(where after-now)" "reports_$(month 0) policies_$(month 0) failures_$(month 0) 1 2 3 domain_sessions_$(month 0) 1" "a report for this month goes to *_$(month 0)"

counts=$(q "$COUNTS")
$TW ingest "$T/r/far.json" 2>"$T/err"; rc=$?
is "$rc" 0 "re-delivery of the moved $far-06 report: exit 0"
like "$(cat "$T/err")" "0 stored, 1 duplicate" "re-delivery of the moved report: a duplicate"
is "$(q "select status from tlswatch.messages order by id desc limit 1")" duplicate "its message row says duplicate"
is "$(q "$COUNTS")" "$counts" "no row added by the re-delivery"
# The same report-id from another reporter is another report.
mk far "$far-06-01T00:00:00Z" "Other Org"
$TW ingest "$T/r/far.json" 2>"$T/err"
like "$(cat "$T/err")" "1 stored, 0 duplicate" "the same report-id from another organization is stored"
is "$(q "select string_agg(organization_name, ',' order by organization_name) from tlswatch.reports where report_id = 'far'")" \
	"Other Org,Partition Org" "both reports with report-id far are there"

# ---- a server in another time zone ------------------------------------------------
# Months are UTC months whatever the session's TimeZone: the server's
# default (Debian's initdb gives a cluster the system's zone, Europe/Berlin
# on a server in Germany) or PGTZ. A second database of the same cluster,
# created and migrated by tlswatch with PGTZ=Europe/Berlin (UTC+1, +2 in
# summer), its partitions then moved forward from America/New_York.
psql -XAtq -d postgres -c "create database tlswatch_tz" || bail "create database tlswatch_tz failed"
PGDATABASE=tlswatch_tz PGTZ=Europe/Berlin
export PGDATABASE PGTZ # from here on, for tlswatch and psql alike
$TW db init >"$T/tz.out" 2>&1; rc=$?
is "$rc" 0 "PGTZ=Europe/Berlin: tlswatch db init exits 0"
[ "$rc" -eq 0 ] || diag "$(cat "$T/tz.out")"
is "$(q "$MONTHLY" | paste -sd ' ' -)" "$(m=$BACK; while [ $m -le $ahead ]; do echo "reports_$(month $m)"; m=$((m + 1)); done | paste -sd ' ' -)" \
	"PGTZ=Europe/Berlin: the new database's months are named $(month $BACK) to $(month $ahead), as in UTC"
for t in reports policies failures; do
	is "$(inexact $t)" - "PGTZ=Europe/Berlin: $t: every monthly partition covers exactly its UTC month"
done
mk tz-last-second "$(date -u -d "@$((this_s - 1))" +%Y-%m-%dT%H:%M:%SZ)"
mk tz-first-second "${this}T00:00:00Z"
$TW ingest "$T/r/tz-last-second.json" "$T/r/tz-first-second.json" 2>"$T/err"
like "$(cat "$T/err")" "2 stored" "PGTZ=Europe/Berlin: two reports stored"
is "$(where tz-last-second)" "reports_$(month -1) policies_$(month -1) failures_$(month -1) 1 2 3 domain_sessions_$(month -1) 1" \
	"PGTZ=Europe/Berlin: the last second of $(month -1) (UTC) is in *_$(month -1)"
is "$(where tz-first-second)" "reports_$(month 0) policies_$(month 0) failures_$(month 0) 1 2 3 domain_sessions_$(month 0) 1" \
	"PGTZ=Europe/Berlin: the first second of $(month 0) (UTC) is in *_$(month 0)"
PGTZ=America/New_York
out=$(psql -XAtq -v ON_ERROR_STOP=1 -c "select count(*) from tlswatch.create_partitions('$far-07-01')" 2>&1); rc=$?
is "$rc $(echo "$out" | tail -n 1)" "0 $(echo "$want_created" | wc -l | tr -d ' ')" \
	"PGTZ=America/New_York: create_partitions('$far-07-01') creates the same months as in UTC"
[ "$rc" -eq 0 ] || diag "$out"
for t in reports policies failures; do
	is "$(inexact $t)" - "PGTZ=America/New_York: $t: every monthly partition still covers exactly its UTC month"
	is "$(q "set timezone = 'UTC'; select pg_get_expr(relpartbound, oid) from pg_class where oid = 'tlswatch.${t}_future'::regclass")" \
		"FOR VALUES FROM ('$far-08-01 00:00:00+00') TO (MAXVALUE)" "PGTZ=America/New_York: ${t}_future starts at $far-08-01 UTC"
done

done_testing
