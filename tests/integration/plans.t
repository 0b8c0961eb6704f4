#!/bin/sh
# The plans of the hot queries on a partitioned history: four months of
# reports for 400 domains (one report per domain and day, a third with a
# second policy, failure details on some) written straight into the
# tables with SQL (domain_sessions as migrations 013 and 014 fill it), ANALYZEd, each month in its partition (a new database
# has two years of them). The SQL is taken from alert/eval.c
# and digest/query.c by the C preprocessor (tests/lib/plans.py), so this
# is what the program sends, and each query is run under EXPLAIN (ANALYZE,
# FORMAT JSON) with its parameters planned as values (a custom plan, as an
# unnamed PQexecParams statement gets), at three 24-hour windows: mid-month
# last month, mid-month the month before, and the first day of last month
# (the digest's previous day then falls in the month before).
# Proven, from the plan JSON, against figures computed here with SQL:
#   digest (q_sessions, q_failures, q_policies, 1-day period), for
#     every domain, one domain (--domain d0042.example) and a name plus a
#     pattern: the plan holds only the partitions of the period's months,
#     of domain_sessions, policies, reports and failures alike; the row
#     estimate of every scan of them is under 10% of the table; one domain
#     is read through policies_domain (domain_sessions_domain for
#     q_sessions: its partitions' indexes).
#   alert (q_reports, q_failures, q_last), for every domain, the domains
#     just ingested ($3) and a rule's patterns ($4): domain_sessions (all
#     three read it alone) is reached only through indexes, never a Seq
#     Scan of a partition
#     that holds rows, and only the partitions holding the window's rows
#     are ever read; no reports partition after the window's month is in
#     the plan; row estimates under 10% of the table.
# On a failure the plan is shown as a tree.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

command -v python3 >/dev/null || bail "python3 is needed to read the plans (make deps)"
command -v cc >/dev/null || bail "cc is needed to expand the queries' macros (make deps)"
PLANS="python3 $(dirname "$0")/../lib/plans.py"
TW=./tlswatch
[ -x "$TW" ] || bail "$TW is not built (make all)"
pg_start_schema
T=$PG_DIR/plans
mkdir -p "$T"

this=$(date -u +%Y-%m-01)
month() { date -u -d "$this $1 month" +%Y_%m; }
start=$(date -u -d "$this -4 month" +%F)
last=$(date -u -d "yesterday" +%F)
days=$((($(date -u -d "$last" +%s) - $(date -u -d "$start" +%s)) / 86400 + 1))
DOMAINS=400

# ---- the history ----------------------------------------------------------------
psql -XAtq -v ON_ERROR_STOP=1 -v start="$start" -v last="$last" -v ndomains=$DOMAINS -f - <<'EOF' || bail "generating the history failed"
BEGIN;
CREATE TEMP TABLE g AS
SELECT row_number() OVER (ORDER BY d, dom) AS n, d, dom
FROM generate_series(:'start'::timestamptz, :'last'::timestamptz, interval '1 day') d,
     generate_series(0, :ndomains - 1) dom;
INSERT INTO tlswatch.messages (received_at, message_id, status)
SELECT d + interval '26 hours', 'plan-' || n, 'stored' FROM g ORDER BY n;
INSERT INTO tlswatch.report_keys (organization_name, report_id)
SELECT (ARRAY['Google Inc.', 'Microsoft Corporation', 'Yahoo', 'Mail.Ru', 'Comcast'])[1 + n % 5],
       'plan-' || n FROM g;
INSERT INTO tlswatch.reports (message_ref, organization_name, report_id, contact_info, date_start,
                              date_end, document)
SELECT m.id, (ARRAY['Google Inc.', 'Microsoft Corporation', 'Yahoo', 'Mail.Ru', 'Comcast'])[1 + n % 5],
       'plan-' || n, 'tlsrpt@example.net', d, d + interval '1 day' - interval '1 second',
       jsonb_build_object('report-id', 'plan-' || n, 'domain', dom)
FROM g JOIN tlswatch.messages m ON m.message_id = 'plan-' || g.n ORDER BY n;
INSERT INTO tlswatch.policies (report_ref, date_start, policy_index, policy_type, policy_domain,
                               policy_string, mx_host, sts_mode, sts_max_age,
                               successful_sessions, failed_sessions)
SELECT r.id, r.date_start, i, CASE i WHEN 0 THEN 'sts' ELSE 'tlsa' END,
       format('d%s.example', lpad(r.document->>'domain', 4, '0')),
       '{"version: STSv1","mode: testing","mx: *.example","max_age: 86400"}', '{*.example}',
       CASE i WHEN 0 THEN 'testing' END, CASE i WHEN 0 THEN 86400 END,
       1000 + r.id % 500, r.id % 7
