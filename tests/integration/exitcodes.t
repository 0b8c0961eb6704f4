#!/bin/sh
# The exit status is a contract with the MTA: with a message in hand every
# problem that a fix or a retry can cure is 75 (Postfix defers), never 78 or
# 64 (Postfix bounces); commands a person runs say 64 and 78.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

TW=./tlswatch
FX=tests/fixtures
tmp=$(mktemp -d)
printf '[ingest]\nmax-mesage-size = 1M\n' > "$tmp/bad.conf"

$TW ingest --config "$tmp/bad.conf" < $FX/rfc-gzip.eml 2>"$tmp/err"; rc=$?
is "$rc" 75 "pipe, bad configuration: 75"
like "$(cat "$tmp/err")" "^tlswatch: $tmp/bad.conf: \[ingest\] max-mesage-size: unknown key" "pipe, bad configuration: file, group and key on stderr"
TLSWATCH_CONFIG=$tmp/missing.conf $TW ingest < $FX/rfc-gzip.eml 2>/dev/null; rc=$?
is "$rc" 75 "pipe, TLSWATCH_CONFIG names a missing file: 75"
$TW ingest --bogus-option < $FX/rfc-gzip.eml 2>/dev/null; rc=$?
is "$rc" 75 "pipe, unknown option: 75"

$TW ingest --config "$tmp/bad.conf" $FX/rfc-gzip.eml 2>/dev/null; rc=$?
is "$rc" 78 "by hand, bad configuration: 78"
$TW db frobnicate 2>/dev/null; rc=$?
is "$rc" 64 "by hand, bad usage: 64"
$TW ingest --dry-run /nonexistent.eml 2>"$tmp/err"; rc=$?
is "$rc" 66 "by hand, unreadable path: 66"
like "$(cat "$tmp/err")" "0 stored, 0 duplicate, 0 quarantined, 1 failed" "by hand: the summary line counts it"

# Schema missing: the operator must run db init; the mail waits (75).
pg_start
$TW ingest < $FX/rfc-gzip.eml 2>"$tmp/err"; rc=$?
is "$rc" 75 "pipe, schema not initialised: 75"
like "$(cat "$tmp/err")" "db init" "pipe, schema not initialised: says to run db init"
$TW db init >/dev/null
$TW db status > "$tmp/out"
n=$(ls sql/[0-9][0-9][0-9]_*.sql | wc -l)
is "$(sed -n 2p "$tmp/out")" "schema version $n, latest $n" "db status after init: version $n, one per file in sql/"
# The first line says where: the database, server and role libpq chose,
# read back from the server itself.
where="database $(q "select current_database()") on $PGHOST port $(q "show port") as $(q "select current_user")"
is "$(sed -n 1p "$tmp/out")" "$where (no conninfo: PG* variables and libpq defaults)" \
	"db status: first line names the database, server and role, and where they came from"
printf '[database]\nconninfo = host=%s port=%s dbname=%s\n' "$PGHOST" "$PGPORT" "$PGDATABASE" >"$tmp/db.conf"
PGDATABASE=postgres $TW db status --config "$tmp/db.conf" > "$tmp/out"
is "$(sed -n 1p "$tmp/out")" "$where ([database] conninfo of $tmp/db.conf)" \
	"db status --config: the conninfo wins over PGDATABASE, and the line says whose it is"
$TW db init > "$tmp/out"
like "$(cat "$tmp/out")" "0 migrations applied" "db init twice: nothing applied"

# The maintenance database is refused: README's one configuration edit
# forgotten, db init as postgres would build the schema in it.
PGDATABASE=postgres $TW db init >"$tmp/out" 2>"$tmp/err"; rc=$?
is "$rc" 78 "db init in the database postgres: refused, 78"
like "$(cat "$tmp/err")" "db init: postgres is PostgreSQL's own database, not one for tlswatch: name yours with dbname= in \\[database\\] conninfo" \
	"the refusal says what to set"
is "$(PGDATABASE=postgres q "select count(*) from pg_namespace where nspname = 'tlswatch'")" 0 \
	"nothing was created in postgres"
PGDATABASE=postgres $TW db status >"$tmp/out"; rc=$?
is "$rc" 0 "db status in postgres: 0 (it only looks)"
like "$(sed -n 2p "$tmp/out")" "^schema version 0, latest $n: not tlswatch's database" \
	"db status in postgres: says it is not tlswatch's database"
PGDATABASE=postgres $TW db migrate --force >/dev/null 2>&1; rc=$?
is "$rc" 0 "db migrate --force in postgres: done, as asked"
is "$(PGDATABASE=postgres q "select max(version) from tlswatch.schema_version")" "$n" \
	"--force: the schema is there"
$TW db status --force >/dev/null 2>&1; rc=$?
is "$rc" 64 "--force with db status: usage error"

# Nothing on stderr may start with a digit: Postfix would read 4.x.x/5.x.x
# as a status. Every line starts with "tlswatch: ".
$TW ingest < $FX/junk.eml 2>"$tmp/err"
is "$(grep -vc '^tlswatch: ' "$tmp/err")" 0 "every stderr line starts with tlswatch:"

rm -rf "$tmp"
done_testing
