#!/bin/bash
# tlswatch serve behind a real Postfix, through an lmtp: transport to its
# Unix socket, serve running as nobody: a report is stored exactly once and
# the 250 reply is in Postfix's log; junk is delivered into quarantine;
# with the database down Postfix defers (451, the reason in mailq), and
# after postqueue -f with the database back each message is stored once;
# SIGTERM in the middle of a burst loses nothing: every message is stored
# or still queued, and after a restart all are stored, each exactly once.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"
. "$(dirname "$0")/mta.sh"
. "$(dirname "$0")/../lib/digest_gen.sh"
. "$(dirname "$0")/../lib/alert_gen.sh"

FX=tests/fixtures
mta_require postfix
e2e_setup
install -d -o nobody -m 755 "$T/run"
printf '[serve]\nlmtp = unix:%s/run/lmtp\nworkers = 2\nidle-timeout = 10s\n' "$T" >>"$T/tlswatch.conf"

SERVE_PID=
serve_start() {
	# setpriv execs: $! is serve itself, which the SIGTERM below must reach.
	setpriv --reuid=nobody --regid=nogroup --clear-groups -- \
		"$T/tlswatch" serve --config "$T/tlswatch.conf" 2>>"$T/serve.log" &
	SERVE_PID=$!
	wait_for 10 test -S "$T/run/lmtp" || bail "serve did not make its socket: $(cat "$T/serve.log")"
}
serve_cleanup() {
	[ -n "$SERVE_PID" ] && kill -TERM "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID"
	e2e_cleanup
}
trap serve_cleanup EXIT
serve_start

pf_init
cp contrib/postfix/virtual "$PF/etc/virtual"
printf 'tlswatch.invalid  lmtp:unix:%s/run/lmtp\n' "$T" >"$PF/etc/transport"
postmap "$PF/etc/virtual" "$PF/etc/transport" || bail "postmap failed"
postconf -c "$PF/etc" -e "virtual_alias_maps = hash:$PF/etc/virtual" \
	"transport_maps = hash:$PF/etc/transport" || bail "postconf failed"
pf_run

lmtp_sent() { grep -c 'relay=.*lmtp.*status=sent' "$PF/maillog"; }

pf_sendmail $FX/rfc-gzip.eml
wait_for 20 is_stored fixture-rfc-gzip-1@example.net
is "$(status_of fixture-rfc-gzip-1@example.net)" stored "through LMTP: the report is stored, once"
is "$(q "select channel from tlswatch.messages where message_id = 'fixture-rfc-gzip-1@example.net'")" lmtp \
	"... its row says it came over LMTP"
wait_for 5 eval '[ "$(lmtp_sent)" -ge 1 ]'
like "$(grep 'status=sent' "$PF/maillog")" \
	"status=sent \\(250 2\\.0\\.0 stored 1 report: example\\.com, Fixture Corp \\(fixture-rfc-gzip-1\\)\\)" \
	"maillog: Postfix logged the 250 reply, which says stored and the report-id"

pf_sendmail $FX/junk.eml
wait_for 20 eval '[ "$(q "select count(*) from tlswatch.messages where status = '\''quarantined'\''")" -eq 1 ]'
is "$(q "select count(*) from tlswatch.messages where status = 'quarantined'")" 1 "junk: quarantined"
wait_for 5 eval '[ "$(lmtp_sent)" -ge 2 ]'
is "$(grep -c 'status=bounced' "$PF/maillog")" 0 "junk: delivered, not bounced"
id=$(q "select id from tlswatch.messages where status = 'quarantined'")
like "$("$T/tlswatch" quarantine --config "$T/tlswatch.conf" show "$id" --raw | head -n 1)" \
	"^Return-Path: <$FROM>" "junk: kept with the envelope sender as Return-Path"

# Database down: 451, Postfix keeps the message and says why.
pg_stop_server
pf_sendmail $FX/zip-as-gzip.eml # UTF-8 in its header: SMTPUTF8
wait_for 20 pf_deferred_on_db
ok "$(pf_deferred_on_db && echo y)" "database down: deferred, delay_reason names the database"
# The worker's connection broke; the next message would connect anew.
like "$(grep 'status=deferred' "$PF/maillog")" "said: 451 4\\.3\\.0 [^)]*database" \
	"database down: the 451 reply, naming the database, in the log"
pg_start_server
postqueue -c "$PF/etc" -f
wait_for 20 is_stored fixture-zip-as-gzip-1@example.net
is "$(status_of fixture-zip-as-gzip-1@example.net)" stored \
	"database back, postqueue -f: stored exactly once, without restarting serve"

# A burst, and SIGTERM in its middle: the messages wait in the queue
# (defer_transports) until all are there, then go at once.
N=300
mkdir -p "$T/b"
END=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
for i in $(seq $N); do
	alert_report "$T/b" "Burst Inc." "burst-$i" "$END" burst.example 10 0
	{
		printf 'From: tlsrpt@burst.example\nSubject: Report Domain: burst.example\n'
		printf 'Message-ID: <burst-%d@example.net>\nMIME-Version: 1.0\n' "$i"
		printf 'Content-Type: application/tlsrpt+json\n\n'
		cat "$T/b/burst-$i.json"
	} >"$T/b/$i.eml"
done
burst_stored() { q "select count(*) from tlswatch.messages where message_id like 'burst-%'"; }
queued() { pf_queue | grep -c 'tlsrpt@tlswatch.invalid'; }
postconf -c "$PF/etc" -e 'defer_transports = lmtp' && postfix -c "$PF/etc" reload >/dev/null 2>&1
for i in $(seq $N); do pf_sendmail "$T/b/$i.eml"; done
wait_for 60 eval '[ "$(queued)" -eq $N ]'
is "$(queued)" $N "the burst is queued"
postconf -c "$PF/etc" -X defer_transports && postfix -c "$PF/etc" reload >/dev/null 2>&1
postqueue -c "$PF/etc" -f
wait_for 20 eval '[ "$(burst_stored)" -ge 5 ]'
kill -TERM "$SERVE_PID"
start=$(date +%s)
wait "$SERVE_PID"
rc=$?
SERVE_PID=
is "$rc" 0 "SIGTERM mid-burst: serve exits 0"
ok "$([ $(($(date +%s) - start)) -le 35 ] && echo y)" "... within the 30 s grace"
like "$(cat "$T/serve.log")" "stopped" "... and says it stopped"
ok "$([ ! -e "$T/run/lmtp" ] && echo y)" "... and removed its socket"
sleep 1
stored=$(burst_stored)
queued=$(queued)
diag "at SIGTERM: $stored stored, $queued still queued"
ok "$([ "$stored" -lt $N ] && echo y)" "the stop came in the middle of the burst ($stored of $N stored)"
ok "$([ $((stored + queued)) -ge $N ] && echo y)" "nothing lost: stored + queued >= $N ($stored + $queued)"
serve_start
postqueue -c "$PF/etc" -f
wait_for 60 eval '[ "$(burst_stored)" -ge $N ]'
is "$(burst_stored)" $N "after a restart and postqueue -f: all $N stored"
is "$(q "select count(*) from (select message_id from tlswatch.messages where message_id like 'burst-%'
	group by 1 having count(*) > 1) d")" 0 "... each exactly once"
is "$(q "select count(*) from tlswatch.reports where report_id like 'burst-%'")" $N "... one report each"
wait_for 10 eval '[ -z "$(pf_queue)" ]'
is "$(pf_queue)" "" "the queue is empty"
is "$(grep -c 'status=bounced' "$PF/maillog")" 0 "nothing bounced"

done_testing
