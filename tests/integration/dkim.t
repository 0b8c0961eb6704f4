#!/bin/sh
# Trust (issue 16): DKIM signatures made here with real keys (python3-dkim),
# keys served by dnsmasq on 127.0.0.1, every case stored by `tlswatch
# ingest` into a real database and read back from tlswatch.messages. What
# each case must give is set by how it was made (which key, which edit),
# never by an earlier run.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"
. "$(dirname "$0")/../lib/dkim.sh"

TW=./tlswatch
FX=tests/fixtures
pg_start_schema
trap 'dkim_cleanup; pg_cleanup' EXIT
D=$DKIM_DIR

# Keys: the reporter's (no s=: every service), one restricted to tlsrpt as
# RFC 8460 allows, one restricted to email, a stranger's, and a 1024-bit
# one for the subdomain signer.
reporter=$(dkim_keygen reporter)
tlsrpt=$(dkim_keygen tlsrpt)
email=$(dkim_keygen email)
stranger=$(dkim_keygen stranger)
cat >"$D/zone" <<EOF
sel._domainkey.example.net v=DKIM1; k=rsa; p=$reporter
tls._domainkey.example.net v=DKIM1; k=rsa; s=tlsrpt; p=$tlsrpt
mail._domainkey.example.net v=DKIM1; k=rsa; s=email; p=$email
sel._domainkey.mail.example.net v=DKIM1; k=rsa; p=$reporter
evil._domainkey.attacker.example v=DKIM1; k=rsa; p=$stranger
EOF
dns_start "$D/zone"
dns_blackhole_start

conf() { # NAME [INGEST-LINES...]: a config with [dns] on dnsmasq
	name=$1
	shift
	{
		printf '[dns]\nnameservers = 127.0.0.1:%s\ntimeout = 1s\n[ingest]\n' "$DNS_PORT"
		for line in "$@"; do echo "$line"; done
	} >"$D/$name.conf"
}
conf record
conf require 'dkim = require'
conf off 'dkim = off'
conf authserv 'trusted-authserv-id = mx.test.example'
printf '[dns]\nnameservers = 127.0.0.1:%s\ntimeout = 1s\n' "$BLACKHOLE_PORT" >"$D/blackhole.conf"
printf '[dns]\nnameservers = 127.0.0.1:%s\ntimeout = 1s\n[ingest]\ndkim = require\n' \
	"$BLACKHOLE_PORT" >"$D/blackhole-require.conf"

# Each case is a fresh message: a new Message-ID and report-id, so that no
# case is a duplicate of another. The report is a plain JSON part, which
# makes an edit of its body easy to state.
n=0
report_mail() { # [SUBMITTER]: a new report mail in $D/new.eml (run it in this
	# shell, not in a pipeline: n must count)
	n=$((n + 1))
	cat >"$D/new.eml" <<EOF
From: "Fixture Reporter" <tlsrpt-noreply@example.net>
To: tlsrpt@example.com
Date: Wed, 13 May 2026 01:02:03 +0000
Message-ID: <dkim-case-$n@example.net>
Subject: Report Domain: example.com Submitter: ${1:-example.net} Report-ID: <dkim-case-$n>
TLS-Report-Domain: example.com
TLS-Report-Submitter: ${1:-example.net}
MIME-Version: 1.0
Content-Type: multipart/report; boundary="b"; report-type=tlsrpt

--b
Content-Type: text/plain

A TLS report.

--b
Content-Type: application/tlsrpt+json

{"organization-name":"Fixture Corp","date-range":{"start-datetime":"2026-05-12T00:00:00Z","end-datetime":"2026-05-12T23:59:59Z"},"contact-info":"tlsrpt@example.net","report-id":"dkim-case-$n","policies":[{"policy":{"policy-type":"sts","policy-domain":"example.com"},"summary":{"total-successful-session-count":10,"total-failure-session-count":2}}]}
--b--
EOF
}

last() { q "select $1 from tlswatch.messages order by id desc limit 1"; }
# authenticated, dkim_result, dkim_domain, dkim_selector of the last message
verdict() { last "concat_ws(' ', coalesce(authenticated::text, 'null'), dkim_result, dkim_domain, dkim_selector)"; }

ingest() { # CONF < message: exit status in rc, stderr in $D/err
	$TW ingest --config "$D/$1.conf" 2>"$D/err"
	rc=$?
}

