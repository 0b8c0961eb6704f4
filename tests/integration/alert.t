#!/bin/sh
# tlswatch alert against a real HTTP receiver on 127.0.0.1
# (tests/lib/http_receiver.py) and a real PostgreSQL: threshold and window
# edges by --now, the cooldown, each payload format with its figures, the
# HMAC signature checked with openssl, 500 then 200, 400, nothing
# listening, max-attempts, two concurrent runs, silence and resolution,
# group-by, max-alerts-per-rule and its summary, --list and --test.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"
. "$(dirname "$0")/../lib/digest_gen.sh"
. "$(dirname "$0")/../lib/alert_gen.sh"
. "$(dirname "$0")/../lib/http_receiver.sh"

command -v python3 >/dev/null || skip_all "python3 is needed for the HTTP receiver (make deps)"
command -v openssl >/dev/null || skip_all "openssl is needed to check signatures (make deps)"
TW=./tlswatch
pg_start_schema
T=$PG_DIR/alert
R=$T/recv
mkdir -p "$T/r"
recv_start "$R"
URL=http://127.0.0.1:$RECV_PORT
SECRET=s3cr3t-for-tests

NOW=2024-06-05T12:00:00Z
# a.example: 990 ok, 10 failed (1.00%) in a report ending 06:00.
alert_report "$T/r" "Google Inc." a-1 2024-06-05T06:00:00Z a.example 990 10 \
	"$(gen_detail certificate-expired mx1.a.example 192.0.2.1 7),$(gen_detail starttls-not-supported mx2.a.example 192.0.2.2 3)"
# m.example: Microsoft lists 1000 sessions under sts and tlsa: they count once.
alert_report_sts_tlsa "$T/r" "Microsoft Corporation" m-1 2024-06-05T06:00:00Z m.example 980 20 \
	"$(gen_detail validation-failure mx.m.example 192.0.2.9 20)"
$TW ingest "$T"/r/*.json 2>"$T/err"; rc=$?
is "$rc" 0 "reports ingested"

# conf FILE RULES...: the webhooks plus the given rule groups.
conf() {
	f=$1; shift
	{
		printf '[webhook hook]\nurl = %s/generic\nformat = generic\nsecret = %s\ntimeout = 5s\n' "$URL" "$SECRET"
		printf '[webhook slack]\nurl = %s/slack\nformat = slack\n' "$URL"
		printf '[webhook teams]\nurl = %s/teams\nformat = teams\n' "$URL"
		printf '[webhook down]\nurl = http://127.0.0.1:%s/down\n' "$DOWN_PORT"
		printf '%s\n' "$@"
	} >"$f"
}
DOWN_PORT=$(unused_port)

# Threshold edges, through --list (which sends nothing).
conf "$T/edges.conf" \
	"[rule at]
domains = a.example
min-failed-sessions = 10
min-failure-rate = 1%
notify = hook" \
	"[rule over-count]
domains = a.example
min-failed-sessions = 11
notify = hook" \
	"[rule over-rate]
domains = a.example
min-failure-rate = 0.0101
notify = hook" \
	"[rule typed]
domains = a.example
result-types = starttls-not-supported
min-failed-sessions = 3
notify = hook" \
	"[rule typed-over]
domains = a.example
result-types = starttls-not-supported
min-failed-sessions = 4
notify = hook"
$TW alert --config "$T/edges.conf" --now $NOW --list >"$T/list" 2>"$T/err"; rc=$?
is "$rc" 0 "--list: exit 0"
is "$(rule_line "$T/list" at)" "  a.example: 10 failed of 1000 (1.00%), firing, last sent never" "at both thresholds (10, 1.00%): firing"
is "$(rule_line "$T/list" over-count)" "  a.example: 10 failed of 1000 (1.00%), ok, last sent never" "one session under min-failed-sessions: not firing"
is "$(rule_line "$T/list" over-rate)" "  a.example: 10 failed of 1000 (1.00%), ok, last sent never" "just under min-failure-rate 1.01%: not firing"
is "$(rule_line "$T/list" typed)" "  a.example: 3 failed of 1000 (0.30%), firing, last sent never" "result-types: only those failures count"
like "$(rule_line "$T/list" typed-over)" ", ok," "result-types: one under"
is "$(recv_count)" 0 "--list sent nothing"

# Window edges: (now - window, now] of report time (date_end 06:00).
for case in "2024-06-06T05:59:59Z firing" "2024-06-06T06:00:00Z none" "2024-06-05T06:00:00Z firing" "2024-06-05T05:59:59Z none"; do
	set -- $case
	$TW alert --config "$T/edges.conf" --now "$1" --list >"$T/list"
	got=$(rule_line "$T/list" at | sed -n 's/.*, \(firing\|ok\), .*/\1/p;s/.*no reports in the window.*/none/p')
	is "$got" "$2" "window edge: --now $1 is $2"
