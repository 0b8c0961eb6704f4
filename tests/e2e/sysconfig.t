#!/bin/bash
# A machine with an installed /etc/tlswatch/tlswatch.conf (issue 12, point
# 2): the tests never read it, and the documented precedence holds:
# --config, then TLSWATCH_CONFIG, then /etc/tlswatch/tlswatch.conf; within
# the file chosen, conninfo names what it names and PG* variables fill in
# the rest. The system file is real at its real path, in a mount namespace
# of this test (a copy of /etc bound over /etc): the machine's own /etc is
# never touched. Needs root (unshare, mount).
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

[ "$(id -u)" -eq 0 ] || skip_all "a private /etc needs root (unshare -m, mount --bind)"
command -v unshare >/dev/null || bail "unshare (util-linux) is missing"
unshare -m true 2>/dev/null || skip_all "this machine allows no mount namespace (unshare -m failed)"

TW=$PWD/tlswatch
pg_start_schema
psql -XAtq -d postgres -c "create database other" >/dev/null
PGDATABASE=other $TW db init >/dev/null || bail "db init of other failed"

X=$(mktemp -d "${TMPDIR:-/tmp}/tw-sysconf.XXXXXX") || bail "mktemp failed"
demo_stop() {
	[ -f "$X/demo/pg/data/postmaster.pid" ] &&
		(cd / && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$X/demo/pg/data" -w -s -m immediate stop) >/dev/null 2>&1
}
trap 'demo_stop; rm -rf "$X"; pg_cleanup' EXIT
chmod 755 "$X" # the demo's cluster, under it, belongs to postgres
cp -a /etc "$X/etc"
mkdir -p "$X/etc/tlswatch"
printf '[database]\nconninfo = host=%s dbname=tlswatch\n' "$PG_DIR" >"$X/etc/tlswatch/tlswatch.conf"
printf '[database]\nconninfo = host=%s dbname=other\n' "$PG_DIR" >"$X/own.conf"
printf '[database]\nconninfo = host=%s\n' "$PG_DIR" >"$X/nodb.conf"

# sys CMD...: CMD with the installed configuration in place.
sys() { unshare -m sh -c 'mount --bind "$0" /etc && exec "$@"' "$X/etc" "$@"; }
# acts_on VAR=VALUE... -- TLSWATCH-ARGS: the database db status says it acts on
acts_on() {
	local env=()
	while [ "$1" != -- ]; do env+=("$1"); shift; done
	shift
	sys env -u TLSWATCH_CONFIG "${env[@]}" "$TW" db status "$@" 2>&1 | sed -n 's/^database \([^ ]*\) .*/\1/p'
}

is "$(sys cat /etc/tlswatch/tlswatch.conf | sed -n 's/.*dbname=//p')" tlswatch \
	"the installed configuration is in place (in this test's namespace)"
is "$(acts_on -- )" tlswatch "no option, no variable: /etc/tlswatch/tlswatch.conf"
like "$(sys env -u TLSWATCH_CONFIG "$TW" db status 2>&1)" \
	"^database tlswatch on $PG_DIR port $PGPORT as tlswatch \\(\\[database\\] conninfo of /etc/tlswatch/tlswatch.conf\\)" \
	"db status names the database, the server, the role and the file"
is "$(acts_on PGDATABASE=other -- )" tlswatch \
	"PGDATABASE does not override the dbname the installed conninfo names"
is "$(acts_on TLSWATCH_CONFIG="$X/own.conf" -- )" other "TLSWATCH_CONFIG beats the installed file"
is "$(acts_on TLSWATCH_CONFIG=/dev/null PGDATABASE=other -- )" other \
	"TLSWATCH_CONFIG=/dev/null: no file at all, the PG* variables decide"
is "$(acts_on TLSWATCH_CONFIG=/dev/null -- --config "$X/own.conf")" other "--config beats TLSWATCH_CONFIG"
is "$(acts_on -- --config "$X/own.conf")" other "--config beats the installed file"
is "$(acts_on PGDATABASE=other -- --config "$X/nodb.conf")" other \
	"a conninfo without dbname: PGDATABASE fills it in"

# make demo (its script, with its folder here instead of ./var) runs as it
# does without the file, and leaves the installed database alone.
before=$(psql -XAtq -c "select count(*) from tlswatch.messages")
sys env -u TLSWATCH_CONFIG DEMO_DIR="$X/demo" sh tests/lib/demo.sh >"$X/demo.out" 2>&1; rc=$?
demo_stop
is "$rc" 0 "make demo's script with an installed configuration: exit 0" || diag "$(tail -n 20 "$X/demo.out")"
like "$(cat "$X/demo.out")" "fixture-rfc-gzip-1" "... it shows the sample reports it stored"
is "$(psql -XAtq -c "select count(*) from tlswatch.messages")" "$before" \
	"... and the installed configuration's database is untouched"

# make check's own tests run as they do without the file: tap.sh points
# TLSWATCH_CONFIG at tests/lib/none.conf.
sys prove tests/integration/ingest.t tests/integration/exitcodes.t >"$X/prove" 2>&1; rc=$?
is "$rc" 0 "ingest.t and exitcodes.t pass with an installed configuration" || diag "$(tail -n 20 "$X/prove")"

done_testing
