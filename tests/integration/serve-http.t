#!/bin/bash
# tlswatch serve receiving reports as rua=https: reporters send them (RFC
# 8460, 3), from real curl clients on 127.0.0.1: every fixture and corpus
# report POSTed (gzip and json) gets the code its stored row calls for
# (201 stored, 200 duplicate, 400 quarantined, with nothing lost);
# garbage and a gzip bomb 400 and quarantined; a body over
# max-message-size 413, another type 415, another method 405, another path
# 404 under https-path; database down 503 with Retry-After and nothing
# written, back 201 without a restart; a client that sends nothing is
# dropped after idle-timeout; HTTPS with a CA made here, refused by a
# client that does not trust it; one worker holding more than twice
# max-message-size of bodies at once turns the next away with 503; past
# http-rate a client address gets 429, over all workers.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"
. "$(dirname "$0")/../lib/serve.sh"

command -v curl >/dev/null || bail "curl is missing (make deps)"
command -v openssl >/dev/null || bail "openssl is missing (make deps)"
TW=./tlswatch
FX=tests/fixtures
CORPUS=${TLSWATCH_CORPUS:-../shared/corpus}
pg_start_schema
T=$PG_DIR/http
mkdir -p "$T"
HTTP=$(free_port) HTTPS=$(free_port)

# A CA and a certificate for 127.0.0.1 signed by it.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=tlswatch test CA" \
	-keyout "$T/ca.key" -out "$T/ca.pem" >/dev/null 2>&1 || bail "openssl: CA"
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$T/server.key" \
	-out "$T/server.csr" >/dev/null 2>&1 || bail "openssl: CSR"
printf 'subjectAltName = IP:127.0.0.1\n' >"$T/san.ext"
openssl x509 -req -in "$T/server.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
	-days 2 -extfile "$T/san.ext" -out "$T/server.pem" >/dev/null 2>&1 || bail "openssl: sign"

cat >"$T/c.conf" <<EOF
[ingest]
max-message-size = 1M
[serve]
http = 127.0.0.1:$HTTP
https = 127.0.0.1:$HTTPS
certificate = $T/server.pem
key = $T/server.key
https-path = /v1
workers = 2
idle-timeout = 2s
EOF
serve_start "$T/c.conf" "http://127.0.0.1:$HTTP/"

# post FILE TYPE [URL]: prints the HTTP code; the body in $T/body
post() {
	curl -s -o "$T/body" -w '%{http_code}' -H "Content-Type: $2" --data-binary "@$1" \
		"${3:-http://127.0.0.1:$HTTP/v1}"
}
last() { q "select status from tlswatch.messages order by id desc limit 1"; }
rows() { q "select count(*) from tlswatch.messages"; }

is "$(post $FX/bare-report.json.gz application/tlsrpt+gzip)" 201 "gzip report: 201 Created"
like "$(cat "$T/body")" "^stored 1 report: example\\.com, Bare Fixture \\(fixture-bare-1\\)" \
	"... the body is the pipe's status line"
is "$(last)" stored "... and it is stored"
is "$(post $FX/bare-report.json application/tlsrpt+json)" 200 "the same report as json: 200 (duplicate)"
is "$(last)" duplicate "... and it is a duplicate"
is "$(post $FX/bomb.json.gz application/tlsrpt+gzip)" 400 "a gzip bomb: 400"
is "$(last)" quarantined "... kept in quarantine"
printf 'garbage' >"$T/garbage"
is "$(post "$T/garbage" 'application/tlsrpt+json; charset=utf-8')" 400 "garbage: 400"
like "$(cat "$T/body")" "^quarantined: not a TLS report" "... saying why"
is "$(q "select channel || ' ' || host(client) || ' ' || user_agent from tlswatch.messages order by id desc limit 1")" \
	"http 127.0.0.1 curl/$(curl --version | awk 'NR == 1 { print $2 }')" \
	"... the row says where it came from: channel, client address, User-Agent"

# Every report of the corpus: the code is what its row says.
n=0 bad=0
if [ -d "$CORPUS/tlsrpt" ]; then
	while IFS= read -r f; do
		case $f in *.gz) type=application/tlsrpt+gzip ;; *) type=application/tlsrpt+json ;; esac
		before=$(rows)
		code=$(post "$f" "$type")
		n=$((n + 1))
		want=
		[ "$(rows)" -eq $((before + 1)) ] && case $(last) in
			stored) want=201 ;; duplicate) want=200 ;; quarantined) want=400 ;; esac
		[ "$code" = "$want" ] || { bad=$((bad + 1)); diag "$f: HTTP $code, row $(last)"; }
	done < <(find "$CORPUS/tlsrpt" -type f \( -name '*.json' -o -name '*.json.gz' \) | sort)
	ok "$([ "$n" -gt 0 ] && echo y)" "corpus: $n reports POSTed"
	is "$bad" 0 "corpus: each got the code of the one row it made (201, 200 or 400)"
else
	ok y "corpus: POSTs # SKIP corpus not found at $CORPUS (it lives beside the checkout in CI)"
fi

before=$(rows)
head -c 2000000 /dev/zero >"$T/big"
is "$(post "$T/big" application/tlsrpt+gzip)" 413 "a body over max-message-size (1M): 413"
is "$(post $FX/bare-report.json text/plain)" 415 "text/plain: 415"
is "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP/v1")" 405 "GET: 405"
is "$(post $FX/bare-report.json application/tlsrpt+json "http://127.0.0.1:$HTTP/other")" 404 \
	"another path than https-path: 404"
is "$(rows)" "$before" "none of them wrote a row"

