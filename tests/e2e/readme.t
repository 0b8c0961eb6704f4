#!/bin/bash
# README, followed as written (issue 12): the shell blocks of "Install",
# "Deploy with Postfix", "Deploy with procmail", "Deploy with LMTP" and
# "Receive reports over HTTPS" (but their systemctl blocks) run in order
# from a root shell; mail goes through Postfix to the pipe, to procmail
# and to tlswatch serve, and a report is POSTed to serve; every
# job of contrib/cron/tlswatch and every contrib/systemd ExecStart= runs
# as the account it names, and the documented commands run as the
# documented accounts. What stands for the machine, and nothing else:
#   /usr/local/, /etc/tlswatch/, /etc/postfix/, /etc/cron.d/: folders under
#       $D, in README's commands and in the files make install wrote
#   Debian's PostgreSQL: a throwaway cluster with peer authentication, its
#       socket in /run/postgresql on a free port (PGPORT, and port= added
#       to the conninfo README turns on: procmail clears the environment)
#   the system Postfix: a private instance (MAIL_CONFIG), loopback only;
#       the digest's postmaster@example.com is delivered to the mailbox of
#       the account tlswatch in $PF/mail
#   `make deps && make`: nothing (make check built ./tlswatch); `make
#       install`: make install DESTDIR=$D
# The accounts README creates (tlswatch, tlsrpt) are real: made here and
# removed at exit, so the test refuses to run where either exists.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"
. "$(dirname "$0")/mta.sh"
. "$(dirname "$0")/../lib/digest_gen.sh"
. "$(dirname "$0")/../lib/alert_gen.sh"
. "$(dirname "$0")/../lib/http_receiver.sh"

[ "$(id -u)" -eq 0 ] || skip_all "README's deploy runs as root (adduser, runuser, postfix start)"
for a in tlswatch tlsrpt; do
	if getent passwd "$a" >/dev/null || getent group "$a" >/dev/null; then
		skip_all "this machine has an account or group $a: the test creates and removes its own"
	fi
done
mta_require postfix procmail
command -v python3 >/dev/null || skip_all "python3 is needed for the webhook receiver (make deps)"
FX=tests/fixtures

umask 022
D=$(mktemp -d /tmp/tw-readme.XXXXXX) || bail "mktemp failed"
chmod 755 "$D"
T=$D
PGD=
SYS_MAIN_CF=/etc/postfix/main.cf
ALT_BEFORE=$(postconf -c /etc/postfix -h alternate_config_directories 2>/dev/null)

