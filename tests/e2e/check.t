#!/bin/sh
# tlswatch check (issue 17) against a fake internet on loopback
# (tests/lib/mtasts.sh): dnsmasq for the records, HTTPS servers for the
# policy files, a real Postfix smtpd per MX host, certificates from a CA
# made here. Each domain is built with the faults the test then expects,
# so the expected findings come from how it was built. Then --save (a
# policy changed under the same id) and the digest's verdict.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"
. "$(dirname "$0")/../lib/mtasts.sh"
. "$(dirname "$0")/../lib/digest_gen.sh"
. "$(dirname "$0")/../lib/alert_gen.sh"

sts_require
TW=$(pwd)/tlswatch
pg_start_schema
trap 'sts_cleanup; pg_cleanup' EXIT
S=$STS_DIR
sts_ca

# policy DOMAIN MODE MAX_AGE MX...: the policy file of DOMAIN, served by a
# new HTTPS server on an address of its own; sets A_HTTPS.
policy() {
	d=$1 mode=$2 age=$3
	shift 3
	mkdir -p "$S/www-$d/.well-known"
	{
		printf 'version: STSv1\r\nmode: %s\r\n' "$mode"
		for mx in "$@"; do printf 'mx: %s\r\n' "$mx"; done
		printf 'max_age: %s\r\n' "$age"
	} >"$S/www-$d/.well-known/mta-sts.txt"
	sts_addr A_HTTPS
	sts_cert "web-$d" "mta-sts.$d"
	sts_https_start "$A_HTTPS" "$STS_CERT" "$STS_KEY" "$S/www-$d"
}
# mxhost NAME [CERT-OPTION] [SERVER-OPTION]: an MX host with a certificate
# for NAME (or the option's kind); sets A_MX.
mxhost() {
	sts_addr A_MX
	case ${2:-} in
	wrong-name) sts_cert "mx-$1" "other.invalid" ;;
	# shellcheck disable=SC2086 # "-days 10" is two words
	-*) sts_cert $2 "mx-$1" "$1" ;;
	*) sts_cert "mx-$1" "$1" ;;
	esac
	# shellcheck disable=SC2086 # the option, or none
	sts_smtp_start "$A_MX" "$STS_CERT" "$STS_KEY" ${3:-} "myhostname=$1"
}

# good.test: all right.
policy good.test testing 604800 '*.good.test'
A_POLICY_GOOD=$A_HTTPS
mxhost mx1.good.test
A_MX_GOOD=$A_MX
# bad.test: two TLS-RPT records, an id that is not one, the policy as
# text/html under enforce, an MX host not covered, an expired certificate.
policy bad.test enforce 604800 mx1.bad.test
A_POLICY_BAD=$A_HTTPS
echo text/html >"$S/www-bad.test/.well-known/mta-sts.txt.type"
mxhost mx1.bad.test -expired
A_MX_BAD=$A_MX
mxhost mx.elsewhere.test
A_MX_ELSEWHERE=$A_MX
# warn.test: max_age of a day under testing, a certificate with 10 days.
policy warn.test testing 86400 mx1.warn.test
A_POLICY_WARN=$A_HTTPS
mxhost mx1.warn.test "-days 10"
A_MX_WARN=$A_MX
# more.test: the policy redirected; MX hosts without STARTTLS, with a
# certificate for another name, speaking only TLS 1.1.
policy more.test testing 604800 '*.more.test'
A_POLICY_MORE=$A_HTTPS
echo https://elsewhere.invalid/policy >"$S/www-more.test/.well-known/mta-sts.txt.location"
mxhost mx1.more.test "" nostarttls
A_MX1_MORE=$A_MX
mxhost mx2.more.test wrong-name
A_MX2_MORE=$A_MX
mxhost mx3.more.test "" tls1.1
A_MX3_MORE=$A_MX

# pol.test: one policy server whose file each case rewrites (read on
# every request); wrongcert.test: a policy server whose certificate is
# for another name.
policy pol.test testing 604800 mx1.good.test
A_POLICY_POL=$A_HTTPS
sts_addr A_WRONGCERT
sts_cert web-wrongcert other.invalid
mkdir -p "$S/www-wrongcert/.well-known"
cp "$S/www-good.test/.well-known/mta-sts.txt" "$S/www-wrongcert/.well-known/"
sts_https_start "$A_WRONGCERT" "$STS_CERT" "$STS_KEY" "$S/www-wrongcert"

