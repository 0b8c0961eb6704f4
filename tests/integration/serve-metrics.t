#!/bin/bash
# tlswatch serve's GET /metrics (Prometheus text format) and /healthz on
# [serve] metrics, scraped with curl after real POSTs from curl: each
# counter equals what the database holds for that channel and outcome,
# deferred counts the POSTs refused while the database was down, the
# histogram counts every handled one, every line is well formed, and
# /healthz is 200 with the database up and 503 with it down. The figures
# the database holds (the outbox, the last 24 hours of reports per policy
# domain and result type) equal sums worked out here from reports written
# here, with the domains past [serve] metrics-domains counted together.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"
. "$(dirname "$0")/../lib/serve.sh"

command -v curl >/dev/null || bail "curl is missing (make deps)"
TW=./tlswatch
FX=tests/fixtures
pg_start_schema
T=$PG_DIR/metrics
mkdir -p "$T"
HTTP=$(free_port) METRICS=$(free_port)
printf '[serve]\nhttp = 127.0.0.1:%s\nmetrics = 127.0.0.1:%s\nworkers = 2\nmetrics-domains = 2\n' \
	"$HTTP" "$METRICS" >"$T/c.conf"
serve_start "$T/c.conf" "http://127.0.0.1:$METRICS/healthz"

post() { curl -s -o /dev/null -w '%{http_code}' -H "Content-Type: $2" --data-binary "@$1" "http://127.0.0.1:$HTTP/v1"; }
scrape() { curl -s "http://127.0.0.1:$METRICS/metrics" >"$T/metrics"; }
# ENVIRON, not -v: awk would read the backslashes of an escaped label.
metric() { k=$1 awk '$1 == ENVIRON["k"] { print $2 }' "$T/metrics"; }
rows() { q "select count(*) from tlswatch.messages where subject like 'http POST%' and status = '$1'"; }

printf 'garbage' >"$T/garbage"
codes="$(post $FX/bare-report.json.gz application/tlsrpt+gzip) $(post $FX/bare-report.json application/tlsrpt+json)"
codes="$codes $(post "$T/garbage" application/tlsrpt+json) $(post "$T/garbage" application/tlsrpt+json)"
is "$codes" "201 200 400 400" "four POSTs: stored, duplicate, two quarantined"
pg_stop_server
is "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$METRICS/healthz")" 503 "/healthz, database down: 503"
is "$(post $FX/bare-report.json application/tlsrpt+json)" 503 "a POST with the database down: 503"
scrape
is "$(metric tlswatch_database_up)" 0 "tlswatch_database_up 0 while it is down"
pg_start_server
is "$(curl -s -w ' %{http_code}' "http://127.0.0.1:$METRICS/healthz" | tr -d '\n')" "ok 200" "/healthz, database up: 200"

scrape
for o in stored duplicate quarantined; do
	is "$(metric "tlswatch_messages_total{channel=\"http\",outcome=\"$o\"}")" "$(rows $o)" \
		"messages_total{http,$o} equals the rows the database has"
done
is "$(metric 'tlswatch_messages_total{channel="http",outcome="deferred"}')" 1 "messages_total{http,deferred}: the POST refused"
is "$(metric 'tlswatch_messages_total{channel="lmtp",outcome="stored"}')" 0 "nothing counted on lmtp"
is "$(metric 'tlswatch_ingest_seconds_count{channel="http"}')" 4 "the histogram counts the four handled"
is "$(metric 'tlswatch_ingest_seconds_bucket{channel="http",le="+Inf"}')" 4 "... its +Inf bucket too"
is "$(metric tlswatch_database_up)" 1 "tlswatch_database_up 1"
is "$(metric 'tlswatch_workers_started_total{kind="http"}')" 2 "two HTTP workers started"
is "$(metric 'tlswatch_workers_started_total{kind="metrics"}')" 1 "... and the metrics worker"
like "$(cat "$T/metrics")" '^tlswatch_build_info\{version="[^"]+"\} 1$' "build info"
bad_lines() { grep -v '^# \(HELP\|TYPE\) ' "$T/metrics" | grep -cvE '^[a-z_][a-z0-9_]*(\{([a-z_]+="([^"\\]|\\.)*",?)+\})? [0-9.e+-]+$'; }
is "$(bad_lines)" 0 "every sample line is well formed"
for name in $(grep -v '^#' "$T/metrics" | sed 's/[{ ].*//; s/_\(bucket\|sum\|count\)$//' | sort -u); do
	grep -q "^# TYPE $name " "$T/metrics" || fail_name="$fail_name $name"
done
is "${fail_name:-}" "" "every metric has its TYPE line"
is "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$METRICS/other")" 404 "another path: 404"