FROM tlswatch.reports r, generate_series(0, CASE WHEN r.id % 3 = 0 THEN 1 ELSE 0 END) i;
INSERT INTO tlswatch.failures (policy_ref, date_start, failed_sessions, detail_index, result_type,
                               sending_mta_ip, receiving_mx_hostname)
SELECT p.id, p.date_start, 1 + j, j, (ARRAY['certificate-expired', 'starttls-not-supported'])[j + 1],
       ('192.0.2.' || (p.id % 250 + 1))::inet, format('mx%s.example', j + 1)
FROM tlswatch.policies p, generate_series(0, 1) j WHERE p.failed_sessions > 0 AND p.id % 3 = 0;
INSERT INTO tlswatch.domain_sessions
SELECT p.report_ref, p.date_start, r.date_end, max(p.successful_sessions), max(p.failed_sessions),
       r.authenticated, p.policy_domain, r.organization_name, r.report_id
FROM tlswatch.policies p JOIN tlswatch.reports r ON r.id = p.report_ref AND r.date_start = p.date_start
GROUP BY p.report_ref, p.date_start, p.policy_domain, r.date_end, r.authenticated,
         r.organization_name, r.report_id;
UPDATE tlswatch.domain_sessions d
SET failure_types = s.types, failure_mx_hosts = s.mx_hosts, failure_sessions = s.sessions
FROM (SELECT report_ref, date_start, policy_domain, array_agg(t ORDER BY t, m) AS types,
             array_agg(m ORDER BY t, m) AS mx_hosts, array_agg(n ORDER BY t, m) AS sessions
      FROM (SELECT p.report_ref, p.date_start, p.policy_domain, f.result_type AS t,
                   f.receiving_mx_hostname AS m, sum(f.failed_sessions) AS n
            FROM tlswatch.policies p
            JOIN tlswatch.failures f ON f.policy_ref = p.id AND f.date_start = p.date_start
            WHERE f.counted GROUP BY 1, 2, 3, 4, 5) pairs
      GROUP BY 1, 2, 3) s
WHERE d.report_ref = s.report_ref AND d.date_start = s.date_start
  AND d.policy_domain = s.policy_domain;
COMMIT;
ANALYZE;
EOF
R=$(q "select count(*) from tlswatch.reports")
P=$(q "select count(*) from tlswatch.policies")
F=$(q "select count(*) from tlswatch.failures")
D=$(q "select count(*) from tlswatch.domain_sessions")
is "$R" $((days * DOMAINS)) "history: $DOMAINS reports a day for the $days days from $start to $last"
diag "reports $R, policies $P, failures $F"
ok "$([ "$P" -gt "$R" ] && [ "$F" -gt 10000 ] && echo 1)" "history: $P policies and $F failure details"
# The partitions that hold rows (a Seq Scan of an empty one reads nothing).
nonempty() { q "select string_agg(distinct c.relname, ',' order by c.relname) from tlswatch.$1 x join pg_class c on c.oid = x.tableoid"; }
NE_reports=$(nonempty reports) NE_policies=$(nonempty policies) NE_failures=$(nonempty failures)
NE_domain_sessions=$(nonempty domain_sessions)
is "$NE_policies" "policies_$(month -4),policies_$(month -3),policies_$(month -2),policies_$(month -1)$([ "$(date -u -d "$last" +%s)" -ge "$(date -u -d "$this" +%s)" ] && echo ",policies_$(month 0)")" \
	"history: in the monthly partitions since $(month -4) (a new database has two years of them)"

# The queries as the program sends them, once: $T/FILE-NAME-VARIANT.sql.
# The digest's are set 1 of each, the COUNTED variants: [digest]
# authenticated-only is on by default.
for query in q_sessions q_failures q_policies; do
	for variant in FILTER_NONE FILTER_NAMES FILTER_NAMES_OR_PATTERNS; do
		$PLANS sql digest/query.c $query 1.$variant >"$T/digest-$query-$variant.sql" ||
			bail "no $query ($variant) in digest/query.c"
	done
done
for query in q_since q_reports q_failures q_last; do
	$PLANS sql alert/eval.c $query >"$T/alert-$query.sql" || bail "no $query in alert/eval.c"
done

# explain SQLFILE OUT PARAMS: the plan of the query, run, as JSON, its
# parameters planned as values.
explain() {
	psql -XAtq -v ON_ERROR_STOP=1 -c "SET plan_cache_mode = force_custom_plan" -c "PREPARE s AS $(cat "$1")" \
		-c "EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE s($3)" >"$2" 2>"$2.err" ||
		{ diag "$(cat "$2.err")" "$(cat "$1")"; bail "EXPLAIN of $1 failed"; }
}
# parts TABLE FROM TO: the names of TABLE's partitions for [FROM, TO) (unix seconds).
parts() {
	a=$(date -u -d "@$2" +%Y_%m) b=$(date -u -d "@$(($3 - 1))" +%Y_%m)
	if [ "$a" = "$b" ]; then echo "$1_$a"; else echo "$1_$a $1_$b"; fi
}
# verdict FILE GOT-TEMPLATE WANT NAME: one assertion on a plan, the plan
# shown as a tree when it fails.
verdict() {
	is "$($PLANS ask "$1" "$2")" "$3" "$4" || diag "$($PLANS show "$1")"
}

