#!/bin/bash
# An alert evaluation that fails half-way leaves tlswatch serve's
# connection as it found it. The rules' queries go out together in one
# pipeline (alert/eval.c); when one fails, what the server still has to
# answer must be read and the pipeline left (db_pipeline_end), or the
# worker's next delivery would read those answers as its own. One worker,
# so that both deliveries share its connection (checked: the same server
# backends before and after the second): the first report's rule
# fails on its second query (the column it reads renamed under it, after
# the first query read the sessions; a second rule's query is aborted
# behind it), the column is put back, and a
# second report is stored (250, its row there) and fires, alert sent to
# a real HTTP receiver.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"
. "$(dirname "$0")/../lib/serve.sh"
. "$(dirname "$0")/../lib/http_receiver.sh"
. "$(dirname "$0")/../lib/digest_gen.sh"
. "$(dirname "$0")/../lib/alert_gen.sh"

command -v python3 >/dev/null || bail "python3 is needed for the LMTP client and the receiver (make deps)"
command -v curl >/dev/null || bail "curl is missing (make deps)"
TW=./tlswatch
pg_start_schema
T=$PG_DIR/serve-alert-broken
mkdir -p "$T/r"
# A second rule after it, whose query the failure aborts: its result
# (PGRES_PIPELINE_ABORTED) is left to the draining too.
serve_alert_start "$T" 1 "$(printf '[rule quiet]\nkind = silence\nsilent-for = 3d\nnotify = ops')"

END=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
# mail ID DOMAIN FAILED: the report as a message, in $T/r/ID.eml: failed
# sessions in its summary, no failure details, so that ingest stores it
# without the column renamed below.
mail() { alert_mail "$T/r" "$1" "$END" "$2" "$3"; }
lmtp() { lmtp_send "$T/lmtp" "$@"; }
stored() { q "select count(*) from tlswatch.reports where report_id = '$1'"; }

q "alter table tlswatch.domain_sessions rename column failure_types to failure_types_away" >/dev/null
mail broken-1 one.example 12
is "$(lmtp "$T/r/broken-1.eml")" "250 " "the first report: 250"
is "$(stored broken-1)" 1 "... stored"
for _ in $(seq 50); do grep -q "alerts not evaluated" "$T/c.conf.log" && break; sleep 0.1; done
like "$(cat "$T/c.conf.log")" "alerts not evaluated: rule failing: alert evaluation: column d.failure_types does not exist" \
	"its rule fails on the second of its queries, and the log says why"
q "alter table tlswatch.domain_sessions rename column failure_types_away to failure_types" >/dev/null
# serve's own connections (the worker's, and any other): the same
# backends after the next delivery, none closed and opened again (serve
# would retry a delivery that failed on a kept connection with a new one,
# which would hide a connection left in a broken state).
backends() { q "select string_agg(pid::text, ' ' order by pid) from pg_stat_activity where application_name = 'tlswatch'"; }
before=$(backends)
ok "$([ -n "$before" ] && echo 1)" "serve's connections before the next delivery: $before"

mail broken-2 two.example 12
is "$(lmtp "$T/r/broken-2.eml")" "250 " "the next report, on the same worker and connection: 250"
is "$(stored broken-2)" 1 "... stored"
is "$(backends)" "$before" "... over the connection the failed evaluation used: no new one"
for _ in $(seq 50); do [ "$(recv_count)" -ge 1 ] && break; sleep 0.1; done
is "$(q "select domain || ' ' || event || ' ' || state from tlswatch.alerts")" "two.example firing sent" \
	"... its rule evaluated on that connection: fired and sent"
is "$(recv_count)" 1 "... received once by the webhook"
serve_stop
is "$SERVE_RC" 0 "SIGTERM: exit 0"
unlike "$(cat "$T/c.conf.log")" "451|lost|busy|another command" "no delivery refused, no connection lost or busy"

done_testing