# ---- verified here -------------------------------------------------------

report_mail
dkim_sign reporter example.net sel <"$D/new.eml" >"$D/pass.eml"
ingest record <"$D/pass.eml"
is "$rc" 0 "signed by the reporter: exit 0"
is "$(verdict)" "true pass example.net sel" "signed by the reporter: authenticated, pass, d= and s= kept"
is "$(last auth_note)" "dkim pass d=example.net, aligned with example.net" "... and why, in words"
is "$(q "select r.authenticated from tlswatch.reports r join tlswatch.messages m on m.id = r.message_ref order by m.id desc limit 1")" t \
	"... and its report is authenticated too (what alert and digest read)"
is "$(last "dkim_signatures->0->>'tlsrpt-key'")" true "a key without s= serves tlsrpt too"

report_mail
dkim_sign tlsrpt example.net tls <"$D/new.eml" >"$D/tlsrpt-key.eml"
ingest record <"$D/tlsrpt-key.eml"
is "$(verdict)" "true pass example.net tls" "a key restricted to s=tlsrpt (RFC 8460 3): pass"
is "$(last "dkim_signatures->0->>'tlsrpt-key'")" true "... and recorded as a tlsrpt key"

report_mail
dkim_sign email example.net mail <"$D/new.eml" >"$D/email-key.eml"
ingest record <"$D/email-key.eml"
is "$(verdict)" "true pass example.net mail" "a key restricted to s=email: pass (a report is mail)"
is "$(last "dkim_signatures->0->>'tlsrpt-key'")" false "... recorded as not a tlsrpt key"

sed 's/"total-failure-session-count":2/"total-failure-session-count":9999/' "$D/pass.eml" >"$D/body.eml"
ingest record <"$D/body.eml"
is "$rc" 0 "body changed after signing: stored all the same (dkim = record)"
is "$(verdict)" "false fail example.net sel" "body changed after signing: fail"
like "$(last auth_note)" "body hash mismatch" "... because of the body"

sed 's/^Subject: Report Domain/Subject: Forged Domain/' "$D/pass.eml" >"$D/header.eml"
ingest record <"$D/header.eml"
is "$(verdict)" "false fail example.net sel" "a signed header changed: fail"

report_mail
cp "$D/new.eml" "$D/unsigned.eml"
ingest record <"$D/unsigned.eml"
is "$(verdict)" "false none" "unsigned: not authenticated, none"
is "$(last auth_note)" "no DKIM signature" "... and why"

report_mail
dkim_sign stranger attacker.example evil <"$D/new.eml" >"$D/stranger.eml"
ingest record <"$D/stranger.eml"
is "$(verdict)" "false pass attacker.example evil" "signed by an unrelated domain: its signature passes, the message is not authenticated"
is "$(last auth_note)" "dkim pass d=attacker.example, not aligned with example.net" "... not aligned with the reporter"

report_mail
dkim_sign reporter mail.example.net sel <"$D/new.eml" >"$D/subdomain.eml"
ingest record <"$D/subdomain.eml"
is "$(verdict)" "true pass mail.example.net sel" "d= a subdomain of the reporter: aligned (same organisational domain)"

report_mail reports.example.net
dkim_sign reporter example.net sel <"$D/new.eml" >"$D/parent.eml"
ingest record <"$D/parent.eml"
is "$(verdict)" "true pass example.net sel" "d= the parent of TLS-Report-Submitter: aligned"

report_mail
dkim_sign reporter example.net sel --length <"$D/new.eml" >"$D/length.eml"
ingest record <"$D/length.eml"
is "$(verdict)" "false pass example.net sel" "an l= tag: the signature passes, the message is not authenticated"
like "$(last auth_note)" "l=: the body is not all signed" "... because text could follow what was signed"
is "$(last "dkim_signatures->0->>'body-length'")" true "... and l= is recorded"

report_mail
dkim_sign stranger example.net sel <"$D/new.eml" | dkim_sign reporter example.net sel >"$D/two.eml"
ingest record <"$D/two.eml"
is "$(verdict)" "true pass example.net sel" "two signatures, one good: authenticated"
is "$(last "jsonb_array_length(dkim_signatures)")" 2 "... both recorded"
is "$(last "(select string_agg(s->>'result', ' ' order by s->>'result') from jsonb_array_elements(dkim_signatures) s)")" "fail pass" \
	"... one fails (signed with the wrong key), one passes"