# ---- the digest -------------------------------------------------------------------
# The three --domain cases, with the variant digest/query.c picks for each
# (query_domains) and its $3, $4.
FILTERS="FILTER_NONE:NULL:NULL:every-domain
FILTER_NAMES:'{d0042.example}':NULL:one-domain
FILTER_NAMES_OR_PATTERNS:'{d0042.example}':'{d004%.example}':name-and-pattern"
DOMAIN_INDEX='policies_domain|policies_[0-9]+_[0-9]+_policy_domain_date_start_idx'
SESSIONS_INDEX='domain_sessions_domain|domain_sessions_[0-9]+_[0-9]+_policy_domain_date_start_idx'

digest_window() { # LABEL FROM: a 1-day digest of the day from FROM (unix seconds)
	label=$1 from=$2 to=$(($2 + 86400)) prev=$(($2 - 86400))
	while IFS=: read -r variant names patterns case; do
		for query in q_sessions q_failures q_policies; do
			case $query in
			q_sessions) a=$prev params="$prev, $to, $names, $patterns, $from" tables=domain_sessions ;;
			q_failures) a=$from params="$from, $to, $names, $patterns" tables="policies failures" ;;
			q_policies) a=$from params="$from, $to, $names, $patterns" tables="policies reports" ;;
			esac
			f=$T/digest-$label-$query-$case.json
			explain "$T/digest-$query-$variant.sql" "$f" "$params"
			got="" want=""
			for t in $tables; do
				got="$got$t: {planned $t}; " want="$want$t: $(parts $t "$a" $to); "
			done
			if [ "$query" = q_sessions ]; then
				got="${got}estimates under 10%: {under domain_sessions $D}"
			else
				got="${got}estimates under 10%: {under policies $P}"
			fi
			want="${want}estimates under 10%: yes"
			if [ "$query" = q_failures ]; then
				got="$got/{under failures $F}" want="$want/yes"
			fi
			if [ "$case" = one-domain ] && [ "$query" = q_sessions ]; then
				got="$got; not through domain_sessions_domain: {notvia domain_sessions $SESSIONS_INDEX}"
				want="$want; not through domain_sessions_domain: -"
			elif [ "$case" = one-domain ]; then
				got="$got; policies not through policies_domain: {notvia policies $DOMAIN_INDEX}"
				want="$want; policies not through policies_domain: -"
			fi
			verdict "$f" "$got" "$want" "digest $label $query, $case: only the period's partitions"
		done
	done <<EOF
$FILTERS
EOF
}

w1=$(date -u -d "$(date -u -d "$this -1 month" +%Y-%m-16)" +%s)
w2=$(date -u -d "$(date -u -d "$this -2 month" +%Y-%m-10)" +%s)
w3=$(date -u -d "$this -1 month" +%s)
digest_window "$(date -u -d "@$w1" +%F)" "$w1"
digest_window "$(date -u -d "@$w2" +%F)" "$w2"
digest_window "$(date -u -d "@$w3" +%F)" "$w3"

# ---- the alerts ---------------------------------------------------------------------
# $3 and $4 as eval.c gets them (and $5, below): every domain (tlswatch alert, a rule
# without domains), the domains just stored (after ingest), a rule's
# domains as LIKE patterns. $6 is true: [alert] authenticated-only, the
# default.
ALERTS="NULL:NULL:every-domain
'{d0042.example}':NULL:just-ingested
NULL:'{d004%.example}':rule-patterns"

# held TABLE FROM TO: the partitions of TABLE holding the rows of the
# reports whose date_end is in (FROM, TO], from the tables themselves.
held() {
	case $1 in
	policies) q "select coalesce(string_agg(distinct c.relname, ' ' order by c.relname), '-') from tlswatch.reports r
		join tlswatch.policies p on p.report_ref = r.id and p.date_start = r.date_start join pg_class c on c.oid = p.tableoid
		where r.date_end > to_timestamp($2) and r.date_end <= to_timestamp($3)" ;;
	domain_sessions) q "select coalesce(string_agg(distinct c.relname, ' ' order by c.relname), '-')
		from tlswatch.domain_sessions d join pg_class c on c.oid = d.tableoid
		where d.date_end > to_timestamp($2) and d.date_end <= to_timestamp($3)" ;;
	failures) q "select coalesce(string_agg(distinct c.relname, ' ' order by c.relname), '-') from tlswatch.reports r
		join tlswatch.policies p on p.report_ref = r.id and p.date_start = r.date_start
		join tlswatch.failures f on f.policy_ref = p.id and f.date_start = p.date_start join pg_class c on c.oid = f.tableoid
		where r.date_end > to_timestamp($2) and r.date_end <= to_timestamp($3)" ;;
	esac
}