# The database's figures. Reports that end in the last 24 hours, imported
# by hand (not judged: they count) but for one POSTed (unauthenticated:
# it does not); a.example is listed under sts and tlsa with the same
# sessions, which count once (the larger of the two, as domain_sessions).
start=$(date -u -d '-20 hours' +%FT%TZ) end=$(date -u -d '-2 hours' +%FT%TZ)
report() { # ID END POLICIES...
	local id=$1 e=$2
	shift 2
	printf '{"organization-name":"Metrics Test","date-range":{"start-datetime":"%s","end-datetime":"%s"},"report-id":"%s","policies":[%s]}' \
		"$start" "$e" "$id" "$(IFS=,; echo "$*")" >"$T/$id.json"
}
policy() { # TYPE DOMAIN SUCCESSFUL FAILED [RESULT-TYPE COUNT]...
	local type=$1 domain=$2 ok=$3 failed=$4 details=
	shift 4
	while [ $# -gt 0 ]; do
		details="$details${details:+,}{\"result-type\":\"$1\",\"failed-session-count\":$2}"
		shift 2
	done
	printf '{"policy":{"policy-type":"%s","policy-domain":"%s"},"summary":{"total-successful-session-count":%s,"total-failure-session-count":%s},"failure-details":[%s]}' \
		"$type" "$domain" "$ok" "$failed" "$details"
}
report m1 "$end" "$(policy sts a.example 100 10 certificate-expired 6 Weird-Type 4)" \
	"$(policy tlsa A.Example. 100 10 certificate-expired 6)"
report m2 "$end" "$(policy sts b.example 50 0)"
report m3 "$end" "$(policy sts c.example 5 1 starttls-not-supported 1)"
report m4 "$end" "$(policy sts 'q\\\"x.example' 1000 0)"
report m5 "$(date -u -d '-26 hours' +%FT%TZ)" "$(policy sts a.example 9000 900 certificate-expired 900)"
report m6 "$end" "$(policy sts a.example 7777 0)"
$TW ingest "$T/m1.json" "$T/m2.json" "$T/m3.json" "$T/m4.json" "$T/m5.json" >/dev/null 2>&1
is "$?" 0 "five reports imported"
is "$(post "$T/m6.json" application/tlsrpt+json)" 201 "one POSTed (unauthenticated)"
is "$(q "select policy_domain from tlswatch.policies where policy_domain like 'q%'")" 'q\"x.example' \
	"a domain with a quote and a backslash is stored as sent"
q "insert into tlswatch.alerts (rule, domain, event, webhook, window_start, window_end, fired_at,
     figures, payload, state, next_attempt_at, created_at)
   select 'r', 'a.example', 'firing', 'w', now(), now(), now(), '{}', '', s, now(), now() - a
   from (values ('pending', interval '1 hour'), ('pending', interval '1 minute'),
                ('failed', interval '2 hours'), ('failed', interval '2 days'),
                ('sent', interval '1 hour')) v(s, a)"
scrape
is "$(metric tlswatch_outbox_pending)" 2 "outbox: two alerts pending"
oldest=$(metric tlswatch_outbox_oldest_pending_seconds)
ok "$([ "${oldest:-0}" -ge 3600 ] && [ "$oldest" -lt 3700 ] && echo y)" "... the oldest an hour old ($oldest s)"
is "$(metric tlswatch_outbox_failed_24h)" 1 "... one given up in the last 24 hours (not the one of two days ago)"
gauge() { metric "tlswatch_$1{policy_domain=\"$2\"$3}"; }
is "$(gauge reports_24h a.example) $(gauge successful_sessions_24h a.example) $(gauge failed_sessions_24h a.example)" \
	"1 100 10" "a.example: one report, 100 and 10 sessions (sts and tlsa counted once; the old and the POSTed left out)"
is "$(gauge failure_details_24h a.example ',result_type="certificate-expired"') $(gauge failure_details_24h a.example ',result_type="other"')" \
	"6 4" "... 6 certificate-expired, and 4 of a type not in the registry as other"
is "$(gauge reports_24h 'q\\\"x.example') $(gauge successful_sessions_24h 'q\\\"x.example')" "1 1000" \
	"the domain with most sessions, its quote and backslash escaped in the label"
is "$(gauge reports_24h '(other)') $(gauge successful_sessions_24h '(other)') $(gauge failed_sessions_24h '(other)')" \
	"2 55 1" "past metrics-domains = 2, b.example and c.example together as (other)"
is "$(gauge failure_details_24h '(other)' ',result_type="starttls-not-supported"')" 1 "... their failure-details too"
is "$(grep -c '^tlswatch_reports_24h{' "$T/metrics")" 3 "three policy_domain labels, no more"
is "$(bad_lines)" 0 "every sample line is well formed, escaped labels too"

serve_stop
is "$SERVE_RC" 0 "SIGTERM: exit 0"

done_testing