report_mail
dkim_sign reporter example.net sel --expire -86400 <"$D/new.eml" >"$D/expired.eml"
ingest record <"$D/expired.eml"
is "$(verdict)" "false permerror example.net sel" "an expired signature (x= a day ago): permerror"
like "$(last auth_note)" "expired" "... saying it expired"

report_mail
dkim_sign reporter nokey.example sel <"$D/new.eml" >"$D/nokey.eml"
ingest record <"$D/nokey.eml"
is "$(verdict)" "false permerror nokey.example sel" "no key in DNS (NXDOMAIN): permerror"

report_mail
dkim_sign reporter example.net sel <"$D/new.eml" >"$D/dns-down.eml"
ingest blackhole <"$D/dns-down.eml"
is "$rc" 0 "DNS does not answer, dkim = record: stored (exit 0)"
is "$(verdict)" "false temperror example.net sel" "... as temperror, not authenticated"
like "$(last auth_note)" "no answer from DNS" "... saying DNS did not answer"
tempid=$(last id)
is "$(q "select raw is not null from tlswatch.messages where id = $tempid")" t "... its raw bytes kept, to verify it again"

# db reverify: still no DNS, then DNS back.
$TW db reverify --config "$D/blackhole.conf" 2>"$D/err"
rc=$?
is "$rc" 0 "db reverify, DNS still down: exit 0"
like "$(cat "$D/err")" "0 authenticated, 0 not, 1 still without a key" "... one message still without a key"
is "$(q "select concat_ws(' ', dkim_result, (raw is not null)::text) from tlswatch.messages where id = $tempid")" "temperror true" \
	"... still temperror, raw still kept"
$TW db reverify --config "$D/record.conf" 2>"$D/err"
rc=$?
is "$rc" 0 "db reverify, DNS back: exit 0"
like "$(cat "$D/err")" "1 authenticated, 0 not, 0 still without a key" "... one message authenticated"
is "$(q "select concat_ws(' ', authenticated::text, dkim_result, dkim_domain, (raw is null)::text) from tlswatch.messages where id = $tempid")" \
	"true pass example.net true" "... the message now passes, its raw bytes gone (keep-raw is off)"
is "$(q "select string_agg(distinct r.authenticated::text || ' ' || p.authenticated::text, ',') from tlswatch.reports r join tlswatch.policies p on p.report_ref = r.id and p.date_start = r.date_start where r.message_ref = $tempid")" \
	"true true" "... and so do its reports and their policies (what alert and digest count)"
is "$(q "select string_agg(distinct d.authenticated::text, ',') || ' ' || count(*) from tlswatch.reports r join tlswatch.domain_sessions d on d.report_ref = r.id and d.date_start = r.date_start where r.message_ref = $tempid")" \
	"true 1" "... and its sessions per domain"

before=$(q "select count(*) from tlswatch.messages")
report_mail
dkim_sign reporter example.net sel <"$D/new.eml" | $TW ingest --config "$D/blackhole-require.conf" 2>"$D/err"
rc=$?
is "$rc" 75 "DNS does not answer, dkim = require: exit 75 (the MTA retries)"
is "$(q "select count(*) from tlswatch.messages")" "$before" "... and nothing is stored"
like "$(cat "$D/err")" "DKIM key not available now" "... and stderr says why"

# An unsigned copy first (as an https POST would come), then the signed
# mail of the same report: the report counts from then on.
report_mail
cp "$D/new.eml" "$D/copy-unsigned.eml"
dkim_sign reporter example.net sel <"$D/new.eml" >"$D/copy-signed.eml"
ingest record <"$D/copy-unsigned.eml"
rid=$(q "select r.id from tlswatch.reports r join tlswatch.messages m on m.id = r.message_ref order by m.id desc limit 1")
is "$(q "select authenticated::text from tlswatch.reports where id = $rid")" false "an unsigned copy first: its report does not count"
is "$(q "select string_agg(authenticated::text, ',') from tlswatch.domain_sessions where report_ref = $rid")" false \
	"... nor its sessions per domain"