done

# The generic format, signed; then the cooldown.
conf "$T/gen.conf" "[rule mx-tls]
domains = a.example
min-failed-sessions = 10
min-failure-rate = 1%
cooldown = 6h
notify = hook;slack;teams"
before=$(date +%s)
$TW alert --config "$T/gen.conf" --now $NOW 2>"$T/err"; rc=$?
after=$(date +%s)
is "$rc" 0 "alert run: exit 0"
like "$(cat "$T/err")" "1 fired, 0 resolved, 0 in cooldown; 3 sent, 0 to retry, 0 failed" "alert run: one firing, three webhooks"
is "$(recv_count)" 3 "three requests arrived"
mkdir -p "$T/body" "$T/headers"
for n in 1 2 3; do
	p=$(head -1 "$R/req.$n.headers" | cut -d' ' -f2)
	cp "$R/req.$n.body" "$T/body$p.json"
	cp "$R/req.$n.headers" "$T/headers$p"
done
G=$T/body/generic.json
ok "$(perl -MJSON::PP -e 'local $/; decode_json(<STDIN>); print 1' <"$G")" "generic: valid JSON"
is "$(jget "$G" '{version}') $(jget "$G" '{event}') $(jget "$G" '{rule}') $(jget "$G" '{kind}') $(jget "$G" '{domain}') $(jget "$G" '{group}')" \
	"1 firing mx-tls threshold a.example null" "generic: version, event, rule, kind, domain"
is "$(jget "$G" '{window}{start}') $(jget "$G" '{window}{end}') $(jget "$G" '{window}{seconds}')" \
	"2024-06-04T12:00:00Z 2024-06-05T12:00:00Z 86400" "generic: window"
is "$(jget "$G" '{sessions}{total}') $(jget "$G" '{sessions}{successful}') $(jget "$G" '{sessions}{failed}') $(jget "$G" '{sessions}{failure_rate}') $(jget "$G" '{sessions}{reports}')" \
	"1000 990 10 1 1" "generic: sessions, failed, rate, reports"
is "$(jget "$G" '{thresholds}{min_failed_sessions}') $(jget "$G" '{thresholds}{min_failure_rate}')" "10 1" "generic: thresholds"
is "$(jget "$G" '{failures_by_result_type}[0]{name}')=$(jget "$G" '{failures_by_result_type}[0]{failed}') $(jget "$G" '{failures_by_result_type}[1]{name}')=$(jget "$G" '{failures_by_result_type}[1]{failed}')" \
	"certificate-expired=7 starttls-not-supported=3" "generic: failures by result type"
is "$(jget "$G" '{failures_by_mx_host}[0]{name}')=$(jget "$G" '{failures_by_mx_host}[0]{failed}')" "mx1.a.example=7" "generic: failures by MX host"
is "$(jget "$G" '{reporters}[0]{name}') $(jget "$G" '{reporters}[0]{sessions}') $(jget "$G" '{report_ids}[0]')" \
	"Google Inc. 1000 Google Inc./a-1" "generic: reporters and the triggering report ids"
