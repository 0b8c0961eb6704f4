#!/bin/sh
# Trust (issue 16), what it is for: a forged burst of failures pages no
# one and forged clean reports make no domain ready, while the same
# reports signed by their reporter do. Report mails are made here, signed
# or not, keys served by dnsmasq on 127.0.0.1; alerts go to a real HTTP
# receiver; the digest is read as JSON and text.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"
. "$(dirname "$0")/../lib/digest_gen.sh"
. "$(dirname "$0")/../lib/alert_gen.sh"
. "$(dirname "$0")/../lib/http_receiver.sh"
. "$(dirname "$0")/../lib/dkim.sh"

TW=./tlswatch
pg_start_schema
D=$DKIM_DIR
recv_start "$D/recv"
trap 'recv_stop; dkim_cleanup; pg_cleanup' EXIT
key=$(dkim_keygen google)
echo "sel._domainkey.google.com v=DKIM1; k=rsa; p=$key" >"$D/zone"
dns_start "$D/zone"

# mail JSON SUBMITTER: the report JSON file as a report mail on stdout.
mail() {
	cat <<EOF
From: noreply-smtp-tls-reporting@$2
To: tlsrpt@victim.example
Subject: Report Domain: victim.example Submitter: $2
Message-ID: <$(basename "$1")@$2>
TLS-Report-Domain: victim.example
TLS-Report-Submitter: $2
MIME-Version: 1.0
Content-Type: multipart/report; boundary="b"; report-type=tlsrpt

--b
Content-Type: application/tlsrpt+json

$(cat "$1")
--b--
EOF
}

# conf NAME [LINES...]: dnsmasq for DNS, the receiver for alerts.
conf() {
	name=$1
	shift
	{
		printf '[dns]\nnameservers = 127.0.0.1:%s\ntimeout = 1s\n' "$DNS_PORT"
		printf '[webhook ops]\nurl = http://127.0.0.1:%s/ops\ntimeout = 2s\n' "$RECV_PORT"
		printf '[rule failures]\nmin-failed-sessions = 10\nnotify = ops\n'
		for line in "$@"; do echo "$line"; done
	} >"$D/$name.conf"
}
conf default '[alert]' 'on-ingest = false'
conf all '[alert]' 'on-ingest = false' 'authenticated-only = false' '[digest]' 'authenticated-only = false'

# ---- alerts ---------------------------------------------------------------

END=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
mkdir -p "$D/r"
alert_report "$D/r" "Google Inc." forged-1 "$END" victim.example 100 5000 \
	"$(gen_detail certificate-expired mx.victim.example 192.0.2.1 5000)"
mail "$D/r/forged-1.json" google.com | $TW ingest --config "$D/default.conf" 2>/dev/null
is "$(q "select concat_ws(' ', authenticated::text, dkim_result) from tlswatch.messages")" "false none" \
	"a forged burst (unsigned, From google.com): stored, not authenticated"

$TW alert --config "$D/default.conf" 2>"$D/err"
is "$(q "select count(*) from tlswatch.alerts")" 0 "authenticated-only (the default): the forged burst fires nothing"
is "$(recv_count)" 0 "... and nothing reaches the webhook"

$TW alert --config "$D/all.conf" 2>"$D/err"
is "$(q "select domain || ' ' || state from tlswatch.alerts")" "victim.example sent" \
	"authenticated-only = false: the same burst pages (what the default prevents)"
q "delete from tlswatch.alerts" >/dev/null

alert_report "$D/r" "Google Inc." signed-1 "$END" signed.example 100 40 \
	"$(gen_detail certificate-expired mx.signed.example 192.0.2.1 40)"
mail "$D/r/signed-1.json" google.com | dkim_sign google google.com sel | $TW ingest --config "$D/default.conf" 2>/dev/null
is "$(q "select concat_ws(' ', authenticated::text, dkim_result) from tlswatch.messages order by id desc limit 1")" "true pass" \
	"a report signed by google.com: authenticated"
$TW alert --config "$D/default.conf" 2>"$D/err"
is "$(q "select domain || ' ' || state from tlswatch.alerts order by id")" "signed.example sent" \
	"authenticated-only: the signed report's failures page, the forged domain still not"
is "$(jget "$D/recv/req.$(recv_count).body" '{domain}')" signed.example "... the webhook got signed.example"

# ---- digest ---------------------------------------------------------------
# Three made-up reporters, clean reports every day of the week: enough for
# `ready` if they counted (min-reporters 2, min-sessions 1000, min-days 5).

for i in 1 2 3 4 5 6; do
	end=$(date -u -d "-$i days" +%Y-%m-%dT12:00:00Z)
	for org in "Google Inc.:google.com" "Microsoft Corporation:microsoft.com" "Yahoo:yahoo.com"; do
		alert_report "$D/r" "${org%%:*}" "clean-$i-${org##*:}" "$end" forged.example 1000 0
		mail "$D/r/clean-$i-${org##*:}.json" "${org##*:}" | $TW ingest --config "$D/default.conf" 2>/dev/null
	done
done
is "$(q "select count(*) from tlswatch.reports r join tlswatch.policies p on p.report_ref = r.id where p.policy_domain = 'forged.example' and not r.authenticated and not p.authenticated")" 18 \
	"18 forged clean reports stored, none authenticated"

$TW digest --config "$D/default.conf" --since 7d --domain forged.example --format json >"$D/d.json"
is "$(jget "$D/d.json" '{domains}[0]{readiness}{state}')" "no data" "authenticated-only: forged clean reports do not make the domain ready"
is "$(jget "$D/d.json" '{domains}[0]{unauthenticated_reports}')" 18 "... the JSON counts them apart"
is "$(jget "$D/d.json" '{domains}[0]{unauthenticated_senders}[2]')" Yahoo "... with their senders"
$TW digest --config "$D/default.conf" --since 7d --domain forged.example >"$D/d.txt"
like "$(cat "$D/d.txt")" "18 unauthenticated reports from 3 senders, not counted: *Google Inc., Microsoft Corporation, Yahoo" \
	"... and the text says so"
$TW digest --config "$D/default.conf" --since 7d --domain forged.example --format markdown >"$D/d.md"
like "$(cat "$D/d.md")" "\\*\\*18 unauthenticated reports from 3 senders, not counted\\*\\*" "... the Markdown too"
$TW digest --config "$D/default.conf" --since 7d --domain forged.example --format html >"$D/d.html"
like "$(cat "$D/d.html")" "<b>18 unauthenticated reports from 3 senders, not counted</b>" "... the HTML too"

$TW digest --config "$D/all.conf" --since 7d --domain forged.example --format json >"$D/all.json"
is "$(jget "$D/all.json" '{domains}[0]{readiness}{state}')" ready "authenticated-only = false: the same reports would say ready"
is "$(jget "$D/all.json" '{domains}[0]{unauthenticated_reports}')" 0 "... and nothing is set apart"

done_testing
