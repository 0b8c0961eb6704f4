#!/bin/sh
# contrib/sql/roles.sql: tlswatch_ingest can do what ingest, quarantine, alert and digest
# need and no more (no DELETE, no DDL); tlswatch_read can only read. The
# script runs twice without error (the DBA re-runs it after a migration).
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

TW=./tlswatch
FX=tests/fixtures
pg_start_schema

roles() { psql -XAtq -v ON_ERROR_STOP=1 -f contrib/sql/roles.sql >/dev/null 2>&1; }
roles; rc=$?
is "$rc" 0 "roles.sql runs"
roles; rc=$?
is "$rc" 0 "roles.sql runs again (idempotent)"

as() { # ROLE SQL: one statement as ROLE; prints the error's first line
	PGUSER=$1 psql -XAtq -v ON_ERROR_STOP=1 -c "$2" 2>&1 | head -n 1
}
export PGUSER=tlswatch_ingest
for f in rfc-gzip two-reports junk dmarc-zip rfc-gzip; do
	$TW ingest <$FX/$f.eml 2>/dev/null; rc=$?
	is "$rc" 0 "ingest as tlswatch_ingest: $f.eml exit 0"
done
id=$(q "select min(id) from tlswatch.messages where status = 'quarantined'")
$TW quarantine list >/dev/null 2>&1; rc=$?
is "$rc" 0 "quarantine list as tlswatch_ingest"
$TW quarantine retry "$id" >/dev/null 2>&1; rc=$?
is "$rc" 0 "quarantine retry as tlswatch_ingest"
$TW db status >/dev/null 2>&1; rc=$?
is "$rc" 0 "db status as tlswatch_ingest"
export PGUSER=tlswatch
is "$(q "select status, count(*) from tlswatch.messages group by 1 order by 1" | tr '\n' ' ')" \
	"duplicate|1 quarantined|2 stored|2 " "the rows ingest wrote as tlswatch_ingest"

like "$(as tlswatch_ingest "delete from tlswatch.messages")" "permission denied" "tlswatch_ingest: no DELETE"
like "$(as tlswatch_ingest "truncate tlswatch.failures")" "permission denied" "tlswatch_ingest: no TRUNCATE"
like "$(as tlswatch_ingest "create table tlswatch.x (i int)")" "permission denied" "tlswatch_ingest: no CREATE in the schema"
like "$(as tlswatch_ingest "drop table tlswatch.failures")" "must be owner" "tlswatch_ingest: no DROP"
like "$(as tlswatch_ingest "update tlswatch.reports set report_id = 'x'")" "permission denied" "tlswatch_ingest: reports are not updated"

# As contrib/postfix/README does it: the mail account's own login role,
# a member of tlswatch_ingest.
psql -XAtq -c "create role mta login in role tlswatch_ingest" >/dev/null
PGUSER=mta $TW ingest <$FX/octet-stream-name.eml 2>/dev/null; rc=$?
is "$rc" 0 "a login role in tlswatch_ingest: ingest exit 0"
is "$(q "select status from tlswatch.messages order by id desc limit 1")" stored "a login role in tlswatch_ingest: stored"
# db report as the same role: the attachment's JSON, byte for byte (read
# from the mail here by Python's email and gzip modules)
id=$(q "select max(id) from tlswatch.reports")
PGUSER=mta $TW db report "$id" >"$T/report.json" 2>"$T/err"; rc=$?
is "$rc" 0 "db report as tlswatch_ingest: exit 0" || diag "$(cat "$T/err")"
python3 -c 'import email, gzip, sys
part = [p for p in email.message_from_binary_file(open(sys.argv[1], "rb")).walk()
        if p.get_content_type() == "application/octet-stream"][0]
data = part.get_payload(decode=True)
sys.stdout.buffer.write(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data)' \
	"$FX/octet-stream-name.eml" >"$T/sent.json"
[ -n "$(tail -c 1 "$T/sent.json")" ] && echo >>"$T/sent.json"
same=$([ -s "$T/sent.json" ] && cmp -s "$T/sent.json" "$T/report.json" && echo yes)
ok "$same" "db report: the report's JSON as sent"
[ -n "$same" ] || diag "$(head -c 300 "$T/report.json")"
like "$(as mta "delete from tlswatch.messages")" "permission denied" "a login role in tlswatch_ingest: no DELETE"