# The signature, checked independently: HMAC-SHA256 of "<timestamp>.<body>".
ts=$(sed -n 's/^X-Tlswatch-Timestamp: //p' "$T/headers/generic" | tr -d '\r')
sig=$(sed -n 's/^X-Tlswatch-Signature: //p' "$T/headers/generic" | tr -d '\r')
ok "$([ -n "$ts" ] && [ "$ts" -ge "$before" ] && [ "$ts" -le "$after" ] && echo 1)" "generic: X-Tlswatch-Timestamp is the time of sending ($ts)"
want=$( (printf '%s.' "$ts"; cat "$G") | openssl dgst -sha256 -hmac "$SECRET" | sed 's/^.*= //')
is "$sig" "sha256=$want" "generic: X-Tlswatch-Signature verifies with openssl"
wrong=$( (printf '%s.' "$((ts + 1))"; cat "$G") | openssl dgst -sha256 -hmac "$SECRET" | sed 's/^.*= //')
ok "$([ "$sig" != "sha256=$wrong" ] && echo 1)" "generic: another timestamp does not verify"
like "$(cat "$T/headers/generic")" "^Content-Type: application/json" "generic: Content-Type"
ok "$(grep -c X-Tlswatch-Signature "$T/headers/slack" | grep -x 0)" "slack: no signature header"
# Slack and Teams.
S=$T/body/slack.json
like "$(jget "$S" '{text}')" "^a.example: 10 failed TLS sessions \\(1.00%\\) of 1000 in 24h \\[rule mx-tls\\]" "slack: headline with domain, count, rate"
like "$(jget "$S" '{text}')" "Result types:\\* certificate-expired 7, starttls-not-supported 3" "slack: top result types"
like "$(jget "$S" '{text}')" "MX hosts:\\* mx1.a.example 7, mx2.a.example 3" "slack: top MX hosts"
like "$(jget "$S" '{text}')" "Reporters:\\* Google Inc. 10" "slack: reporters"
is "$(jget "$S" '{blocks}[0]{type}')" section "slack: blocks"
M=$T/body/teams.json
is "$(jget "$M" "{'@type'}") $(jget "$M" '{themeColor}')" "MessageCard D70000" "teams: a MessageCard"
like "$(jget "$M" '{title}')" "^a.example: 10 failed TLS sessions" "teams: title"
is "$(jget "$M" '{sections}[0]{facts}[2]{name}')=$(jget "$M" '{sections}[0]{facts}[2]{value}') $(jget "$M" '{sections}[0]{facts}[3]{value}')" \
	"Failed sessions=10 1.00%" "teams: facts"
is "$(q "select state, attempts, last_error is null, sent_at is not null from tlswatch.alerts order by id" | sort -u)" "sent|1|t|t" "outbox: three rows sent"
# Cooldown: 1h later nothing; 6h later (outside the cooldown) again.
$TW alert --config "$T/gen.conf" --now 2024-06-05T13:00:00Z 2>"$T/err"
like "$(cat "$T/err")" "0 fired, 0 resolved, 1 in cooldown; 0 sent" "cooldown: not again after 1h"
$TW alert --config "$T/gen.conf" --now 2024-06-05T17:59:59Z 2>"$T/err"
like "$(cat "$T/err")" "1 in cooldown" "cooldown: not again just inside 6h"
is "$(recv_count)" 3 "cooldown: nothing sent"
$TW alert --config "$T/gen.conf" --now 2024-06-05T18:00:01Z 2>"$T/err"
like "$(cat "$T/err")" "1 fired, 0 resolved, 0 in cooldown; 3 sent" "cooldown over: fires again"
is "$(recv_count)" 6 "cooldown over: sent again"
$TW alert --config "$T/gen.conf" --now 2024-06-05T18:00:01Z --list >"$T/list"
like "$(rule_line "$T/list" mx-tls)" "firing, last sent [0-9]{4}-" "--list: last sent shown"

# sts + tlsa of one report count once.
conf "$T/m.conf" "[rule m]
domains = m.example
notify = hook"
$TW alert --config "$T/m.conf" --now $NOW 2>"$T/err"
G=$R/req.7.body
is "$(jget "$G" '{domain}') $(jget "$G" '{sessions}{total}') $(jget "$G" '{sessions}{failed}') $(jget "$G" '{failures_by_result_type}[0]{failed}')" \
	"m.example 1000 20 20" "sts + tlsa sessions counted once"

# Failures: each scenario its own domain, reports and configuration.
mkdir -p "$T/r2"
alert_report "$T/r2" "Google Inc." b-1 2024-06-05T06:00:00Z b.example 100 50
alert_report "$T/r2" "Google Inc." c-1 2024-06-05T06:00:00Z c.example 100 50
alert_report "$T/r2" "Google Inc." d-1 2024-06-05T06:00:00Z d.example 100 50
alert_report "$T/r2" "Google Inc." e-1 2024-06-05T06:00:00Z e.example 100 50
for i in 1 2 3 4 5 6; do
	alert_report "$T/r2" "Google Inc." p$i-1 2024-06-05T06:00:00Z p$i.example 100 $i