zone() {
	cat <<EOF
_smtp._tls.good.test TXT v=TLSRPTv1; rua=mailto:tlsrpt@good.test,https://tlsrpt.good.test/v1
_mta-sts.good.test TXT v=STSv1; id=20261201T000000
good.test MX 10 mx1.good.test
mta-sts.good.test A $A_POLICY_GOOD
mx1.good.test A $A_MX_GOOD
_smtp._tls.bad.test TXT v=TLSRPTv1; rua=mailto:a@bad.test
_smtp._tls.bad.test TXT v=TLSRPTv1; rua=mailto:b@bad.test
_mta-sts.bad.test TXT v=STSv1; id=not-an-id!
bad.test MX 10 mx1.bad.test
bad.test MX 20 mx.elsewhere.test
mta-sts.bad.test A $A_POLICY_BAD
mx1.bad.test A $A_MX_BAD
mx.elsewhere.test A $A_MX_ELSEWHERE
_smtp._tls.warn.test TXT v=TLSRPTv1; rua=ftp://nowhere.test, mailto:tlsrpt@warn.test
_mta-sts.warn.test TXT v=STSv1; id=1
warn.test MX 10 mx1.warn.test
mta-sts.warn.test A $A_POLICY_WARN
mx1.warn.test A $A_MX_WARN
_mta-sts.more.test TXT v=STSv1; id=abc
more.test MX 10 mx1.more.test
more.test MX 20 mx2.more.test
more.test MX 30 mx3.more.test
mta-sts.more.test A $A_POLICY_MORE
mx1.more.test A $A_MX1_MORE
mx2.more.test A $A_MX2_MORE
mx3.more.test A $A_MX3_MORE
_mta-sts.pol.test TXT v=STSv1; id=pol1
pol.test MX 10 mx1.good.test
mta-sts.pol.test A $A_POLICY_POL
mta-sts.wrongcert.test A $A_WRONGCERT
EOF
}
zone >"$S/zone"
sts_dns_start "$S/zone"
printf '[dns]\nnameservers = 127.0.0.1:%s\ntimeout = 2s\n[check]\nca-file = %s\ntimeout = 10s\n' \
	"$DNS_PORT" "$STS_CA" >"$S/check.conf"

check() { # OPTIONS... DOMAIN...: stdout in $S/out, exit status in rc
	$TW check --config "$S/check.conf" "$@" >"$S/out" 2>"$S/err"
	rc=$?
}
# level CHECK SUBJECT: the level of that finding in $S/out
level() { awk -v c="$1" -v s="$2:" '$2 == c && $3 == s { print $1 }' "$S/out" | sort -u | tr '\n' ' ' | sed 's/ $//'; }

# ---- good.test -----------------------------------------------------------------

check good.test
is "$rc" 0 "good.test: exit 0" || diag "$(cat "$S/out" "$S/err")"
like "$(head -n 1 "$S/out")" "^good.test: deployment looks right \\(0 failures, 0 warnings\\)" "... no failure, no warning"
is "$(level tlsrpt-record _smtp._tls.good.test)" ok "... the TLS-RPT record"
is "$(level sts-record _mta-sts.good.test)" ok "... the MTA-STS record"
is "$(level policy https://mta-sts.good.test/.well-known/mta-sts.txt)" ok "... the policy file"
is "$(level mx-coverage mx1.good.test)" ok "... mx1 covered by *.good.test"
is "$(level mx-tls mx1.good.test)" ok "... mx1: STARTTLS and a valid certificate"
like "$(cat "$S/out")" "mx1.good.test: $A_MX_GOOD: STARTTLS, TLS 1.2 or newer, certificate valid for the name, (88|89) days left" \
	"... with the days left of its 90-day certificate"
like "$(cat "$S/smtp-$A_MX_GOOD/maillog")" "ehlo=2 starttls=1 noop=1 quit=1" "... Postfix's log: EHLO, STARTTLS, EHLO, NOOP, QUIT"