# alert and digest, as README runs them: the same account. One rule that
# the fixtures' failures fire (2026-05-12), its webhook a closed loopback
# port: delivery fails, which is not a permission problem.
T=$PG_DIR/roles
mkdir -p "$T"
printf '[webhook ops]\nurl = http://127.0.0.1:9/x\n[alert]\nmax-attempts = 1\nauthenticated-only = false\n[digest]\nauthenticated-only = false\n[rule any]\nwindow = 24h\nmin-failed-sessions = 1\nnotify = ops\n' >"$T/a.conf"
NOW="--now 2026-05-13T00:00:00Z"
PGUSER=mta $TW alert --config "$T/a.conf" $NOW --list >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 0 "alert --list as a login role in tlswatch_ingest: exit 0"
like "$(cat "$T/out")" "example.com: .*firing" "alert --list: the rule fires for example.com"
PGUSER=mta $TW alert --config "$T/a.conf" $NOW >/dev/null 2>"$T/err"
unlike "$(cat "$T/err")" "permission denied" "alert pass as tlswatch_ingest: no permission error"
is "$(q "select count(*) > 0 from tlswatch.alerts") $(q "select count(*) > 0 from tlswatch.alert_state")" "t t" \
	"alert pass: the outbox and the state were written"
PGUSER=mta $TW digest --config "$T/a.conf" --from 2026-05-12 --to 2026-05-12 >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 0 "digest as tlswatch_ingest: exit 0" || diag "$(cat "$T/err")"
like "$(cat "$T/out")" "example.com" "digest: example.com listed"
PGUSER=mta $TW ingest --config "$T/a.conf" <$FX/qp-json.eml 2>"$T/err"; rc=$?
is "$rc" 0 "ingest with alert-on-ingest as tlswatch_ingest: exit 0"
unlike "$(cat "$T/err")" "permission denied" "alert-on-ingest: no permission error"
like "$(as mta "delete from tlswatch.alerts")" "permission denied" "tlswatch_ingest: no DELETE of alerts"
# db reverify writes the verdict on messages, reports and policies: a
# stored message made temperror, with its raw bytes, as a DNS failure
# leaves it.
id=$(q "select m.id from tlswatch.messages m join tlswatch.reports r on r.message_ref = m.id order by m.id limit 1")
q "update tlswatch.messages set dkim_result = 'temperror', authenticated = false,
   raw = decode('$(base64 -w0 $FX/rfc-gzip.eml)', 'base64') where id = $id" >/dev/null
PGUSER=mta $TW db reverify 2>"$T/err"; rc=$?
is "$rc" 0 "db reverify as tlswatch_ingest: exit 0" || diag "$(cat "$T/err")"
is "$(q "select concat_ws(' ', dkim_result, (raw is null)::text) from tlswatch.messages where id = $id")" "none true" \
	"db reverify: the verdict written (unsigned: none), the raw bytes gone"
like "$(as mta "update tlswatch.reports set organization_name = 'x'")" "permission denied" \
	"tlswatch_ingest: only a report's authenticated may change"
like "$(as mta "delete from tlswatch.alert_state")" "permission denied" "tlswatch_ingest: no DELETE of alert state"
# check --save and fetch's state, as the account that runs them (the
# timer and cron line: tlswatch, role tlswatch_ingest). DNS asked of a
# port where nothing answers: every check fails, and is kept all the same.
printf '[dns]\nnameservers = 127.0.0.1:9\ntimeout = 1s\n' >"$T/check.conf"
PGUSER=mta $TW check --config "$T/check.conf" --save roles.invalid >/dev/null 2>"$T/err"; rc=$?
is "$rc" 1 "check --save as tlswatch_ingest: exit 1 (its checks failed), not a permission error" || diag "$(cat "$T/err")"
is "$(q "select concat_ws(' ', domain, ok::text) from tlswatch.checks")" "roles.invalid false" "check --save: the check kept"
is "$(as mta "insert into tlswatch.imap_state (account, uidvalidity, last_uid) values ('r', 1, 2)
   on conflict (account) do update set last_uid = excluded.last_uid")" "" "fetch's state: tlswatch_ingest records it"
like "$(as mta "delete from tlswatch.checks")" "permission denied" "tlswatch_ingest: no DELETE of saved checks"
like "$(as mta "update tlswatch.domain_sessions set successful_sessions = 0")" "permission denied" \
	"tlswatch_ingest: domain_sessions' counts are not its to change (only authenticated, for a vouching copy)"

psql -XAtq -c "create role grafana login in role tlswatch_read" >/dev/null
is "$(as grafana "select count(*) from tlswatch.domain_sessions where successful_sessions >= 0") " \
	"$(q "select count(*) from tlswatch.domain_sessions") " "a login role in tlswatch_read reads domain_sessions"
is "$(as grafana "select count(*) from tlswatch.failures where failed_sessions >= 0") " \
	"$(q "select count(*) from tlswatch.failures") " "... and the tables"
like "$(as grafana "insert into tlswatch.messages (status) values ('stored')")" "permission denied" "tlswatch_read: no INSERT"
like "$(as grafana "update tlswatch.messages set reason = 'x'")" "permission denied" "tlswatch_read: no UPDATE"
q "create table tlswatch.later (i int)"
is "$(as grafana "select count(*) from tlswatch.later")" 0 "tlswatch_read: a table a later migration creates is readable"

done_testing
