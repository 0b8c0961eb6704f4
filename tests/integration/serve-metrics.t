#!/bin/bash
# tlswatch serve's GET /metrics (Prometheus text format) and /healthz on
# [serve] metrics, scraped with curl after real POSTs from curl: each
# counter equals what the database holds for that channel and outcome,
# deferred counts the POSTs refused while the database was down, the
# histogram counts every handled one, every line is well formed, and
# /healthz is 200 with the database up and 503 with it down.
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
printf '[serve]\nhttp = 127.0.0.1:%s\nmetrics = 127.0.0.1:%s\nworkers = 2\n' "$HTTP" "$METRICS" >"$T/c.conf"
serve_start "$T/c.conf" "http://127.0.0.1:$METRICS/healthz"

post() { curl -s -o /dev/null -w '%{http_code}' -H "Content-Type: $2" --data-binary "@$1" "http://127.0.0.1:$HTTP/v1"; }
scrape() { curl -s "http://127.0.0.1:$METRICS/metrics" >"$T/metrics"; }
metric() { awk -v k="$1" '$1 == k { print $2 }' "$T/metrics"; }
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
is "$(metric tlswatch_workers_started_total)" 2 "two workers started"
like "$(cat "$T/metrics")" '^tlswatch_build_info\{version="[^"]+"\} 1$' "build info"
is "$(grep -v '^# \(HELP\|TYPE\) ' "$T/metrics" | grep -cvE '^[a-z_]+(\{([a-z_]+="[^"]*",?)+\})? [0-9.e+-]+$')" 0 \
	"every sample line is well formed"
for name in $(grep -v '^#' "$T/metrics" | sed 's/[{ ].*//; s/_\(bucket\|sum\|count\)$//' | sort -u); do
	grep -q "^# TYPE $name " "$T/metrics" || fail_name="$fail_name $name"
done
is "${fail_name:-}" "" "every metric has its TYPE line"
is "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$METRICS/other")" 404 "another path: 404"

serve_stop
is "$SERVE_RC" 0 "SIGTERM: exit 0"

done_testing
