#!/bin/sh
# The MTA runs deliveries in parallel and reporters re-deliver: eight
# ingest processes given the same new report at once must all exit 0, with
# exactly one message stored and seven duplicates. The database's UNIQUE key
# decides, not a lock of ours.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

TW=./tlswatch
pg_start_schema

dir=$(mktemp -d)
for i in 1 2 3 4 5 6 7 8; do
	( $TW ingest < tests/fixtures/rfc-gzip.eml 2>/dev/null; echo $? > "$dir/rc.$i" ) &
done
wait
is "$(cat "$dir"/rc.* | sort | uniq -c | tr -s ' ')" " 8 0" "all eight deliveries exit 0"
is "$(q "select status || '=' || count(*) from tlswatch.messages group by status order by status" | tr '\n' ' ')" \
	"duplicate=7 stored=1 " "one stored, seven duplicates"
is "$(q "select count(*) from tlswatch.reports")" 1 "one reports row"
is "$(q "select count(distinct report_ref) from tlswatch.policies")" 1 "policies belong to that one report"
rm -rf "$dir"
done_testing
