# pg.sh: a throwaway PostgreSQL for one test file (source tap.sh first).
#   pg_start [DIR]    initdb into DIR (default: a new temp folder, removed at
#                     exit), start it on a Unix socket only, create database
#                     tlswatch; exports PGHOST, PGPORT, PGUSER, PGDATABASE.
#                     With DIR the cluster is kept and reused (make demo).
#   pg_start_schema   pg_start, then `$TW db init` (TW defaults to ./tlswatch).
#   pg_stop_server    stop it (the "database down" case); pg_start_server: again.
#   q SQL             run SQL with psql, unaligned, tuples only.
# initdb refuses to run as root, so as root the cluster belongs to the
# postgres system user (Debian's postgresql package creates it); tlswatch
# and psql connect over the socket with trust authentication either way.
# Each run has its own folder (and socket there), so runs can be parallel.

pg_bindir() {
	for d in "$(pg_config --bindir 2>/dev/null)" $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		[ -x "$d/initdb" ] && { echo "$d"; return 0; }
	done
	return 1
}

pg_as_owner() { # from /: the owner may not be allowed into our cwd
	if [ "$(id -u)" -eq 0 ]; then
		(cd / && runuser -u postgres -- "$@")
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
	trap '' INT TERM # a second signal must not leave the server running
	[ -n "${PG_DIR:-}" ] || return 0
	[ -f "$PG_DIR/data/postmaster.pid" ] && pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -w -s -m immediate stop >/dev/null 2>&1
	rm -rf "$PG_DIR"
}

# A new folder for the cluster. The socket's path must fit in sun_path (107
# bytes), and as root the postgres user must be able to reach the folder.
pg_tempdir() {
	base=${TMPDIR:-/tmp}
	[ ${#base} -le 60 ] && [ -d "$base" ] || base=/tmp
	if [ "$(id -u)" -eq 0 ] && ! (cd / && runuser -u postgres -- test -x "$base"); then
		base=/tmp
	fi
	mktemp -d "$base/tw-pg.XXXXXX"
}

pg_start() {
	PG_BIN=$(pg_bindir) || bail "PostgreSQL server binaries not found (make deps installs postgresql)"
	if [ "$(id -u)" -eq 0 ] && ! id -u postgres >/dev/null 2>&1; then
		bail "running as root needs the postgres system user (make deps installs postgresql)"
	fi
	if [ -n "${1:-}" ]; then
		# Made first: cd into a parent that does not exist yet would leave
		# PG_DIR /NAME, a cluster at the root of the file system. Open to
		# traverse: as root, the cluster's owner (postgres) must reach it.
		(umask 022 && mkdir -p "$1") || bail "cannot create $1"
		PG_DIR=$(cd "$1" && pwd) || bail "cannot enter $1"
	else
		PG_DIR=$(pg_tempdir) || bail "mktemp failed"
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
	unset PGSERVICE PGPASSWORD PGHOSTADDR PGOPTIONS
	if ! pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; then
		pg_start_server || bail "PostgreSQL did not start"
	fi
	psql -XAtq -d postgres -c "select 1 from pg_database where datname = 'tlswatch'" | grep -q 1 ||
		psql -XAtq -d postgres -c "create database tlswatch" || bail "create database failed"
}

pg_start_schema() {
	pg_start "$@"
	"${TW:-./tlswatch}" db init >/dev/null || bail "tlswatch db init failed"
}

q() { psql -XAtq -v ON_ERROR_STOP=1 -c "$1"; }

# report_documents: every stored report's JSON, as `tlswatch db report`
# prints it, into public.documents (id bigint, document jsonb), so that a
# test's SQL can read what each report said beside the rows stored from it
# (reports.original is compressed). Adds the reports not loaded yet.
report_documents() {
	q "create table if not exists public.documents (id bigint primary key, document jsonb not null)"
	_ids=$(q "select string_agg(r.id::text, ' ' order by r.id) from tlswatch.reports r
		where not exists (select from public.documents d where d.id = r.id)")
	[ -n "$_ids" ] || return 0
	# shellcheck disable=SC2086 # the ids are words
	"${TW:-./tlswatch}" db report $_ids | python3 -c '
import json, sys
text = sys.stdin.buffer.read().decode("utf-8", "replace")
decoder, pos = json.JSONDecoder(), 0
for id in sys.argv[1:]:
    while text[pos].isspace() or text[pos] == "\ufeff":
        pos += 1
    doc, pos = decoder.raw_decode(text, pos)
    print(id + "\t" + json.dumps(doc).replace("\\", "\\\\"))
' $_ids | psql -XAtq -v ON_ERROR_STOP=1 -c "\copy public.documents from stdin"
}