ingest record <"$D/copy-signed.eml"
is "$(last status)" duplicate "... then the signed mail of the same report: a duplicate"
is "$(q "select string_agg(distinct r.authenticated::text || ' ' || p.authenticated::text, ',') from tlswatch.reports r join tlswatch.policies p on p.report_ref = r.id and p.date_start = r.date_start where r.id = $rid")" \
	"true true" "... which makes the stored report and its policies count"
is "$(q "select string_agg(authenticated::text, ',') from tlswatch.domain_sessions where report_ref = $rid")" true \
	"... and its sessions per domain"

# ---- policy ----------------------------------------------------------------

report_mail
cp "$D/new.eml" "$D/require.eml"
ingest require <"$D/require.eml"
is "$rc" 0 "dkim = require, unsigned: handled (exit 0), never bounced"
id=$(last id)
is "$(last status)" quarantined "... quarantined"
like "$(last reason)" "not authenticated \\(dkim = require\\): no DKIM signature" "... with the reason"
is "$(q "select count(*) from tlswatch.reports where message_ref = $id")" 0 "... and no report counts"

ingest require <"$D/stranger.eml"
like "$(last reason)" "not aligned with example.net" "dkim = require, a stranger's signature: quarantined, saying so"

ingest require <"$D/subdomain.eml"
is "$(last status)" duplicate "dkim = require, aligned signature: its report is kept (a duplicate of the earlier delivery)"

conf require-trusted 'dkim = require' 'trusted-reporters = Someone Else; Fixture Corp'
$TW quarantine retry --config "$D/require.conf" "$id" 2>/dev/null
is "$(q "select status from tlswatch.messages where id = $id")" quarantined "retry under the same policy: still quarantined"
$TW quarantine retry --config "$D/require-trusted.conf" "$id" 2>"$D/err"
rc=$?
is "$rc" 0 "retry after adding the reporter to trusted-reporters: exit 0"
is "$(q "select concat_ws(' ', status, authenticated::text) from tlswatch.messages where id = $id")" "stored true" \
	"... stored, authenticated"
is "$(q "select auth_note from tlswatch.messages where id = $id")" "trusted reporter Fixture Corp (no DKIM signature)" \
	"... as a trusted reporter"

conf trusted-signer 'trusted-reporters = attacker.example'
report_mail
dkim_sign stranger attacker.example evil <"$D/new.eml" | $TW ingest --config "$D/trusted-signer.conf" 2>/dev/null
is "$(verdict)" "true pass attacker.example evil" "a signing domain in trusted-reporters: authenticated though not aligned"

report_mail
dkim_sign reporter example.net sel <"$D/new.eml" | $TW ingest --config "$D/off.conf" 2>/dev/null
is "$(verdict)" "null" "dkim = off: nothing judged (authenticated NULL)"
is "$(q "select authenticated is null from tlswatch.reports r where r.message_ref = (select max(id) from tlswatch.messages)")" t \
	"... its report neither"

gzip -c <"$FX/bare-report.json" >"$D/bare.json.gz"
# A report file named on the command line: the operator vouches for it.
$TW ingest --config "$D/require.conf" "$D/bare.json.gz" 2>/dev/null
is "$(q "select concat_ws(' ', status, coalesce(authenticated::text, 'null'), dkim_result) from tlswatch.messages order by id desc limit 1")" "stored null" \
	"a bare report file imported by hand under dkim = require: stored, not judged (it counts)"
is "$(last auth_note)" "not judged: a report file imported by hand" "... and why"

# ---- Authentication-Results of the MTA -------------------------------------

with_ar() { # FIELD...: a new unsigned report with these fields on top, on stdout
	report_mail
	for field in "$@"; do printf 'Authentication-Results: %s\n' "$field"; done
	cat "$D/new.eml"
}

with_ar 'mx.test.example; spf=pass smtp.mailfrom=example.net; dkim=pass (2048-bit key; unprotected) header.d=example.net header.i=@example.net header.s=20240101 header.b="AbCd"' >"$D/ar.eml"
ingest authserv <"$D/ar.eml"
is "$(verdict)" "true pass example.net 20240101" "trusted authserv-id, dkim=pass: authenticated from the header, comments and all"
like "$(last auth_note)" "Authentication-Results" "... and says where it came from"
is "$(last "dkim_signatures->0->>'domain'")" example.net "... d= recorded"

