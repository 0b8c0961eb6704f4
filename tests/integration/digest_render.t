#!/bin/sh
# tlswatch digest as Markdown, HTML and mail, over the generated reports of
# tests/lib/digest_gen.s the HTML is well-formed with one bar per day and
# the ledger's figures, Markdown carries the same numbers, and --mail-to
# hands a stand-in sendmail one multipart/alternative message (text + HTML,
# identical to --format text and html) with Date, Message-ID and Subject.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"
. "$(dirname "$0")/../lib/digest_gen.sh"

TW=./tlswatch
command -v xmllint >/dev/null || skip_all "xmllint not installed (Debian package libxml2-utils)"
pg_start_schema
T=$PG_DIR/digest
LEDGER=$T/ledger
digest_gen "$T"
$TW ingest "$T"/*.json 2>/dev/null || bail "ingest of generated reports failed"
A=2024-06-03 B=2024-06-09 PA=2024-05-27 PB=2024-06-02
RANGE="--from $A --to $B"

# HTML: well-formed XML, one bar per day and domain, the same figures.
$TW digest $RANGE --format html >"$T/d.html"; rc=$?
is "$rc" 0 "html: exit 0"
xmllint --noout "$T/d.html" 2>"$T/err"; rc=$?
is "$rc" 0 "html: well-formed (xmllint)"
xmllint --html --noout "$T/d.html" 2>"$T/err"; rc=$?
is "$rc$(cat "$T/err")" 0 "html: parses as HTML without complaint"
# libxml2's HTML parser leaves the XHTML namespace out of XPath.
xp() { xmllint --html --xpath "$1" "$T/d.html" 2>/dev/null; }
is "$(xp "count(//table[@class='chart'])")" 4 "html: one chart per domain with data"
is "$(xp "count(//table[@class='chart'][1]//div[@class='bar'])")" 7 "html: seven bars in a seven-day chart"
is "$(xp "count(//div[@class='bar'])")" 28 "html: one bar per day for each of the four domains"
is "$(xp "count(//div[@class='rate'])")" 28 "html: one failure-rate bar under each"
is "$(xp "count(//script | //svg | //style)")" 0 "html: no script, SVG or style element"
ok_now=$(ledger_sum $A $B ready.example 5) f_now=$(ledger_sum $A $B ready.example 6)
prev=$(($(ledger_sum $PA $PB ready.example 5) + $(ledger_sum $PA $PB ready.example 6)))
is "$(xp "string(//h2[starts-with(., 'ready.example')]/following-sibling::table[1]/tr[2])" | tr -d ' \n')" \
	"sessions$((ok_now + f_now))$prev$(printf '%+d' $((ok_now + f_now - prev)))" "html: ready.example sessions, previous and change"
d=$(date -u -d "$A +2 day" +%F)
day_ok=$(ledger_sum $d $d ready.example 5) day_f=$(ledger_sum $d $d ready.example 6)
is "$(xp "string((//h2[starts-with(., 'ready.example')]/following-sibling::table[@class='chart'][1]//div[@class='bar'])[3]/@title)")" \
	"$d: $((day_ok + day_f)) sessions, $day_f failed" "html: a bar's title gives that day's figures"
like "$(xp "string(//h2[starts-with(., 'notready.example')])")" "not ready" "html: verdict badge"

# Markdown: the same figures.
$TW digest $RANGE --format markdown --domain ready.example >"$T/d.md"; rc=$?
is "$rc" 0 "markdown: exit 0"
like "$(cat "$T/d.md")" "^## ready\\.example: ready$" "markdown: heading with the verdict"
like "$(cat "$T/d.md")" "^\\| sessions \\| $((ok_now + f_now)) \\| $prev \\|" "markdown: sessions and previous"
like "$(cat "$T/d.md")" "^\\| failed \\| $f_now \\|" "markdown: failed sessions"

# Mail through a stand-in sendmail that records its arguments and input.
cat >"$T/sendmail" <<SH
#!/bin/sh
printf '%s\n' "\$@" >"$T/sm.args"
cat >"$T/sm.msg"
SH
chmod +x "$T/sendmail"
printf '[digest]\nsendmail = %s -oi\nfrom = digest@example.com\n' "$T/sendmail" >"$T/c.conf"
$TW digest --config "$T/c.conf" $RANGE --domain ready.example --mail-to pm@example.com \
	--mail-to ops@example.com >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 0 "mail: exit 0"
is "$(cat "$T/out")" "" "mail: nothing on stdout"
is "$(tr '\n' ' ' <"$T/sm.args")" "-oi -f digest@example.com -- pm@example.com ops@example.com " \
	"mail: [digest] from as the envelope sender (-f); without -t the recipients are arguments"
mkdir -p "$T/parts"
perl tests/lib/mime_parts.pl "$T/sm.msg" "$T/parts" >"$T/mime"
like "$(cat "$T/mime")" "^Content-Type: multipart/alternative; boundary=" "mail: multipart/alternative"
like "$(cat "$T/mime")" "^Subject: TLS report digest for ready.example: 0\\.01% failed, $A\\.\\.$B$" "mail: Subject with domain, rate and period"
like "$(cat "$T/mime")" "^Date: [A-Z][a-z]{2}, [0-9]{1,2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} [+-][0-9]{4}$" "mail: Date header"
like "$(cat "$T/mime")" "^Message-I[dD]: <[^@ ]+@example\\.com>$" "mail: Message-ID in the From domain"
like "$(cat "$T/mime")" "^From: digest@example\\.com$" "mail: From from [digest] from"
like "$(cat "$T/mime")" "^To: pm@example\\.com, ops@example\\.com$" "mail: To"
is "$(grep '^part' "$T/mime" | tr '\n' ' ')" "part 1 text/plain part 2 text/html " "mail: text then HTML"
$TW digest $RANGE --domain ready.example >"$T/d.txt"
$TW digest $RANGE --domain ready.example --format html >"$T/d1.html"
cmp -s "$T/parts/part.1" "$T/d.txt"; is "$?" 0 "mail: the text part is the text digest"
cmp -s "$T/parts/part.2" "$T/d1.html"; is "$?" 0 "mail: the HTML part is the HTML digest"

# With -t the recipients come from the header; a failing sendmail is 75.
printf '[digest]\nsendmail = %s -t -oi\n' "$T/sendmail" >"$T/c.conf"
$TW digest --config "$T/c.conf" $RANGE --mail-to pm@example.com 2>/dev/null
is "$(tr '\n' ' ' <"$T/sm.args")" "-t -oi -f postmaster@$(hostname) " \
	"mail: with -t no recipient arguments; from by default postmaster@ the host name"
like "$(grep -i '^From:' "$T/sm.msg")" "^From: postmaster@$(hostname)\$" "mail: the same in the From header"
printf '[digest]\nsendmail = /bin/false\n' >"$T/c.conf"
$TW digest --config "$T/c.conf" $RANGE --mail-to pm@example.com 2>"$T/err"; rc=$?
is "$rc" 75 "mail: sendmail failing exits 75"
like "$(cat "$T/err")" "digest not sent" "mail: says the digest was not sent"

# --webhook: the webhooks of tlswatch alert, to a real receiver on loopback.
# generic gets exactly the --format json object, signed; slack the text in
# a code block; teams the Markdown; a receiver not listening is 75.
if command -v python3 >/dev/null && command -v openssl >/dev/null; then
	. "$(dirname "$0")/../lib/http_receiver.sh"
	R=$T/recv
	recv_start "$R"
	U=http://127.0.0.1:$RECV_PORT
	printf '[webhook g]\nurl = %s/generic\nformat = generic\nsecret = s3cret\n[webhook s]\nurl = %s/slack\nformat = slack\n[webhook t]\nurl = %s/teams\nformat = teams\n[webhook down]\nurl = http://127.0.0.1:%s/\ntimeout = 2s\n' \
		"$U" "$U" "$U" "$(unused_port)" >"$T/w.conf"
	$TW digest $RANGE --format json >"$T/d.json"
	$TW digest $RANGE >"$T/d.txt"
	$TW digest $RANGE --format markdown >"$T/d.md"
	for w in g s t; do
		$TW digest --config "$T/w.conf" $RANGE --webhook $w 2>"$T/err"; rc=$?
		is "$rc" 0 "webhook $w: exit 0"
	done
	is "$(recv_count)" 3 "webhooks: three requests arrived"
	ok "$(cmp -s "$R/req.1.body" "$T/d.json" && echo 1)" "webhook generic: the body is the --format json object"
	ts=$(sed -n 's/^X-Tlswatch-Timestamp: //p' "$R/req.1.headers" | tr -d '\r')
	sig=$(sed -n 's/^X-Tlswatch-Signature: //p' "$R/req.1.headers" | tr -d '\r')
	want=$( (printf '%s.' "$ts"; cat "$R/req.1.body") | openssl dgst -sha256 -hmac s3cret | sed 's/^.*= //')
	is "$sig" "sha256=$want" "webhook generic: the signature verifies with openssl"
	perl -CO -MJSON::PP -e 'local $/; print decode_json(<STDIN>)->{text}' <"$R/req.2.body" >"$T/slack.txt"
	ok "$( (printf '```\n'; cat "$T/d.txt"; printf '```') | cmp -s - "$T/slack.txt" && echo 1)" \
		"webhook slack: the text digest in a code block"
	perl -CO -MJSON::PP -e 'local $/; print decode_json(<STDIN>)->{text}' <"$R/req.3.body" >"$T/teams.md"
	ok "$(cmp -s "$T/teams.md" "$T/d.md" && echo 1)" "webhook teams: the Markdown digest"
	$TW digest --config "$T/w.conf" $RANGE --webhook down 2>"$T/err"; rc=$?
	is "$rc" 75 "webhook not listening: 75"
	like "$(cat "$T/err")" "webhook down: webhook not reached" "webhook not listening: says so, without the URL"
	ok "$(grep -c '127.0.0.1' "$T/err" | grep -x 0)" "webhook not listening: the URL is not printed"
else
	ok 1 "python3 or openssl missing: --webhook not tested # SKIP"
fi

done_testing