readme_cleanup() {
	recv_stop
	pf_stop
	[ -n "$PGD" ] && (cd / && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PGD/data" -m immediate -w -s stop) >/dev/null 2>&1
	if [ -n "$ALT_BEFORE" ]; then
		postconf -c /etc/postfix -e "alternate_config_directories = $ALT_BEFORE"
	elif [ -f "$SYS_MAIN_CF" ]; then
		postconf -c /etc/postfix -X alternate_config_directories
	fi
	getent passwd tlsrpt >/dev/null && deluser --quiet --remove-home tlsrpt >/dev/null 2>&1
	getent passwd tlswatch >/dev/null && deluser --quiet --remove-home tlswatch >/dev/null 2>&1
	getent group tlswatch >/dev/null && delgroup --quiet tlswatch >/dev/null 2>&1
	rm -rf "$D" "$PGD"
}
trap readme_cleanup EXIT
trap 'exit 143' INT TERM

# The machine: what README's commands expect to find.
PG_BIN=$(pg_bindir) || bail "PostgreSQL server binaries not found"
[ -d /run/postgresql ] || install -d -o postgres -g postgres -m 2775 /run/postgresql
for port in $(shuf -i 40000-50000 -n 50); do
	[ -e "/run/postgresql/.s.PGSQL.$port" ] || break
done
PGD=$(mktemp -d /tmp/tw-readme-pg.XXXXXX) && chown postgres "$PGD" || bail "mktemp failed"
(cd / && runuser -u postgres -- "$PG_BIN/initdb" -D "$PGD/data" -U postgres --auth-local=peer \
	--auth-host=reject -E UTF8 --locale=C --no-sync) >"$D/initdb.log" 2>&1 ||
	{ cat "$D/initdb.log" >&2; bail "initdb failed"; }
(cd / && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PGD/data" -l "$PGD/log" -w -s \
	-o "-k /run/postgresql -p $port -c listen_addresses= -c fsync=off" start) >/dev/null ||
	{ cat "$PGD/log" >&2; bail "PostgreSQL did not start"; }
unset PGHOST PGUSER PGDATABASE PGSERVICE PGPASSWORD PGHOSTADDR PGOPTIONS
export PGPORT=$port
export PATH="$D/usr/local/bin:$PATH" TLSWATCH_CONFIG="$D/etc/tlswatch/tlswatch.conf"
mkdir -p "$D/etc/cron.d"
PF_PASS=TLSWATCH_CONFIG pf_init
export MAIL_CONFIG=$PF/etc
install -d -m 1777 "$PF/mail"
printf 'postmaster: tlswatch\n' >"$PF/etc/aliases"
postalias "$PF/etc/aliases"
postconf -e "mydestination = example.com, localhost" "mail_spool_directory = $PF/mail" \
	"alias_maps = hash:$PF/etc/aliases" "alias_database = hash:$PF/etc/aliases"
# postdrop, run by an account other than root, accepts a configuration
# folder only when the default main.cf names it (the digest's sendmail).
postconf -c /etc/postfix -e "alternate_config_directories = $ALT_BEFORE $PF/etc"

# The paths that stand for the machine's, in a command or a file.
localise() {
	sed -e "s|/usr/local/|$D/usr/local/|g" -e "s|/etc/tlswatch/|$D/etc/tlswatch/|g" \
		-e "s|/etc/postfix/|$PF/etc/|g" -e "s|/etc/cron.d/|$D/etc/cron.d/|g" "$@"
}

# readme_block HEADING N: the Nth ```sh block of "## HEADING", localised.
readme_block() {
	awk -v h="## $1" -v n="$2" '
		$0 == h { s = 1; next }
		s && /^## / { exit }
		s && /^```sh$/ && ++k == n { p = 1; next }
		p && /^```$/ { exit }
		p { print }' README.md |
		localise -e 's|^make deps && make$|: already built by make check|' \
			-e "s|^make install\$|make -s --no-print-directory -o tlswatch install DESTDIR=$D|"
}

# run_block HEADING N WHAT: run it as root with bash -e; the log is $D/log.
run_block() {
	local text
	text=$(readme_block "$1" "$2")
	[ -n "$text" ] || bail "README: no sh block $2 under '## $1'"
	bash -e -c "$text" >"$D/log" 2>&1
	rc=$?
	is "$rc" 0 "README, $3: every command succeeds" || diag "$(cat "$D/log")"
}

# as ACCOUNT CMD...: one command as the account, from /, as cron and systemd run it.
as() { (cd / && runuser -u "$@"); }
sql() { as postgres -- psql -XAtq -d tlswatch -c "$1"; }
# The status(es) of the message rows with Message-ID $1; wait until stored.
msg_status() { sql "select string_agg(status, ',') from tlswatch.messages where message_id = '$1'"; }
wait_stored() { wait_for 20 eval "[ \"\$(msg_status $1)\" = stored ]"; }

run_block Install 1 "Install (adduser, make install)"
ok "$(getent passwd tlswatch | grep -q ':/var/lib/tlswatch:' && [ -d /var/lib/tlswatch ] && echo y)" \
	"the account tlswatch, its home /var/lib/tlswatch made"
is "$(stat -c '%a %G' "$TLSWATCH_CONFIG")" "640 tlswatch" "the configuration: mode 640, group tlswatch"
# make install wrote the machine's paths into its files; localise them.
# procmail clears the environment (procmail(1)), so its filter is told the
# configuration's place the way it would set any variable.
grep -rlE '/usr/local/|/etc/(tlswatch|postfix)/' "$D/etc" "$D/usr/local/share/doc" | xargs sed -i \
	-e "s|/usr/local/|$D/usr/local/|g" -e "s|/etc/tlswatch/|$D/etc/tlswatch/|g" -e "s|/etc/postfix/|$PF/etc/|g"
sed -i "1i TLSWATCH_CONFIG=$TLSWATCH_CONFIG" "$D/etc/tlswatch/procmailrc"

run_block "Deploy with Postfix" 1 "the database, the schema, the roles"
like "$(cat "$D/log")" "^database tlswatch on /run/postgresql port $port as tlswatch " \
	"db status as tlswatch says where it acts"
sed -i "s|^conninfo = host=/run/postgresql dbname=tlswatch\$|& port=$port|" "$TLSWATCH_CONFIG"
is "$(sql "select tableowner from pg_tables where schemaname = 'tlswatch' and tablename = 'messages'")" postgres \
	"the schema belongs to postgres"

run_block "Deploy with Postfix" 2 "the Postfix transport"
wait_for 20 eval "(: </dev/tcp/127.0.0.1/$PF_PORT) 2>/dev/null" || bail "Postfix did not start"
ok "$(grep -q '^tlsrpt .*pipe' "$PF/etc/master.cf" && echo y)" "master.cf has the tlsrpt transport"

pf_sendmail $FX/rfc-gzip.eml
wait_stored fixture-rfc-gzip-1@example.net
is "$(msg_status fixture-rfc-gzip-1@example.net)" stored \
	"a report mailed to the rua address is stored, through the pipe as tlswatch"
like "$(grep 'status=sent' "$PF/maillog")" "delivered via tlsrpt service \\(tlswatch: stored 1 report: example\\.com" \
	"the maillog says stored"

run_block "Deploy with Postfix" 3 "the cron file"
ok "$(cmp -s "$D/etc/cron.d/tlswatch" "$D/usr/local/share/doc/tlswatch/cron/tlswatch" && echo y)" "cron file in place"

run_block "Deploy with procmail" 1 "the procmail account"
FROM=reporter@example.org
sendmail -i -f "$FROM" tlsrpt@localhost <$FX/octet-stream-name.eml
wait_stored fixture-octet-stream-1@example.net
is "$(msg_status fixture-octet-stream-1@example.net)" stored \
	"a report mailed to the procmail account is stored (.forward, procmail -m, tlswatch as tlsrpt)"
like "$(grep 'to=<tlsrpt@localhost>' "$PF/maillog")" "status=sent \\(delivered to command: exec /usr/bin/procmail" \
	"the maillog: delivered to the .forward command"
as tlswatch -- procmail -m "$D/etc/tlswatch/procmailrc" <$FX/zip-as-gzip.eml >/dev/null 2>"$D/err"; rc=$?
is "$rc" 0 "procmail -m as tlswatch: exit 0"
is "$(grep -c "Couldn't chdir" "$D/err")" 0 "procmail as tlswatch: no \"Couldn't chdir\" (it has a home)"

# Alerts, as README "Alerts" configures them, to a receiver on loopback.
recv_start "$D/recv"
trap readme_cleanup EXIT
END=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
mkdir -p "$D/r"
alert_report "$D/r" "Google Inc." readme-1 "$END" alerts.example 100 40 \
	"$(gen_detail certificate-expired mx.alerts.example 192.0.2.9 40)"
{
	printf 'From: tlsrpt@google.com\nSubject: Report Domain: alerts.example\nMessage-ID: <readme-1@example.net>\n'
	printf 'MIME-Version: 1.0\nContent-Type: application/tlsrpt+json\n\n'
	cat "$D/r/readme-1.json"
} >"$D/alert.eml"
sed -i 's/^#retention = 400d$/retention = 400d/' "$TLSWATCH_CONFIG"
# The test mail is not signed: its reporter is trusted by name (README
# "Trusting reports"), so that it pages and counts.
printf '\n[ingest]\ntrusted-reporters = Google Inc.\n[webhook ops]\nurl = http://127.0.0.1:%s/ops\ntimeout = 5s\n[rule failures]\nwindow = 24h\nmin-failed-sessions = 10\nnotify = ops\n' \
	"$RECV_PORT" >>"$TLSWATCH_CONFIG"
pf_sendmail "$D/alert.eml"
wait_for 20 eval '[ "$(recv_count)" -ge 1 ]'
is "$(recv_count)" 1 "alert on ingest, in the pipe as tlswatch: the webhook got it"
is "$(sql "select state from tlswatch.alerts where domain = 'alerts.example'")" sent "alert on ingest: sent"
as tlswatch -- tlswatch alert --list >"$D/out" 2>"$D/err"; rc=$?
is "$rc" 0 "tlswatch alert --list as tlswatch: exit 0" || diag "$(cat "$D/err")"
like "$(cat "$D/out")" "alerts.example: .*firing" "alert --list: the rule fires for alerts.example"
as tlswatch -- tlswatch alert --test ops >/dev/null 2>"$D/err"; rc=$?
is "$rc" 0 "tlswatch alert --test ops as tlswatch: exit 0" || diag "$(cat "$D/err")"
is "$(recv_count)" 2 "alert --test: the webhook got a test message"
as tlswatch -- tlswatch digest --since 7d >"$D/out" 2>"$D/err"; rc=$?
is "$rc" 0 "tlswatch digest as tlswatch: exit 0" || diag "$(cat "$D/err")"
like "$(cat "$D/out")" "alerts\\.example" "digest: alerts.example is in it"
as tlswatch -- tlswatch digest --since 7d --webhook ops >/dev/null 2>"$D/err"; rc=$?
is "$rc" 0 "tlswatch digest --webhook ops as tlswatch: exit 0" || diag "$(cat "$D/err")"
is "$(recv_count)" 3 "digest --webhook: the webhook got it"
unlike "$(cat "$D/err")" "every account may read" "the installed configuration (640) draws no warning"

# Every job of the cron file, as the account in its sixth field, with its
# PATH; cron mails what a job prints, so a job that succeeds prints nothing
# (its summary goes to syslog).
cron_path=$(sed -n 's/^PATH=//p' "$D/etc/cron.d/tlswatch")
jobs=0
while read -r m h dom mon dow user cmd; do
	jobs=$((jobs + 1))
	as "$user" -- env PATH="$cron_path" sh -c "$cmd" >"$D/out" 2>&1; rc=$?
	is "$rc" 0 "cron, as $user: ${cmd%% |*}" || diag "$(cat "$D/out")"
	is "$(cat "$D/out")" "" "cron, as $user: nothing printed (nothing mailed to MAILTO)"
done < <(grep -E '^[0-9*]' "$D/etc/cron.d/tlswatch")
is "$jobs" 4 "cron: the four jobs ran (alert, fetch, digest, prune)"

# "Deploy with LMTP": its configuration (the systemctl block is the loop
# below), then serve, as the unit runs it, and Postfix's transport to it.
run_block "Deploy with LMTP" 1 "the [serve] configuration"
run_block "Receive reports over HTTPS" 1 "the HTTP receiver's configuration"
serve_unit() { # UNIT USER CMD: a long-running service, stopped by SIGTERM
	local pid
	# setpriv execs: $! is tlswatch itself, as systemd's main PID would be.
	(cd / && exec setpriv --reuid="$2" --regid="$2" --init-groups -- $3) 2>"$D/serve.log" &
	pid=$!
	wait_for 10 grep -q 'serving LMTP' "$D/serve.log"
	like "$(cat "$D/serve.log")" "serving LMTP on inet:127\.0\.0\.1:2424" \
		"systemd $(basename "$1"), as $2: serving on README's address"
	run_block "Deploy with LMTP" 3 "the transport to tlswatch serve"
	pf_sendmail $FX/toplevel-gzip.eml
	wait_stored fixture-top-gzip-1@example.net
	is "$(msg_status fixture-top-gzip-1@example.net)" stored \
		"a report mailed to the rua address is stored through LMTP"
	like "$(grep 'relay=127.0.0.1\[127.0.0.1\]:2424' "$PF/maillog")" "status=sent \\(250 2\\.0\\.0 stored 1 report: " \
		"the maillog has serve's 250 reply"
	sed 's/fixture-bare-1/fixture-bare-readme/' $FX/bare-report.json >"$D/post.json"
	is "$(curl -s -o "$D/body" -w '%{http_code}' -H 'Content-Type: application/tlsrpt+json' \
		--data-binary @"$D/post.json" http://127.0.0.1:8080/v1)" 201 \
		"a report POSTed to README's HTTP receiver: 201"
	like "$(cat "$D/body")" "^stored 1 report: example\\.com, Bare Fixture \\(fixture-bare-readme\\)" \
		"... stored, says the body"
	kill -TERM "$pid"
	wait "$pid"
	is "$?" 0 "serve: SIGTERM, exit 0"
}

# Every systemd service's ExecStart=, as its User=.
units=0
for f in "$D"/usr/local/share/doc/tlswatch/systemd/*.service; do
	user=$(sed -n 's/^User=//p' "$f")
	cmd=$(sed -n 's/^ExecStart=//p' "$f")
	units=$((units + 1))
	if grep -q '^Type=simple' "$f"; then
		serve_unit "$f" "$user" "$cmd"
		continue
	fi
	as "$user" -- $cmd >"$D/out" 2>&1; rc=$?
	is "$rc" 0 "systemd $(basename "$f"), as $user: $(basename "${cmd%% *}") ${cmd#* }" || diag "$(cat "$D/out")"
done
is "$units" 5 "systemd: the five services ran (alert, digest, fetch, prune, serve)"

# The digests of cron and systemd went through Postfix to postmaster.
wait_for 20 eval '[ "$(grep -c "^Subject: TLS report digest" "$PF/mail/tlswatch" 2>/dev/null)" -ge 2 ]'
is "$(grep -c '^Subject: TLS report digest' "$PF/mail/tlswatch" 2>/dev/null)" 2 \
	"both weekly digests (cron, systemd) reached postmaster@example.com through Postfix"
like "$(grep '^From: ' "$PF/mail/tlswatch")" "^From: postmaster@$(hostname)\$" "... from postmaster@ this host"
like "$(grep '^Return-Path: ' "$PF/mail/tlswatch")" "^Return-Path: <postmaster@$(hostname)>" \
	"... and bounces would go there too (envelope sender)"

# What the delivery account must not do.
like "$(as tlswatch -- psql -XAtq -d tlswatch -c 'delete from tlswatch.messages' 2>&1)" "permission denied" \
	"as tlswatch: DELETE refused"
as tlswatch -- tlswatch db prune >/dev/null 2>"$D/err"; rc=$?
is "$rc" 78 "as tlswatch: db prune refused (exit 78)"
like "$(cat "$D/err")" "permission denied" "... permission denied"
is "$(sql "select count(*) from tlswatch.messages")" 6 \
	"every message is still there (2 pipe, 1 .forward, 1 by hand, 1 LMTP, 1 HTTP)"
is "$(grep -c 'status=bounced' "$PF/maillog")" 0 "nothing bounced"

done_testing
