#!/bin/sh
# Alert on ingest (alert_after_ingest, reached here through the hidden
# `tlswatch alert --after-ingest DOMAIN`, the exact call ingest makes after
# its COMMIT): the rules run for the touched domains only, delivery is
# tried once within the webhook timeout, and a receiver that is not
# listening or too slow never fails the run: the alert waits in the outbox
# and the next `tlswatch alert` sends it, exactly once. A delivery whose
# reports list no failed sessions evaluates only the domains with a firing
# open.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"
. "$(dirname "$0")/../lib/digest_gen.sh"
. "$(dirname "$0")/../lib/alert_gen.sh"
. "$(dirname "$0")/../lib/http_receiver.sh"

command -v python3 >/dev/null || skip_all "python3 is needed for the HTTP receiver (make deps)"
TW=./tlswatch
pg_start_schema
T=$PG_DIR/alert
R=$T/recv
mkdir -p "$T/r"
recv_start "$R"
URL=http://127.0.0.1:$RECV_PORT
DOWN=http://127.0.0.1:$(unused_port)
END=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ) # inside a 24h window of the real clock

alert_report "$T/r" "Google Inc." x-1 "$END" x.example 100 40 "$(gen_detail certificate-expired mx.x.example 192.0.2.1 40)"
alert_report "$T/r" "Google Inc." y-1 "$END" y.example 100 40
alert_report "$T/r" "Google Inc." z-1 "$END" z.example 100 40
alert_report "$T/r" "Google Inc." w-1 "$END" w.example 100 40
$TW ingest "$T"/r/*.json 2>/dev/null; rc=$?
is "$rc" 0 "ingest of the reports: exit 0"
is "$(q 'select count(*) from tlswatch.reports')" 4 "reports stored"

# conf FILE URL [ALERT-KEYS [DOMAINS]]. The report mails below are not
# signed: their reporter is trusted by name, so that they count (only
# authenticated reports page: tests/integration/trust-counts.t).
conf() {
	printf '[ingest]\ntrusted-reporters = Google Inc.\n[alert]\n%s\n[webhook ops]\nurl = %s/ops\ntimeout = 1s\n[rule r]\ndomains = %s\nmin-failed-sessions = 10\nnotify = ops\n' \
		"${3:-}" "$2" "${4:-*}" >"$1"
}

# Receiver answering: sent at once, only the touched domain.
conf "$T/ok.conf" "$URL"
$TW alert --config "$T/ok.conf" --after-ingest X.example 2>"$T/err"; rc=$?
is "$rc" 0 "on ingest: exit 0"
is "$(recv_count)" 1 "on ingest: one message arrived"
is "$(jget "$R/req.1.body" '{domain}') $(jget "$R/req.1.body" '{sessions}{failed}')" "x.example 40" "on ingest: for the touched domain only"
is "$(q "select domain || ' ' || state from tlswatch.alerts order by id")" "x.example sent" "on ingest: one row, sent"
like "$(cat "$T/err")" "alerts: 1 fired, 0 resolved; 1 sent" "on ingest: one line says so"

# Not listening: quick, exit 0, pending; the next run sends it.
conf "$T/down.conf" "$DOWN"
start=$(date +%s)
$TW alert --config "$T/down.conf" --after-ingest y.example 2>"$T/err"; rc=$?
is "$rc" 0 "not listening: exit 0"
ok "$([ $(( $(date +%s) - start )) -le 3 ] && echo 1)" "not listening: returns at once"
is "$(q "select state || '|' || attempts from tlswatch.alerts where domain = 'y.example'")" "pending|1" "not listening: the alert waits in the outbox"
n0=$(recv_count)
conf "$T/xy.conf" "$URL" "" "x.example;y.example"
$TW alert --config "$T/xy.conf" --now "$(date -u -d '+5 minutes' +%Y-%m-%dT%H:%M:%SZ)" 2>"$T/err"; rc=$?
is "$rc" 0 "next tlswatch alert: exit 0"
is "$(q "select state || '|' || attempts from tlswatch.alerts where domain = 'y.example'")" "sent|2" "next tlswatch alert: sent"
is "$(( $(recv_count) - n0 ))" 1 "next tlswatch alert: exactly one message (x.example is in its cooldown)"

# Too slow: delivery gives up at the webhook timeout (1s), the alert waits.
echo 5 >"$R/delay"
conf "$T/slow.conf" "$URL"
start=$(date +%s)
$TW alert --config "$T/slow.conf" --after-ingest z.example 2>"$T/err"; rc=$?
took=$(( $(date +%s) - start ))
rm -f "$R/delay"
is "$rc" 0 "slow receiver: exit 0"
ok "$([ "$took" -le 3 ] && echo 1)" "slow receiver: no longer than the timeout (${took}s)"
like "$(q "select state || '|' || last_error from tlswatch.alerts where domain = 'z.example'")" "^pending\\|webhook not reached: Timeout" "slow receiver: pending, timed out"

# Two webhooks, the first refusing: the second still gets its alert now,
# the first's waits for the next pass (issue 12, point 7).
alert_report "$T/r" "Google Inc." t-1 "$END" t.example 100 40
$TW ingest "$T"/r/*t-1*.json 2>/dev/null
printf '[webhook down]\nurl = %s/down\ntimeout = 1s\n[webhook ops]\nurl = %s/ops\ntimeout = 1s\n[rule r]\ndomains = t.example\nmin-failed-sessions = 10\nnotify = down;ops\n' \
	"$DOWN" "$URL" >"$T/two.conf"
n0=$(recv_count)
$TW alert --config "$T/two.conf" --after-ingest t.example 2>"$T/err"; rc=$?
is "$rc" 0 "two webhooks, one refusing: exit 0"
is "$(q "select string_agg(webhook || ' ' || state || ' ' || attempts, ', ' order by webhook) from tlswatch.alerts where domain = 't.example'")" \
	"down pending 1, ops sent 1" "two webhooks, one refusing: the other is delivered at once"
is "$(( $(recv_count) - n0 ))" 1 "two webhooks, one refusing: one message arrived"
is "$(q "select id < (select id from tlswatch.alerts where domain = 't.example' and webhook = 'ops') from tlswatch.alerts where domain = 't.example' and webhook = 'down'")" t \
	"two webhooks: the refusing one was queued (and tried) first"

# [alert] on-ingest = false: nothing evaluated.
conf "$T/off.conf" "$URL" "on-ingest = false"
$TW alert --config "$T/off.conf" --after-ingest w.example 2>"$T/err"; rc=$?
is "$rc" 0 "on-ingest = false: exit 0"
is "$(q "select count(*) from tlswatch.alerts where domain = 'w.example'")" 0 "on-ingest = false: nothing queued"

# A configuration error is one warning, never a failure.
printf '[rule r]\nnotify = nosuch\n' >"$T/bad.conf"
$TW alert --config "$T/bad.conf" --after-ingest w.example 2>"$T/err"; rc=$?
is "$rc" 0 "bad [rule]: exit 0 on ingest"
like "$(cat "$T/err")" "alerts not evaluated: .*\\[rule r\\] notify: no such webhook" "bad [rule]: logged"
# Through tlswatch ingest itself: the MTA's pipe (one message on stdin) and
# a bulk import both run the rules after their COMMIT, for the domains of
# the reports they stored, and a duplicate triggers nothing.
mkdir -p "$T/p"
alert_report "$T/p" "Google Inc." v-1 "$END" v.example 100 40 "$(gen_detail certificate-expired mx.v.example 192.0.2.2 40)"
alert_report "$T/p" "Google Inc." u-1 "$END" u.example 100 40 "$(gen_detail certificate-expired mx.u.example 192.0.2.3 40)"
{
	printf 'From: tlsrpt@google.com\nSubject: Report Domain: v.example\nMIME-Version: 1.0\n'
	printf 'Content-Type: application/tlsrpt+json\n\n'
	cat "$T"/p/*v-1*.json
} >"$T/v.eml"
n0=$(recv_count)
$TW ingest --config "$T/ok.conf" <"$T/v.eml" 2>"$T/err"; rc=$?
is "$rc" 0 "ingest from the pipe: exit 0"
is "$(( $(recv_count) - n0 ))" 1 "ingest from the pipe: one alert arrived"
is "$(q "select state from tlswatch.alerts where domain = 'v.example'")" sent "ingest from the pipe: v.example sent"
$TW ingest --config "$T/ok.conf" "$T"/p/*u-1*.json 2>/dev/null; rc=$?
is "$rc" 0 "bulk ingest: exit 0"
is "$(q "select state from tlswatch.alerts where domain = 'u.example'")" sent "bulk ingest: u.example sent"
# The MTA's status line (the first, all Postfix keeps) says an alert was
# not sent, after the outcome and before the report's facts.
alert_report "$T/p" "Google Inc." s-1 "$END" s.example 100 40
{
	printf 'From: tlsrpt@google.com\nSubject: Report Domain: s.example\nMIME-Version: 1.0\n'
	printf 'Content-Type: application/tlsrpt+json\n\n'
	cat "$T"/p/*s-1*.json
} >"$T/s.eml"
$TW ingest --config "$T/down.conf" <"$T/s.eml" 2>"$T/err"; rc=$?
is "$rc" 0 "ingest from the pipe, webhook down: exit 0"
is "$(head -n 1 "$T/err")" "tlswatch: stored 1 report, 1 alert not sent: s.example, Google Inc. (s-1)" \
	"ingest from the pipe, webhook down: the first line says stored, and the alert not sent"
like "$(sed 1d "$T/err")" "alert [0-9]+ to webhook ops for s\.example: webhook not reached" \
	"... the details follow"
n1=$(recv_count)
$TW ingest --config "$T/ok.conf" <"$T/v.eml" 2>/dev/null; rc=$?
is "$rc" 0 "a duplicate delivery: exit 0"
is "$(recv_count)" "$n1" "a duplicate delivery: nothing evaluated, nothing sent"

# A report without failed sessions can neither make a threshold rule fire
# nor start a silence: for a domain with no firing open, ingest does not
# evaluate the rules (the pass does). q.example's window holds 40 failed
# sessions of 1,140 (3.5 %: rule r fires at 10 and 1 %), stored before
# any rule ran; its clean report leaves them there, the pass fires.
mail() { # DIR ID DOMAIN: a pipe message of the report ID in DIR
	printf 'From: tlsrpt@google.com\nSubject: Report Domain: %s\nMIME-Version: 1.0\n' "$3"
	printf 'Content-Type: application/tlsrpt+json\n\n'
	cat "$1"/*"$2".json
}
mkdir -p "$T/q"
alert_report "$T/q" "Google Inc." q-1 "$END" q.example 100 40
alert_report "$T/q" "Google Inc." q-2 "$END" q.example 1000 0
alert_report "$T/q" "Google Inc." q-3 "$END" q.example 1000 2
$TW ingest "$T"/q/*q-1.json 2>/dev/null
n0=$(recv_count)
mail "$T/q" q-2 q.example | $TW ingest --config "$T/ok.conf" 2>"$T/err"; rc=$?
is "$rc" 0 "a clean report, no firing open: exit 0"
is "$(q "select count(*) from tlswatch.alerts where domain = 'q.example'") $(( $(recv_count) - n0 ))" "0 0" \
	"a clean report, no firing open: the rules are not evaluated, nothing queued or sent"
# ... but a report with failures is: q-3 (2 failed) makes r fire at 42.
mail "$T/q" q-3 q.example | $TW ingest --config "$T/ok.conf" 2>"$T/err"; rc=$?
is "$rc" 0 "a report with failures: exit 0"
is "$(q "select count(*) from tlswatch.alerts where domain = 'q.example' and state = 'sent'") $(( $(recv_count) - n0 ))" "1 1" \
	"a report with failures: the rules run, r fires for q.example and is sent"
is "$(jget "$R/req.$(recv_count).body" '{domain}') $(jget "$R/req.$(recv_count).body" '{sessions}{failed}')" \
	"q.example 42" "... with the window's 42 failed sessions"

# A clean report for a domain with a firing open is evaluated: it may end
# it. p.example fires r2 (10 failed of 100: 10 % >= 5 %); a clean report
# of 1,000 sessions brings it to 0.9 %: resolved on ingest.
printf '[ingest]\ntrusted-reporters = Google Inc.\n[webhook ops]\nurl = %s/ops\ntimeout = 1s\n[rule r2]\ndomains = p.example\nmin-failed-sessions = 1\nmin-failure-rate = 5%%\nnotify-resolved = true\nnotify = ops\n' \
	"$URL" >"$T/r2.conf"
alert_report "$T/q" "Google Inc." p-1 "$END" p.example 90 10
alert_report "$T/q" "Google Inc." p-2 "$END" p.example 1000 0
mail "$T/q" p-1 p.example | $TW ingest --config "$T/r2.conf" 2>/dev/null
is "$(q "select event || ' ' || state from tlswatch.alerts where domain = 'p.example' order by id")" "firing sent" \
	"r2 fires for p.example (10 %)"
mail "$T/q" p-2 p.example | $TW ingest --config "$T/r2.conf" 2>"$T/err"; rc=$?
is "$rc" 0 "a clean report, a firing open: exit 0"
is "$(q "select string_agg(event || ' ' || state, ', ' order by id) from tlswatch.alerts where domain = 'p.example'")" \
	"firing sent, resolved sent" "a clean report, a firing open: evaluated, and r2 resolved at once"
done_testing