with_ar 'mx.other.example; dkim=pass header.d=example.net header.s=x' >"$D/ar.eml"
ingest authserv <"$D/ar.eml"
is "$(verdict)" "false none" "another host's Authentication-Results: ignored (the message is verified here: unsigned)"

with_ar 'MX.Test.Example 1; dkim=fail reason="bad signature" header.d=example.net header.s=a' \
	'mx.test.example; dkim=pass header.d=example.net header.s=b' >"$D/ar.eml"
ingest authserv <"$D/ar.eml"
is "$(verdict)" "false fail example.net a" "several fields of the trusted host: the topmost wins (authserv-id without case, a version)"

with_ar 'mx.test.example; dkim=none' 'mx.test.example; dkim=pass header.d=example.net header.s=forged' >"$D/ar.eml"
ingest authserv <"$D/ar.eml"
is "$(verdict)" "false none" "a forged field below the MTA's: ignored"

with_ar 'mx.test.example; dkim=pass header.d=attacker.example header.s=x' >"$D/ar.eml"
ingest authserv <"$D/ar.eml"
is "$(verdict)" "false pass attacker.example x" "trusted header, dkim=pass of another domain: not aligned"

with_ar 'mx.test.example; dkim=pass header.i=@example.net' >"$D/ar.eml"
ingest authserv <"$D/ar.eml"
is "$(verdict)" "true pass example.net" "header.i= alone gives the domain"

with_ar 'mx.test.example; dkim=bogus header.d=example.net' >"$D/ar.eml"
ingest authserv <"$D/ar.eml"
is "$(verdict)" "false permerror example.net" "a result RFC 8601 does not define: permerror"

report_mail
{
	printf 'Authentication-Results: mx.test.example; spf=pass smtp.mailfrom=example.net\n'
	dkim_sign reporter example.net sel <"$D/new.eml"
} >"$D/ar.eml"
ingest authserv <"$D/ar.eml"
is "$(verdict)" "true pass example.net sel" \
	"the trusted host's field has no dkim result (a DMARC or SPF milter's): the signature is verified here"

# A field of 4 KB: read whole. Cut where other fields are kept (3992
# bytes), it would have said header.d=example.net.
pad=$(head -c 3942 /dev/zero | tr '\0' x)
with_ar "mx.test.example; dkim=pass ($pad) header.d=example.net.attacker.test" >"$D/ar.eml"
ingest authserv <"$D/ar.eml"
is "$(verdict)" "false pass example.net.attacker.test" "a long trusted field is read whole, never cut into another meaning"

# ---- the corpus ------------------------------------------------------------
# Real report mail from ../shared/corpus, against dnsmasq that has none of
# their keys (and no internet): what each must give is read from its own
# DKIM-Signature field here. A signature whose x= has passed is expired
# before any key is asked for; any other has no key. Unsigned: none.
now=$(date +%s)
for f in ../shared/corpus/tlsrpt/*/*.eml ../shared/corpus/tlsrpt/*/*.elm; do
	[ -f "$f" ] || continue
	name=${f#../shared/corpus/tlsrpt/}
	sig=$(sed -n '/^[Dd][Kk][Ii][Mm]-[Ss]ignature:/,/^[^ 	]/p' "$f" | sed '$d' | tr -d ' \t\r\n')
	expire=$(printf '%s' "$sig" | sed -n 's/.*[;:]x=\([0-9]*\).*/\1/p')
	domain=$(printf '%s' "$sig" | sed -n 's/.*[;:]d=\([^;]*\).*/\1/p')
	want="false permerror $domain"
	[ -n "$sig" ] || want="false none"
	before=$(q "select max(id) from tlswatch.messages")
	ingest record <"$f"
	if [ "$(last id)" = "$before" ]; then
		ok 0 "$name: a message row"
		continue
	fi
	got=$(last "concat_ws(' ', coalesce(authenticated::text, 'null'), dkim_result, dkim_domain)")
	note=$(last auth_note)
	diag "$name: $note"
	if [ -n "$expire" ] && [ "$expire" -lt "$now" ]; then
		like "$got $note" "^$want .*expired" "$name: expired signature (x=$expire), $domain"
	elif [ -n "$sig" ]; then
		like "$got $note" "^$want .*no TXT record" "$name: no key for $domain here"
	else
		is "$got" "$want" "$name: unsigned"
	fi
done

done_testing
