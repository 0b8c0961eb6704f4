#!/bin/sh
# tlswatch fetch (issue 15) against a real Dovecot on 127.0.0.1 (imaps,
# a CA made here), a real PostgreSQL, libcurl's IMAP: every fixture and a
# junk mail and a DMARC report fetched once, stored through the one ingest
# path, then moved to Processed or Quarantine; nothing fetched twice; the
# database down (nothing moved, exit 75); SIGKILL in the middle of a run;
# a re-created mailbox (UIDVALIDITY); XOAUTH2 with a token command; a
# certificate not trusted; max-messages.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"
. "$(dirname "$0")/../lib/dovecot.sh"

TW=$(pwd)/tlswatch
FX=tests/fixtures
[ "$(id -u)" -eq 0 ] || [ -x /usr/sbin/dovecot ] || bail "dovecot-imapd is needed (make deps)"
pg_start_schema
T=$(mktemp -d /tmp/tw-fetch.XXXXXX)
chmod a+x "$T" # Dovecot's account (nobody) goes through it to the mail
trap 'dovecot_stop; pg_cleanup; rm -rf "$T"' EXIT
dovecot_start "$T/dc"

# conf NAME ["KEY = VALUE"...]: one [imap NAME] group on INBOX with the
# password, the test CA, Processed and Quarantine; each argument replaces
# the line of its key, or adds one; "KEY =" removes it.
conf() {
	name=$1
	shift
	{
		printf '[imap %s]\nurl = imaps://127.0.0.1:%s/INBOX\nuser = reports\n' "$name" "$IMAPS_PORT"
		printf 'password-file = %s\nca-file = %s\n' "$T/dc/password" "$T/dc/ca.pem"
		printf 'processed-folder = Processed\nquarantine-folder = Quarantine\n'
	} >"$T/$name.conf"
	for line in "$@"; do
		key=${line%% =*}
		sed -i "/^$key = /d" "$T/$name.conf"
		[ -z "${line#*=}" ] || echo "$line" >>"$T/$name.conf"
	done
}
conf main
fetch() { # CONF [OPTIONS...]: exit status in rc, stderr in $T/err
	c=$1
	shift
	$TW fetch --config "$T/$c.conf" "$@" 2>"$T/err"
	rc=$?
}
rows() { q "select count(*) from tlswatch.messages where channel = 'imap' $1"; }
# report_mail ID: a report mail on stdout whose Message-ID and report-id
# are ID (a plain JSON part, so that each is a new report).
report_mail() {
	printf 'From: reporter@example.net\nTo: tlsrpt@example.com\nMessage-ID: <%s@example.net>\n' "$1"
	printf 'Subject: Report Domain: example.com\nMIME-Version: 1.0\nContent-Type: application/tlsrpt+json\n\n'
	sed "s/fixture-bare-1/$1/" $FX/bare-report.json
}

# ---- every fixture, junk and a DMARC report ---------------------------------