# A client that opens a connection and sends nothing is dropped.
start=$(date +%s)
exec 3<>"/dev/tcp/127.0.0.1/$HTTP"
timeout 10 cat <&3 >/dev/null
exec 3>&-
took=$(($(date +%s) - start))
ok "$([ "$took" -le 5 ] && echo y)" "an idle client is dropped after idle-timeout (2 s; took $took s)"

# Database down: 503 with Retry-After, nothing written; back: 201.
pg_stop_server
code=$(curl -s -D "$T/headers" -o "$T/body" -w '%{http_code}' -H 'Content-Type: application/tlsrpt+gzip' \
	--data-binary @$FX/bare-report.json.gz "http://127.0.0.1:$HTTP/v1")
is "$code" 503 "database down: 503"
like "$(tr -d '\r' <"$T/headers")" "^Retry-After: [0-9]+$" "... with Retry-After"
like "$(cat "$T/body")" "database" "... saying why"
pg_start_server
is "$(rows)" "$before" "database down: nothing was written"
sed 's/fixture-bare-1/fixture-bare-after-outage/' $FX/bare-report.json >"$T/after.json"
is "$(post "$T/after.json" application/tlsrpt+json)" 201 "database back: 201, without a restart"

# HTTPS with the test CA; a client without it refuses the certificate.
sed 's/fixture-bare-1/fixture-bare-tls/' $FX/bare-report.json >"$T/tls.json"
code=$(curl -s -o "$T/body" -w '%{http_code}' --cacert "$T/ca.pem" -H 'Content-Type: application/tlsrpt+json' \
	--data-binary @"$T/tls.json" "https://127.0.0.1:$HTTPS/v1")
is "$code" 201 "HTTPS, the CA trusted: 201"
is "$(q "select channel || ' ' || host(client) from tlswatch.messages order by id desc limit 1")" "https 127.0.0.1" \
	"... recorded as https, with the client's address"
is "$(q "select concat_ws(' ', authenticated::text, dkim_result, auth_note) from tlswatch.messages order by id desc limit 1")" \
	"false none unauthenticated (https) from 127.0.0.1" \
	"... and as unauthenticated: a POST has no signature (issue 16)"
is "$(q "select r.authenticated::text from tlswatch.reports r join tlswatch.messages m on m.id = r.message_ref order by m.id desc limit 1")" false \
	"... its report neither: it never pages, never counts toward ready"
curl -s -o /dev/null -H 'Content-Type: application/tlsrpt+json' --data-binary @"$T/tls.json" \
	"https://127.0.0.1:$HTTPS/v1"
rc=$?
is "$rc" 60 "HTTPS, the CA not trusted: curl refuses the certificate (exit 60)"

serve_stop
is "$SERVE_RC" 0 "SIGTERM: exit 0"

# One worker, three slow clients each sending 900 KB: the bodies it would
# hold at once pass twice max-message-size (1M), so one of them gets 503
# (try later) and the two others are handled (400: zeros are no report).
ONE=$(free_port)
printf '[ingest]\nmax-message-size = 1M\n[serve]\nhttp = 127.0.0.1:%s\nworkers = 1\n' "$ONE" >"$T/one.conf"
serve_start "$T/one.conf" "http://127.0.0.1:$ONE/"
head -c 900000 /dev/zero >"$T/900k"
for i in 1 2 3; do
	curl -s -o /dev/null -w '%{http_code}\n' --limit-rate 300k -H 'Content-Type: application/tlsrpt+gzip' \
		--data-binary @"$T/900k" "http://127.0.0.1:$ONE/v1" >"$T/slow.$i" &
done
wait $(jobs -p | grep -v "^$SERVE_PID\$")
is "$(cat "$T"/slow.* | sort | tr '\n' ' ')" "400 400 503 " \
	"three slow 900 KB bodies at once on one worker: two handled, one 503"
serve_stop

# http-rate = 3 POSTs a minute per address, shared by the two workers:
# six POSTs of new reports from 127.0.0.1, each its own connection, so
# that both workers take some: three handled, three 429 with Retry-After
# (a token every 20 s) and nothing written for them; another address
# (127.0.0.2) has a budget of its own.
RATE=$(free_port)
printf '[serve]\nhttp = 127.0.0.1:%s\nworkers = 2\nhttp-rate = 3\n' "$RATE" >"$T/rate.conf"
serve_start "$T/rate.conf" "http://127.0.0.1:$RATE/"
before=$(rows)
codes=
for i in 1 2 3 4 5 6; do
	sed "s/fixture-bare-1/rate-$i/" $FX/bare-report.json >"$T/rate-$i.json"
	codes="$codes $(curl -s -o /dev/null -D "$T/rate-$i.headers" -w '%{http_code}' \
		-H 'Content-Type: application/tlsrpt+json' --data-binary @"$T/rate-$i.json" "http://127.0.0.1:$RATE/v1")"
done
is "$codes" " 201 201 201 429 429 429" "http-rate = 3: three POSTs handled, the next three 429"
like "$(tr -d '\r' <"$T/rate-4.headers")" "^Retry-After: (2[01]|1[0-9])$" "... with Retry-After: the next token, about 20 s away"
is "$(($(rows) - before))" 3 "... and only the three handled are written"
sed "s/fixture-bare-1/rate-7/" $FX/bare-report.json >"$T/rate-7.json"
is "$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.2 -H 'Content-Type: application/tlsrpt+json' \
	--data-binary @"$T/rate-7.json" "http://127.0.0.1:$RATE/v1")" 201 "another client address (127.0.0.2) has a budget of its own"
serve_stop

done_testing