done
alert_report "$T/r2" "Google Inc." g-1 2024-06-05T06:00:00Z g.example 500 25
alert_report "$T/r2" "Microsoft Corporation" g-2 2024-06-05T06:00:00Z g.example 500 0
alert_report "$T/r2" "Yahoo" s-1 2024-05-20T00:00:00Z s.example 100 0
alert_report "$T/r2" "Google Inc." s-2 2024-06-05T00:00:00Z s.example 100 0
$TW ingest "$T"/r2/*.json 2>"$T/err"; rc=$?
is "$rc" 0 "more reports ingested"
# st DOMAIN: state|attempts of its outbox rows
st() { q "select state || '|' || attempts from tlswatch.alerts where domain = '$1' order by id"; }

# 500, then 200: retried after the back-off, sent once.
conf "$T/b.conf" "[rule b]
domains = b.example
notify = hook"
recv_status 500
n0=$(recv_count)
$TW alert --config "$T/b.conf" --now $NOW 2>"$T/err"; rc=$?
is "$rc" 0 "500: the run still exits 0"
like "$(cat "$T/err")" "webhook hook for b.example: webhook answered HTTP 500: receiver says no" "500: logged, without the URL"
ok "$(grep -v "$URL" "$T/err")" "500: the URL is not logged"
is "$(st b.example)" "pending|1" "500: pending after one attempt"
like "$(q "select last_error from tlswatch.alerts where domain = 'b.example'")" "HTTP 500" "500: last_error"
recv_status 200
$TW alert --config "$T/b.conf" --now 2024-06-05T12:00:59Z 2>"$T/err"
is "$(st b.example)" "pending|1" "back-off: not retried before 60s"
$TW alert --config "$T/b.conf" --now 2024-06-05T12:01:00Z 2>"$T/err"
like "$(cat "$T/err")" "0 fired, 0 resolved, 1 in cooldown; 1 sent" "retry: sent"
is "$(st b.example)" "sent|2" "retry: sent on the second attempt"
is "$(( $(recv_count) - n0 ))" 2 "500 then 200: two requests, one accepted"
$TW alert --config "$T/b.conf" --now 2024-06-05T12:30:00Z 2>/dev/null
is "$(( $(recv_count) - n0 ))" 2 "sent: never again"

# 400: failed at once, not retried.
conf "$T/c.conf" "[rule c]
domains = c.example
notify = hook"
recv_status 400
n0=$(recv_count)
$TW alert --config "$T/c.conf" --now $NOW 2>"$T/err"
is "$(st c.example)" "failed|1" "400: failed at once"
is "$(q "select last_error from tlswatch.alerts where domain = 'c.example'")" "webhook answered HTTP 400: receiver says no (status 400)" "400: the response in last_error"
recv_status 200
$TW alert --config "$T/c.conf" --now 2024-06-05T17:00:00Z 2>/dev/null
is "$(( $(recv_count) - n0 ))" 1 "400: not retried"

# Nothing listening: pending, retried with growing back-off, failed after max-attempts.
conf "$T/d.conf" "[alert]
max-attempts = 3
backoff = 1m" "[rule d]
domains = d.example
notify = down"
start=$(date +%s)
$TW alert --config "$T/d.conf" --now $NOW 2>"$T/err"; rc=$?
is "$rc" 0 "not listening: exit 0"
ok "$([ $(( $(date +%s) - start )) -lt 5 ] && echo 1)" "not listening: quick"
like "$(cat "$T/err")" "webhook down for d.example: webhook not reached: (Couldn't connect to server|Could not connect)" "not listening: logged"
is "$(st d.example) $(q "select next_attempt_at = '2024-06-05T12:01:00Z' from tlswatch.alerts where domain = 'd.example'")" "pending|1 t" "not listening: pending, next attempt after 1m"
$TW alert --config "$T/d.conf" --now 2024-06-05T12:01:00Z 2>/dev/null
is "$(st d.example) $(q "select next_attempt_at = '2024-06-05T12:03:00Z' from tlswatch.alerts where domain = 'd.example'")" "pending|2 t" "back-off doubles: 2m"
$TW alert --config "$T/d.conf" --now 2024-06-05T12:03:00Z 2>/dev/null
is "$(st d.example)" "failed|3" "max-attempts reached: failed, kept"
# The same alert pending, then the receiver back: sent on the next run.
conf "$T/e.conf" "[rule e]
domains = e.example
notify = down"
$TW alert --config "$T/e.conf" --now $NOW 2>/dev/null
is "$(st e.example)" "pending|1" "receiver down: pending"
sed "s|^url = http://127.0.0.1:$DOWN_PORT/down|url = $URL/back|" "$T/e.conf" >"$T/e2.conf"
n0=$(recv_count)
$TW alert --config "$T/e2.conf" --now 2024-06-05T12:05:00Z 2>/dev/null
is "$(st e.example) $(( $(recv_count) - n0 ))" "sent|2 1" "receiver back: sent on the next run, once"

# Two concurrent runs: every alert exactly once.
conf "$T/p.conf" "[rule p]
domains = p*.example
notify = hook"
echo 0.3 >"$R/delay"
n0=$(recv_count)
$TW alert --config "$T/p.conf" --now $NOW 2>"$T/err1" &
pid=$!
$TW alert --config "$T/p.conf" --now $NOW 2>"$T/err2"
wait $pid
rm -f "$R/delay"
is "$(( $(recv_count) - n0 ))" 6 "concurrent runs: six requests for six alerts"
is "$(cat "$R"/req.*.body | grep -o '"domain":"p[0-9].example"' | sort | uniq -c | awk '{print $1}' | sort -u)" 1 "concurrent runs: each domain once"
is "$(q "select count(*), count(*) filter (where state = 'sent' and attempts = 1) from tlswatch.alerts where domain like 'p%'")" "6|6" "concurrent runs: six rows, each sent on one attempt"

# group-by reporter: Google's failures fire alone.
conf "$T/g.conf" "[rule g]
domains = g.example
group-by = reporter
min-failure-rate = 5%
notify = hook"
$TW alert --config "$T/g.conf" --now $NOW --list >"$T/list"
is "$(rule_line "$T/list" g)" "  g.example Google Inc.: 25 failed of 525 (4.76%), ok, last sent never
  g.example Microsoft Corporation: 0 failed of 500 (0.00%), ok, last sent never" "group-by reporter: figures per reporter"
sed -i 's/^min-failure-rate = 5%/min-failure-rate = 4.7%/' "$T/g.conf"
n0=$(recv_count)
$TW alert --config "$T/g.conf" --now $NOW 2>/dev/null
G=$R/req.$((n0 + 1)).body
is "$(( $(recv_count) - n0 )) $(jget "$G" '{group_by}') $(jget "$G" '{group}') $(jget "$G" '{sessions}{total}')" "1 reporter Google Inc. 525" "group-by reporter: one alert for Google"

# Silence: Yahoo reported s.example on 2024-05-20, nothing since.
conf "$T/s.conf" "[rule quiet]
kind = silence
domains = s.example
silent-for = 3d
notify = hook"
n0=$(recv_count)
$TW alert --config "$T/s.conf" --now $NOW 2>"$T/err"
like "$(cat "$T/err")" "1 fired" "silence: fires"
G=$R/req.$((n0 + 1)).body
is "$(jget "$G" '{kind}') $(jget "$G" '{group}') $(jget "$G" '{last_report_end}')" "silence Yahoo 2024-05-20T00:00:00Z" "silence: the reporter and its last report"
like "$(jget "$G" '{summary}')" "s.example: no TLS report from Yahoo for 3d" "silence: summary"
mkdir -p "$T/r3"
alert_report "$T/r3" "Yahoo" s-3 2024-06-05T10:00:00Z s.example 100 0
$TW ingest "$T"/r3/*.json 2>/dev/null
$TW alert --config "$T/s.conf" --now $NOW 2>"$T/err"
like "$(cat "$T/err")" "0 fired, 1 resolved" "silence: resolves when reports resume"
G=$R/req.$((n0 + 2)).body
is "$(jget "$G" '{event}') $(jget "$G" '{group}')" "resolved Yahoo" "silence: resolved message"
$TW alert --config "$T/s.conf" --now $NOW 2>"$T/err"
like "$(cat "$T/err")" "0 fired, 0 resolved" "resolved once"

# notify-resolved: a threshold rule that fired says so once it no longer holds.
conf "$T/res.conf" "[rule res]
domains = a.example
min-failed-sessions = 10
notify-resolved = true
notify = hook"
n0=$(recv_count)
$TW alert --config "$T/res.conf" --now $NOW 2>/dev/null
$TW alert --config "$T/res.conf" --now 2024-06-05T17:00:00Z 2>"$T/err"
like "$(cat "$T/err")" "0 fired, 0 resolved, 1 in cooldown" "resolved: not while still over the thresholds"
$TW alert --config "$T/res.conf" --now 2024-06-06T07:00:00Z 2>"$T/err"
like "$(cat "$T/err")" "0 fired, 1 resolved" "resolved: once the report left the window"
G=$R/req.$((n0 + 2)).body
is "$(( $(recv_count) - n0 )) $(jget "$G" '{event}') $(jget "$G" '{domain}') $(jget "$G" '{sessions}{failed}')" "2 resolved a.example 0" "resolved: the message and its figures"
$TW alert --config "$T/res.conf" --now 2024-06-06T08:00:00Z 2>"$T/err"
is "$(( $(recv_count) - n0 ))" 2 "resolved: said once"

# Fan-out (issue 13): one report naming eight failing MX hosts and a
# group-by mx rule that may queue three alerts a pass: three alerts and one
# summary naming the five held back; those are recorded as sent, so the
# next pass has all eight in cooldown and sends nothing.
details=""
for i in 1 2 3 4 5 6 7 8; do
	details="$details${details:+,}$(gen_detail certificate-expired mx$i.f.example 192.0.2.$i 5)"
done
mkdir -p "$T/fan"
alert_report "$T/fan" "Google Inc." f-1 2024-06-05T06:00:00Z f.example 960 40 "$details"
$TW ingest "$T"/fan/*.json 2>/dev/null
conf "$T/fan.conf" "[alert]
max-alerts-per-rule = 3" "[rule fan]
domains = f.example
group-by = mx
min-failed-sessions = 5
cooldown = 6h
notify = hook"
n0=$(recv_count)
$TW alert --config "$T/fan.conf" --now $NOW 2>"$T/err"; rc=$?
is "$rc" 0 "fan-out: exit 0"
like "$(cat "$T/err")" "3 fired, 0 resolved, 0 in cooldown, 5 held back in a summary; 4 sent" \
	"fan-out: three fired, five held back, four requests"
is "$(( $(recv_count) - n0 ))" 4 "fan-out: three alerts and a summary arrived"
G=$R/req.$((n0 + 4)).body
is "$(jget "$G" '{event}') $(jget "$G" '{rule}') $(jget "$G" '{held}')" "summary fan 5" \
	"the summary: its event, rule and count"
held=$(perl -MJSON::PP -e 'local $/; open my $f, "<", $ARGV[0] or die; my $j = decode_json(<$f>);
	print join ",", sort map { (split / /)[1] } @{$j->{held_alerts}}' "$G")
sent=$(for i in 1 2 3; do jget "$R/req.$((n0 + i)).body" '{group}'; echo; done | sort | paste -sd,)
is "$(printf '%s,%s\n' "$held" "$sent" | tr , '\n' | sort | paste -sd,)" \
	"mx1.f.example,mx2.f.example,mx3.f.example,mx4.f.example,mx5.f.example,mx6.f.example,mx7.f.example,mx8.f.example" \
	"the three sent and the five named in the summary are the eight MX hosts, each once"
is "$(q "select count(*) from tlswatch.alert_state where rule = 'fan' and last_event = 'firing'")" 8 \
	"all eight recorded as firing"
$TW alert --config "$T/fan.conf" --now 2024-06-05T13:00:00Z 2>"$T/err"
like "$(cat "$T/err")" "0 fired, 0 resolved, 8 in cooldown; 0 sent" "the next pass: all eight in cooldown"
is "$(( $(recv_count) - n0 ))" 4 "the next pass: nothing more sent"

# --test sends a sample to the webhook at once.
n0=$(recv_count)
$TW alert --config "$T/gen.conf" --test hook 2>"$T/err"; rc=$?
is "$rc" 0 "--test: exit 0"
is "$(jget "$R/req.$((n0 + 1)).body" '{event}')" test "--test: a sample arrived"
$TW alert --config "$T/d.conf" --test down 2>"$T/err"; rc=$?
is "$rc" 75 "--test to nothing listening: exit 75"
pg_stop_server
$TW alert --config "$T/gen.conf" 2>"$T/err"; rc=$?
is "$rc" 75 "database down: exit 75"
pg_start_server

done_testing