check --format json good.test
like "$(cat "$S/out")" '^\{"domain":"good.test",.*"ok":true' "--format json: one object, ok"
like "$(cat "$S/out")" '"policy":\{"mode":"testing","max_age":604800,"mx":\["\*.good.test"\]' "... with the policy read"

# ---- bad.test ------------------------------------------------------------------

check bad.test
is "$rc" 1 "bad.test: exit 1 (a check failed)"
like "$(head -n 1 "$S/out")" "^bad.test: not ready for enforce" "... not ready"
is "$(level tlsrpt-record _smtp._tls.bad.test)" FAIL "two TLS-RPT records: FAIL"
like "$(cat "$S/out")" "2 TLSRPTv1 records: there must be exactly one" "... saying so"
is "$(level sts-record _mta-sts.bad.test)" FAIL "an id with - and !: FAIL"
like "$(cat "$S/out")" "Content-Type text/html: text/plain is needed" "the policy served as text/html: FAIL"
is "$(level mx-coverage mx.elsewhere.test)" FAIL "an MX host not covered, under enforce: FAIL"
is "$(level mx-coverage mx1.bad.test)" ok "... the one covered: ok"
is "$(level mx-tls mx1.bad.test)" FAIL "an expired certificate: FAIL"
like "$(grep 'mx1.bad.test' "$S/out")" "expired" "... saying it expired"

# ---- warn.test -----------------------------------------------------------------

check warn.test
is "$rc" 0 "warn.test: exit 0 (warnings only)"
like "$(head -n 1 "$S/out")" "\\(0 failures, 3 warnings\\)" "... three warnings"
like "$(cat "$S/out")" "warn +tlsrpt-record +_smtp._tls.warn.test: rua ftp://nowhere.test is neither mailto: nor https:" \
	"a rua that is neither mailto: nor https: (another one is): warn"
like "$(cat "$S/out")" "warn +policy .*max_age 86400: under testing, one to two weeks" "max_age of a day under testing: warn"
like "$(cat "$S/out")" "warn +mx-tls +mx1.warn.test: .*expires in 9 days" "a certificate with 10 days left: warn"

# ---- more.test -----------------------------------------------------------------

check more.test
is "$rc" 1 "more.test: exit 1"
is "$(level tlsrpt-record _smtp._tls.more.test)" FAIL "no TLS-RPT record: FAIL"
like "$(cat "$S/out")" "HTTP 301 \\(a redirect\\): senders accept 200 only" "a redirected policy: FAIL"
like "$(grep mx1.more.test "$S/out")" "FAIL +mx-tls .*STARTTLS is not offered" "no STARTTLS: FAIL"
like "$(grep mx2.more.test "$S/out")" "FAIL +mx-tls .*(subject name|does not match)" "a certificate for another name: FAIL"
like "$(grep mx3.more.test "$S/out")" "FAIL +mx-tls .*TLS 1.2 or newer is needed" "TLS 1.1 only: FAIL"

# ---- the policy file, case by case ----------------------------------------------

P=$S/www-pol.test/.well-known/mta-sts.txt
polcheck() { # CASE: check pol.test, its policy findings in $S/pol
	check pol.test
	grep ' policy ' "$S/out" >"$S/pol"
}
polcheck
is "$(awk '{ print $1 }' "$S/pol")" ok "pol.test as served first: the policy is ok"
echo 404 >"$P.status"
polcheck
like "$(cat "$S/pol")" "FAIL +policy .*HTTP 404: senders accept 200 only" "a 404: FAIL"
rm -f "$P.status"
head -c 70000 /dev/zero | tr '\0' '#' >"$S/big"
{ printf 'version: STSv1\r\nmode: testing\r\nmx: mx1.good.test\r\nmax_age: 604800\r\n'; cat "$S/big"; } >"$P"
polcheck
like "$(cat "$S/pol")" "FAIL +policy .*larger than 65536 bytes" "a policy over 64 KiB: FAIL"
printf 'mode: testing\nversion: STSv1\nmx: mx1.good.test\nmax_age: 604800\n' >"$P"
polcheck
like "$(cat "$S/pol")" "FAIL +policy .*the first line must be version: STSv1" "version not first: FAIL"
printf 'version: STSv1\nmode: testing\nmx: mx1.good.test\nmax_age: 99999999999\n' >"$P"
polcheck
like "$(cat "$S/pol")" "FAIL +policy .*max_age 99999999999: a whole number of seconds up to 31557600" "max_age over a year: FAIL"
printf 'version: STSv1\nmode: testing\nmx: mx1.good.test\nmax_age: 604800\n' >"$P"
polcheck
is "$(awk '{ print $1 }' "$S/pol")" ok "the same with LF line ends: ok"
check wrongcert.test
like "$(grep ' policy ' "$S/out")" "FAIL +policy .*(subject name|does not match)" "a policy server with a certificate for another name: FAIL"