alert_window() { # LABEL TO: the 24 hours up to TO (unix seconds)
	label=$1 to=$2 from=$(($2 - 86400)) m=$(date -u -d "@$2" +%Y_%m)
	# $5 as eval_since computes it for a pass: the earliest start among
	# the reports ending in the window.
	since=$(q "select coalesce(floor(extract(epoch from min(date_start)))::bigint, $to)
		from tlswatch.reports where date_end > to_timestamp($from) and date_end <= to_timestamp($to)")
	# and on ingest, without asking: 31 days before the window
	since_ingest=$((from - 2678400))
	# q_since itself: planned over the months from 31 days before the
	# window on, never the older ones (they would cost planning time per
	# month of history).
	oldest=$(date -u -d "@$since_ingest" +%Y_%m)
	f=$T/alert-$label-q_since.json
	explain "$T/alert-q_since.sql" "$f" "$from, $to, 2678400"
	verdict "$f" "older partitions planned: {before reports $oldest}" "older partitions planned: -" \
		"alert $label q_since: no reports partition before $oldest in the plan"
	is "$(q "$(sed "s/\\\$1::bigint/$from/g; s/\\\$2::bigint/$to/g; s/\\\$3::bigint/2678400/g" "$T/alert-q_since.sql")")" "$since" \
		"alert $label q_since: the same earliest start as without the 31-day bound"
	while IFS=: read -r names patterns case; do
		for query in q_reports q_failures q_last; do
			tables=domain_sessions
			f=$T/alert-$label-$query-$case.json
			got="reports after $m: {after reports $m}" want="reports after $m: -"
			# On ingest the domain's index finds its rows in every month
			# from $5 on: none before it is planned. A pass reads only the
			# partitions holding the window's rows.
			s5=$since
			[ "$case" = just-ingested ] && s5=$since_ingest
			explain "$T/alert-$query.sql" "$f" "$from, $to, $names, $patterns, $s5, true"
			for t in $tables; do
				eval "ne=\$NE_$t"
				if [ "$case" = just-ingested ]; then
					got="$got; $t before $oldest: {before $t $oldest}"
					want="$want; $t before $oldest: -"
				else
					got="$got; $t partitions read: {executed $t $ne}"
					want="$want; $t partitions read: $(held $t $from $to)"
				fi
				got="$got, without an index: {noindex $t $ne}, planned seq scans: {seq $t $ne}"
				want="$want, without an index: -, planned seq scans: -"
			done
			got="$got; estimates under 10%: {under domain_sessions $D}"
			want="$want; estimates under 10%: yes"
			verdict "$f" "$got" "$want" "alert $label $query, $case: by index, only the window's partitions"
		done
	done <<EOF
$ALERTS
EOF
}

alert_window "$(date -u -d "@$((w1 + 86400))" +%FT%H)" $((w1 + 86400))
alert_window "$(date -u -d "@$((w2 + 86400))" +%FT%H)" $((w2 + 86400))

# ---- the metrics ------------------------------------------------------------------
# serve's /metrics asks for the reports that ended in the last 24 hours
# (now(): the history above ends yesterday, so the window holds rows),
# from domain_sessions (its failure sums, sql/014, too), bounded by the
# reports' earliest start, no policies nor failures: only the partitions
# holding them are read, none after this month, and no scan expects a
# tenth of a table. How a partition is read is left to
# the planner here: the window is today, and early in a month this
# month's partition holds little else, where a Seq Scan is the right plan.
$PLANS sql serve/gauges.c q_reports >"$T/gauges-q_reports.sql" || bail "no q_reports in serve/gauges.c"
f=$T/gauges-q_reports.json
now=$(date -u +%s)
explain "$T/gauges-q_reports.sql" "$f" 50
verdict "$f" "domain_sessions read: {executed domain_sessions $NE_domain_sessions}; policies, failures in the plan: {planned policies}/{planned failures}; reports after $(month 0): {after reports $(month 0)}; domain_sessions after $(month 0): {after domain_sessions $(month 0)}; estimates under 10%: {under domain_sessions $D}/{under reports $R}" \
	"domain_sessions read: $(held domain_sessions $((now - 86400)) $now); policies, failures in the plan: -/-; reports after $(month 0): -; domain_sessions after $(month 0): -; estimates under 10%: yes/yes" \
	"metrics q_reports: domain_sessions alone, only the partitions of the last day's rows"
alert_window "$(date -u -d "@$((w3 + 86400))" +%FT%H)" $((w3 + 86400))

done_testing
