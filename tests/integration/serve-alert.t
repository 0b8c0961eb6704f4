#!/bin/bash
# Alert on ingest under tlswatch serve: the rules run after the replies,
# for the domains a worker delivered, at most a second after the first
# (serve/deliver.c). Twenty reports over LMTP (python3's smtplib.LMTP, a
# real client) for ten domains, 6 failed sessions each, two per domain,
# the rule at min-failed-sessions = 10: every domain fires once, none
# twice, each alert reaching the webhook (a real HTTP receiver) once; a
# domain delivered just before SIGTERM is evaluated before the worker
# ends; a domain at 6 never fires.
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
T=$PG_DIR/serve-alert
mkdir -p "$T/r"
serve_alert_start "$T" 2

END=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
# mail ID DOMAIN FAILED: the report as a message, in $T/r/ID.eml
mail() { alert_mail "$T/r" "$1" "$END" "$2" "$3"; }
lmtp() { lmtp_send "$T/lmtp" "$@"; }
sent_for() { q "select count(*) from tlswatch.alerts where domain = '$1' and state = 'sent'"; }
fired() { q "select count(*) from tlswatch.alerts where event = 'firing'"; }

files=
for i in $(seq 10); do
	mail "a-$i" "d$i.example" 6
	mail "b-$i" "d$i.example" 6
	files="$files $T/r/a-$i.eml $T/r/b-$i.eml"
done
mail lone lone.example 6
is "$(lmtp $files "$T/r/lone.eml")" "$(printf '250 %.0s' $(seq 21))" "21 messages over one LMTP session: 250 each"
for _ in $(seq 100); do [ "$(fired)" -ge 10 ] && [ "$(recv_count)" -ge 10 ] && break; sleep 0.1; done
is "$(fired)" 10 "each of the ten domains at 12 failed sessions fires"
is "$(q "select count(distinct domain) from tlswatch.alerts where event = 'firing'")" 10 "... once each"
is "$(q "select count(*) from tlswatch.alerts where state <> 'sent'")" 0 "... every alert sent"
is "$(recv_count)" 10 "... and received once each by the webhook"
is "$(sent_for lone.example)" 0 "a domain at 6 failed sessions does not fire"

# Delivered just before SIGTERM: the worker evaluates it before it ends.
mail c-1 late.example 12
is "$(lmtp "$T/r/c-1.eml")" "250 " "one more, then SIGTERM at once"
serve_stop
is "$SERVE_RC" 0 "SIGTERM: exit 0"
is "$(sent_for late.example)" 1 "... its alert was sent before serve ended"
is "$(recv_count)" 11 "... and received"

done_testing