check nxdomain.test
is "$rc" 1 "a domain with nothing published: exit 1"
like "$(cat "$S/out")" "no TLSRPTv1 record" "... no TLS-RPT record"
like "$(cat "$S/out")" "mta-sts.nxdomain.test: no address" "... no policy host"

# ---- --save --------------------------------------------------------------------

check --save good.test
is "$rc" 0 "--save: exit 0"
is "$(q "select concat_ws(' ', domain, ok::text, failures, sts_id) from tlswatch.checks")" "good.test true 0 20261201T000000" \
	"... the check kept"
printf 'version: STSv1\r\nmode: enforce\r\nmx: *.good.test\r\nmax_age: 604800\r\n' \
	>"$S/www-good.test/.well-known/mta-sts.txt"
check --save good.test
is "$rc" 1 "the policy changed, the id not: exit 1"
like "$(cat "$S/out")" "FAIL +policy-id +good.test: the policy changed since [0-9-]+ but its id is still 20261201T000000" \
	"... a policy-id failure"
sed -i 's/id=20261201T000000/id=20261202T000000/' "$S/zone"
sts_dns_stop
sts_dns_start "$S/zone" "$DNS_PORT"
check --save good.test
is "$rc" 0 "a new id: exit 0"
like "$(cat "$S/out")" "ok +policy-id +good.test: id changed from 20261201T000000 to 20261202T000000" "... the change said"

# ---- the digest's verdict -------------------------------------------------------
# Reports that make good.test and bad.test ready by themselves (three
# reporters, six days, clean), imported by hand: then the live check decides.

mkdir -p "$S/r"
for i in 1 2 3 4 5 6; do
	end=$(date -u -d "-$i days" +%Y-%m-%dT12:00:00Z)
	for d in good.test bad.test; do
		for org in Google Microsoft Yahoo; do
			alert_report "$S/r" "$org" "$d-$org-$i" "$end" "$d" 1000 0
		done
	done
done
$TW ingest "$S"/r/*.json 2>/dev/null
$TW check --config "$S/check.conf" --save bad.test >/dev/null 2>&1
$TW digest --since 7d --format json >"$S/digest.json"
is "$(jget "$S/digest.json" '{domains}[1]{domain}') $(jget "$S/digest.json" '{domains}[1]{readiness}{state}')" "good.test ready" \
	"digest: good.test, clean reports and a clean live check: ready"
is "$(jget "$S/digest.json" '{domains}[1]{live_check}{ok}')" true "... its live check in the JSON"
like "$(jget "$S/digest.json" '{domains}[1]{live_check}{id_change}')" "id changed from 20261201T000000 to 20261202T000000" \
	"... with the id change"
is "$(jget "$S/digest.json" '{domains}[0]{domain}') $(jget "$S/digest.json" '{domains}[0]{readiness}{state}')" "bad.test not ready" \
	"bad.test, the same clean reports but a failing live check: not ready"
like "$(jget "$S/digest.json" '{domains}[0]{readiness}{reason}')" "the live check of [0-9-]+ failed: tlsrpt-record _smtp._tls.bad.test: 2 TLSRPTv1 records" \
	"... naming the failing check"
$TW digest --since 7d --domain bad.test >"$S/digest.txt"
like "$(cat "$S/digest.txt")" "live check of [0-9-]+: [0-9]+ failures" "the text digest shows the live check"

done_testing
