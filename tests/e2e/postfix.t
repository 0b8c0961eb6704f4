#!/bin/bash
# tlswatch behind a real Postfix configured from contrib/postfix: reports
# submitted with sendmail and over SMTP land in PostgreSQL; with the
# database down the message is deferred (exit 75), stays queued, and after
# `postqueue -f` is stored exactly once; junk and a DMARC report are
# delivered (never bounced) into quarantine; an alert not sent shows in
# the status text. Needs root; installs postfix.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"
. "$(dirname "$0")/mta.sh"
. "$(dirname "$0")/../lib/digest_gen.sh"
. "$(dirname "$0")/../lib/alert_gen.sh"

FX=tests/fixtures
mta_require postfix
e2e_setup
pf_start "$T/tlswatch ingest --config $T/tlswatch.conf"

sent() { grep -c 'status=sent (delivered via tlsrpt service' "$PF/maillog"; }

pf_sendmail $FX/rfc-gzip.eml; rc=$?
is "$rc" 0 "sendmail: submitted"
wait_for 20 is_stored fixture-rfc-gzip-1@example.net
is "$(status_of fixture-rfc-gzip-1@example.net)" stored "sendmail: the report is stored"
is "$(q "select coalesce(channel, 'NULL') || ' ' || coalesce(host(client), 'NULL') from tlswatch.messages
	where message_id = 'fixture-rfc-gzip-1@example.net'")" "pipe NULL" "... its row says it came through the pipe"

pf_smtp $FX/octet-stream-name.eml; rc=$?
is "$rc" 0 "SMTP: 250 after DATA"
wait_for 20 is_stored fixture-octet-stream-1@example.net
is "$(status_of fixture-octet-stream-1@example.net)" stored "SMTP: the report is stored"
wait_for 5 eval '[ "$(sent)" -eq 2 ]'
is "$(sent)" 2 "maillog: both status=sent via the tlsrpt transport"
# Postfix keeps about 100 characters of the command's output in its status
# text: the first line says the outcome, domain, reporter and report-id
# (issue 12, point 5). The report-id comes from the database.
rid=$(q "select r.report_id from tlswatch.reports r join tlswatch.messages m on m.id = r.message_ref
	where m.message_id = 'fixture-rfc-gzip-1@example.net'")
like "$(grep 'status=sent' "$PF/maillog")" \
	"delivered via tlsrpt service \(tlswatch: stored 1 report: example\.com, Fixture Corp \($rid\)" \
	"maillog: the status text says stored, the domain, the reporter and the report-id"

# Database down: Postfix keeps the message and says why.
pg_stop_server
pf_sendmail $FX/zip-as-gzip.eml
wait_for 20 pf_deferred_on_db
ok "$(pf_deferred_on_db && echo y)" "database down: deferred, delay_reason names the database"
like "$(mailq -C "$PF/etc")" "^ *tlsrpt@tlswatch.invalid" "database down: mailq lists the message"
sleep 2
ok "$(pf_deferred_on_db && echo y)" "database down: still deferred 2 s later (no bounce, no retry yet)"
pg_start_server
is "$(status_of fixture-zip-as-gzip-1@example.net)" "" "database down: nothing was written"

t0=$(date +%s.%N)
postqueue -c "$PF/etc" -f
wait_for 20 is_stored fixture-zip-as-gzip-1@example.net
diag "flush to stored: $(awk "BEGIN { printf \"%.2f\", $(date +%s.%N) - $t0 }") s"
is "$(status_of fixture-zip-as-gzip-1@example.net)" stored "after postqueue -f: stored exactly once"
is "$(q "select count(*) from tlswatch.reports r join tlswatch.messages m on m.id = r.message_ref
	where m.message_id = 'fixture-zip-as-gzip-1@example.net'")" 1 "after postqueue -f: one report row"
wait_for 5 eval '[ -z "$(pf_queue)" ]'
is "$(pf_queue)" "" "after postqueue -f: the queue is empty"

# Not reports: delivered (exit 0), kept in quarantine, nothing bounced.
pf_sendmail $FX/junk.eml
pf_sendmail $FX/dmarc-zip.eml
wait_for 20 eval '[ "$(q "select count(*) from tlswatch.messages where status = '\''quarantined'\''")" -eq 2 ]'
is "$(status_of fixture-dmarc-1@example.net)" quarantined "DMARC report: quarantined"
is "$(q "select count(*) from tlswatch.messages where status = 'quarantined' and reason like '%not a TLS report%'")" 2 \
	"junk and DMARC: both quarantined as not a TLS report"
wait_for 5 eval '[ "$(sent)" -eq 5 ]'
is "$(sent)" 5 "maillog: every message status=sent"
is "$(grep -c 'status=bounced' "$PF/maillog")" 0 "maillog: nothing bounced"
like "$(grep 'status=sent' "$PF/maillog")" \
	"delivered via tlsrpt service \(tlswatch: quarantined: not a TLS report \(XML: a DMARC report\?\)" \
	"maillog: the status text of the DMARC report says quarantined and why, before the part's name"
is "$(pf_queue)" "" "the queue is empty"

# An alert that could not be sent on ingest: the status text says so after
# the outcome, before the report's facts (a closed loopback port). The mail
# is not signed: its reporter is trusted by name, so that it pages.
free=$(free_port) || bail "no free TCP port"
printf '[ingest]\ntrusted-reporters = Google Inc.\n[webhook ops]\nurl = http://127.0.0.1:%s/x\ntimeout = 2s\n[rule r]\nwindow = 24h\nmin-failed-sessions = 1\nnotify = ops\n' \
	"$free" >>"$T/tlswatch.conf"
mkdir -p "$T/r"
alert_report "$T/r" "Google Inc." pf-alert-1 "$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)" alerts.example 10 5
{
	printf 'From: tlsrpt@google.com\nSubject: Report Domain: alerts.example\nMessage-ID: <pf-alert-1@example.net>\n'
	printf 'MIME-Version: 1.0\nContent-Type: application/tlsrpt+json\n\n'
	cat "$T/r/pf-alert-1.json"
} >"$T/alert.eml"
pf_sendmail "$T/alert.eml"
wait_for 20 is_stored pf-alert-1@example.net
wait_for 5 eval '[ "$(sent)" -eq 6 ]'
like "$(grep 'status=sent' "$PF/maillog")" \
	"delivered via tlsrpt service \(tlswatch: stored 1 report, 1 alert not sent: alerts\.example, Google Inc\. \(pf-alert-1\)" \
	"maillog: the status text says stored, that an alert was not sent, and the report-id"

done_testing