n=0
for f in $FX/*.eml; do
	dovecot_deliver "$f"
	n=$((n + 1))
done
is "$(dovecot_count INBOX)" "$n" "INBOX holds the $n fixture mails (junk and a DMARC report among them)"
# What the pipe makes of the same mails, in a database of its own: the
# one ingest path must give the same rows over IMAP.
psql -XAtq -d postgres -c "create database pipe" >/dev/null
PGDATABASE=pipe $TW db init >/dev/null
for f in $FX/*.eml; do PGDATABASE=pipe $TW ingest <"$f" 2>/dev/null; done
pipe_rows=$(PGDATABASE=pipe q "select status || ' ' || coalesce(message_id, '-') from tlswatch.messages order by 1")
pipe_reports=$(PGDATABASE=pipe q "select organization_name || ' ' || report_id from tlswatch.reports order by 1")

fetch main --once
is "$rc" 0 "fetch --once: exit 0" || diag "$(cat "$T/err")"
like "$(cat "$T/err")" "\\[imap main\\] $n fetched: " "... its summary line"
is "$(q "select status || ' ' || coalesce(message_id, '-') from tlswatch.messages order by 1")" "$pipe_rows" \
	"every message has the row the pipe gives it (stored, duplicate, quarantined)"
is "$(q "select organization_name || ' ' || report_id from tlswatch.reports order by 1")" "$pipe_reports" \
	"... and every report is stored exactly once, as through the pipe"
is "$(rows)" "$n" "... each row says channel imap"
is "$(dovecot_count INBOX)" 0 "INBOX is empty"
is "$(dovecot_message_ids Quarantine | tr -d '<>')" "$(q "select message_id from tlswatch.messages where status = 'quarantined' and message_id is not null order by 1")" \
	"Quarantine holds exactly the quarantined messages (junk, the DMARC report, ...)"
is "$(($(dovecot_count Processed) + $(dovecot_count Quarantine)))" "$n" "Processed holds the others"
like "$(q "select string_agg(reason, ' ') from tlswatch.messages where status = 'quarantined'")" "DMARC" \
	"... the DMARC report quarantined with its reason"
is "$(q "select last_uid from tlswatch.imap_state where account = 'main'")" "$n" "state: the last UID handled"

fetch main --once
is "$rc" 0 "a second run: exit 0"
is "$(rows)" "$n" "... fetches nothing"

# ---- the database down ------------------------------------------------------

report_mail fetch-db-down-1 >"$T/down.eml"
dovecot_deliver "$T/down.eml"
pg_stop_server
fetch main --once
is "$rc" 75 "database down: exit 75"
is "$(dovecot_count INBOX)" 1 "... the message stays in INBOX"
pg_start_server || bail "PostgreSQL did not start again"
fetch main --once
is "$rc" 0 "database up: exit 0"
is "$(q "select count(*) from tlswatch.reports where report_id = 'fetch-db-down-1'")" 1 "... stored once"
is "$(dovecot_count INBOX)" 0 "... and moved"

# ---- SIGKILL in the middle of a run -----------------------------------------

for i in $(seq 150); do
	report_mail "fetch-kill-$i" >"$T/k.eml"
	dovecot_deliver "$T/k.eml"
done
$TW fetch --config "$T/main.conf" 2>/dev/null &
pid=$!
for _ in $(seq 100); do
	[ "$(q "select count(*) from tlswatch.reports where report_id like 'fetch-kill-%'")" -ge 5 ] && break
	sleep 0.05
done
kill -KILL "$pid"
wait "$pid" 2>/dev/null
done_before=$(q "select count(*) from tlswatch.reports where report_id like 'fetch-kill-%'")
ok "$([ "$done_before" -ge 5 ] && [ "$done_before" -lt 150 ] && echo y)" "SIGKILL after $done_before of 150"
fetch main --once
is "$rc" 0 "the next run: exit 0"
is "$(q "select count(*), count(distinct report_id) from tlswatch.reports where report_id like 'fetch-kill-%'")" "150|150" \
	"... every report stored exactly once"
is "$(dovecot_count INBOX)" 0 "... none left in INBOX"
is "$(dovecot_message_ids Processed | grep -c 'fetch-kill-')" 150 "... none lost: all 150 in Processed"

# ---- a re-created mailbox (UIDVALIDITY) --------------------------------------

conf keep 'processed-folder =' 'quarantine-folder ='
for i in 1 2 3; do
	report_mail "fetch-keep-$i" >"$T/keep.eml"
	dovecot_deliver "$T/keep.eml"
done
fetch keep --once
is "$(q "select count(*) from tlswatch.reports where report_id like 'fetch-keep-%'")" 3 \
	"without folders: the 3 reports stored, the mail left in INBOX"
is "$(dovecot_count INBOX)" 3 "... where it stays"
before=$(rows)
fetch keep --once
is "$(rows)" "$before" "... and the next run reads nothing (the last UID is kept)"
v0=$(dovecot_uidvalidity INBOX)
dovecot_recreate INBOX
ok "$([ "$(dovecot_uidvalidity INBOX)" != "$v0" ] && echo y)" "INBOX re-created: a new UIDVALIDITY, UIDs from 1 again"
fetch keep --once
is "$rc" 0 "after the change: exit 0"
like "$(cat "$T/err")" "UIDVALIDITY is [0-9]+, was $v0 .*reading it again" "... logged"
is "$(q "select count(*) from tlswatch.messages where channel = 'imap' and status = 'duplicate' and message_id like 'fetch-keep-%'")" 3 \
	"... the 3 read again, recognised as duplicates"
is "$(q "select count(*) from tlswatch.reports where report_id like 'fetch-keep-%'")" 3 "... never counted twice"
is "$(q "select uidvalidity from tlswatch.imap_state where account = 'keep'")" "$(dovecot_uidvalidity INBOX)" \
	"... and the new UIDVALIDITY recorded"
conf main
fetch main --once # move them out of the way

# ---- XOAUTH2 -----------------------------------------------------------------

report_mail "fetch-oauth-1" >"$T/o.eml"
dovecot_deliver "$T/o.eml"
conf oauth 'password-file =' "oauth2-token-command = cat $T/dc/oauth-token"
fetch oauth --once
is "$rc" 0 "XOAUTH2 with the token command's token: exit 0" || diag "$(cat "$T/err")"
is "$(q "select count(*) from tlswatch.reports where report_id = 'fetch-oauth-1'")" 1 "... the report stored"
like "$(grep 'Login: user=<reports>' "$T/dc/dovecot.log" | tail -n 1)" "method=XOAUTH2" "... Dovecot's log: a login by XOAUTH2"
like "$(tail -n 1 "$T/dc/oauth.log")" "token good" "... the token the command printed passed the token check"
report_mail "fetch-oauth-2" >"$T/o.eml"
dovecot_deliver "$T/o.eml"
conf oauthbad 'password-file =' "oauth2-token-command = sh -c 'echo no token here >&2; exit 3'"
fetch oauthbad --once
is "$rc" 75 "a token command that fails: exit 75"
like "$(cat "$T/err")" "oauth2-token-command failed: .*no token here" "... saying why, with its stderr"
conf oauthwrong 'password-file =' "oauth2-token-command = echo wrong-token"
fetch oauthwrong --once
is "$rc" 75 "a token the server refuses: exit 75"
like "$(cat "$T/err")" "refused" "... saying the login was refused"
is "$(dovecot_count INBOX)" 1 "... and the message stays"

# ---- a certificate not trusted -----------------------------------------------

conf noca 'ca-file ='
fetch noca --once
is "$rc" 75 "no ca-file for the test CA: exit 75"
like "$(cat "$T/err")" "certificate is not trusted: ca-file names a private CA" "... saying so"
is "$(dovecot_count INBOX)" 1 "... nothing read"

# ---- max-messages ------------------------------------------------------------

conf main
fetch main --once # the XOAUTH2 leftover
for i in 1 2 3 4 5; do
	report_mail "fetch-max-$i" >"$T/m.eml"
	dovecot_deliver "$T/m.eml"
done
conf small 'max-messages = 2'
fetch small --once
is "$rc" 0 "max-messages = 2: exit 0"
like "$(cat "$T/err")" "2 fetched: .*more waiting" "... 2 read, more waiting"
is "$(dovecot_count INBOX)" 3 "... 3 left for the next run"
fetch small --once
fetch small --once
is "$(dovecot_count INBOX)" 0 "two runs later: all read"
is "$(q "select count(*) from tlswatch.reports where report_id like 'fetch-max-%'")" 5 "... each once"

# ---- delete = true ----------------------------------------------------------

conf del 'processed-folder =' 'quarantine-folder =' 'delete = true'
report_mail fetch-delete-1 >"$T/d.eml"
dovecot_deliver "$T/d.eml"
p0=$(dovecot_count Processed)
fetch del --once
is "$rc" 0 "delete = true: exit 0" || diag "$(cat "$T/err")"
is "$(q "select count(*) from tlswatch.reports where report_id = 'fetch-delete-1'")" 1 "... stored"
is "$(dovecot_count INBOX) $(dovecot_count Processed)" "0 $p0" "... then deleted from INBOX, not moved"

# ---- --every -------------------------------------------------------------------

$TW fetch --config "$T/main.conf" --every 1s 2>"$T/every.err" &
pid=$!
report_mail fetch-every-1 >"$T/e.eml"
dovecot_deliver "$T/e.eml"
for _ in $(seq 100); do
	[ "$(q "select count(*) from tlswatch.reports where report_id = 'fetch-every-1'")" = 1 ] && break
	sleep 0.1
done
is "$(q "select count(*) from tlswatch.reports where report_id = 'fetch-every-1'")" 1 \
	"--every 1s: a message delivered while it runs is stored"
kill -TERM "$pid"
wait "$pid"
is "$?" 0 "... and SIGTERM ends it, exit 0"

done_testing
