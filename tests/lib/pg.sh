# pg.sh: a throwaway PostgreSQL for one test file.
#   pg_start [DIR]    initdb into DIR (default: a new temp folder, removed at
#                     exit), start it on a Unix socket only, create database
#                     tlswatch; exports PGHOST, PGPORT, PGUSER, PGDATABASE.
#                     With DIR the cluster is kept and reused (make demo).
#   pg_stop_server    stop it (the "database down" case); pg_start_server: again.
#   pg_start_schema   pg_start, then `./tlswatch db init`.
#   q SQL             the result of one query, unaligned, no headers.
# initdb refuses to run as root, so as root the cluster belongs to the
# postgres system user (Debian's postgresql package creates it); tlswatch
# and psql connect over the socket with trust authentication either way.

pg_bindir() {
	for d in "$(pg_config --bindir 2>/dev/null)" $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		[ -x "$d/initdb" ] && { echo "$d"; return 0; }
	done
	return 1
}

pg_as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

pg_start_server() {
	pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -s \
		-o "-k $PG_DIR -c listen_addresses= -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
		start >/dev/null || { cat "$PG_DIR/log" >&2; return 1; }
}

pg_stop_server() {
	pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -w -s -m fast stop >/dev/null
}

pg_cleanup() {
	pg_stop_server 2>/dev/null
	rm -rf "$PG_DIR"
}

pg_start() {
	PG_BIN=$(pg_bindir) || bail "PostgreSQL server binaries not found (make deps installs postgresql)"
	if [ -n "${1:-}" ]; then
		PG_DIR=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
		mkdir -p "$PG_DIR"
	else
		PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tw-pg.XXXXXX")
		trap pg_cleanup EXIT
		trap 'exit 143' INT TERM
	fi
	[ "$(id -u)" -eq 0 ] && chown postgres "$PG_DIR"
	if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
		pg_as_owner "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U tlswatch -E UTF8 \
			--locale=C --no-sync >"$PG_DIR/initdb.log" 2>&1 ||
			{ cat "$PG_DIR/initdb.log" >&2; bail "initdb failed"; }
	fi
	export PGHOST="$PG_DIR" PGPORT=5432 PGUSER=tlswatch PGDATABASE=tlswatch
	unset PGSERVICE PGPASSWORD
	if ! pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; then
		pg_start_server || bail "PostgreSQL did not start"
	fi
	psql -XAtq -d postgres -c "select 1 from pg_database where datname = 'tlswatch'" | grep -q 1 ||
		psql -XAtq -d postgres -c "create database tlswatch" || bail "create database failed"
}

pg_start_schema() {
	pg_start
	./tlswatch db init >/dev/null || bail "tlswatch db init failed"
}

q() { psql -XAtq -v ON_ERROR_STOP=1 -c "$1"; }
