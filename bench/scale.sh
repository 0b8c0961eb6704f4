#!/bin/sh
# scale.sh: `make bench-scale`. Does tlswatch stay fast with a year of
# history? A year of daily reports for SCALE_DOMAINS policy domains (default
# 1,000, d0000.example ..), each domain reported on by 2 or 3 of bench/gen's
# five reporters a day (2.2 on average: about 800,000 reports; Microsoft
# lists sts and tlsa; a fifth carry failure-details), bulk-ingested into a
# throwaway PostgreSQL, and at 10 %, 50 % and 100 % of it:
#   pipe       `tlswatch ingest < one.eml`, with three alert rules (24h
#              threshold, 7d by MX, 3d silence) and with [alert] on-ingest
#              = false, taking turns, median of SCALE_RUNS (7)
#   digest     --since 7d (all domains, and --domain d0001.example) and
#              --since 30d --format json, median of SCALE_DIGEST_RUNS (3)
#   alert      one `tlswatch alert` pass, median of SCALE_RUNS, after a
#              first pass that fired every rule (cooldown 7d): the timed
#              passes evaluate everything and send nothing
#   size       bytes of every tlswatch table (indexes, TOAST) per report,
#              and of tlswatch.failures per failure row
# and bulk: messages/s of `tlswatch ingest MAILDIR` over SCALE_BULK_N (5,000)
# messages, on an empty database and again at 100 %, median of 3.
# Each figure is beside its targets, PASS or FAIL, computed in this run: the
# table goes to stdout and bench/scale.json. Not a test; nothing runs it but
# `make bench-scale`. SCALE_DOMAINS=50 SCALE_DAYS=120 is a quick try (a
# minute or two; with fewer days than SCALE_RECENT_DAYS the three
# checkpoints are one).
#
# The order of ingestion. A checkpoint at 10 % must differ from 100 % in
# history only: every window a command reads must hold the same reports at
# all three, or the ratios measure the windows, not the history. So the
# year goes in newest first, in chunks going back in time, and the first
# checkpoint waits until the widest window is complete: that is not 36
# days but SCALE_RECENT_DAYS = 60, since `digest --since 30d` also reads the
# 30 days before for its "previous" figures (alert reads at most 33 days,
# silence included). 60 days are 16 % of a year, so the first column is 16
# %, not 10 %; its header says the share that was measured. Setting 36 gives
# 10 %, and a 30d digest that reads more at 50 % than at 10 % (the md5 of
# its output, printed per checkpoint, shows it). Checkpoints fall between
# whole days, at the first day that reaches the share. The year ends
# yesterday (UTC), so that --since 7d holds a full week; a run across UTC
# midnight shifts every window by a day, so start it well before.
#
# Why the other choices:
# - fsync, synchronous_commit and full_page_writes stay on (the tests turn
#   them off): a COMMIT here costs what it costs in production. The server
#   is started here, with tests/lib/pg.sh's helpers, not pg_start.
# - VACUUM ANALYZE and CHECKPOINT before each checkpoint's measures: a year
#   grown day by day has been vacuumed and analysed by autovacuum long ago;
#   a bulk load has not, and its dirty pages would be written while we time.
# - Chunks of SCALE_CHUNK_DAYS (a tenth of the days), each Maildir deleted
#   once ingested: never a million files on disk. History goes in with
#   on-ingest = false, as the alert rules have nothing to do with a backfill.
# - Pipe messages are reports on today (UTC), a day no window holds, so
#   timing them changes no later figure; the bulk chunks are days before
#   the year, for the same reason, and are measured last. Bulk runs with
#   on-ingest = false as well: its target is the cost of inserting into a
#   big database; what the rules cost is the pipe and alert rows.
# - The binary is copied first: the run measures one build even if ./tlswatch
#   is rebuilt meanwhile. TW=path/to/tlswatch measures another build.
set -u
cd "$(dirname "$0")/.."
. tests/lib/pg.sh
. tests/lib/http_receiver.sh
bail() { echo "bench-scale: $1" >&2; exit 1; }
say() { echo "bench-scale: $(date -u +%H:%M:%S) $*" >&2; }

DOMAINS=${SCALE_DOMAINS:-1000}
DAYS=${SCALE_DAYS:-365}
RECENT=${SCALE_RECENT_DAYS:-60}
REPORTERS=${SCALE_REPORTERS:-2.2}
CHUNK_DAYS=${SCALE_CHUNK_DAYS:-$(((DAYS + 9) / 10))}
BULK_N=${SCALE_BULK_N:-5000}
RUNS=${SCALE_RUNS:-7}
DIGEST_RUNS=${SCALE_DIGEST_RUNS:-3}
BULK_RUNS=${SCALE_BULK_RUNS:-3}
SEED=${SCALE_SEED:-1}
CHECKPOINTS="10 50 100"
ONE=d0001.example
OUT=bench/scale.json
[ "$RECENT" -le "$DAYS" ] || RECENT=$DAYS
[ "$DOMAINS" -ge 2 ] || bail "SCALE_DOMAINS must be at least 2 (--domain $ONE)"

work=$(mktemp -d) || bail "mktemp failed"
cleanup() { pg_cleanup; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 143' INT TERM
cp "${TW:-./tlswatch}" "$work/tlswatch" || bail "no ${TW:-./tlswatch}: make all first"
TW=$work/tlswatch
RES=$work/results # lines "KEY LABEL VALUE", read by the report at the end
: >"$RES"

today=$(date -u +%F)
last=$(date -u -d "$today - 1 day" +%F)
first=$(date -u -d "$last - $((DAYS - 1)) days" +%F)

# --- the server: pg_start without its fsync=off ---
PG_BIN=$(pg_bindir) || bail "PostgreSQL server binaries not found (make deps installs postgresql)"
if [ "$(id -u)" -eq 0 ] && ! id -u postgres >/dev/null 2>&1; then
	bail "running as root needs the postgres system user (make deps installs postgresql)"
fi
PG_DIR=$(pg_tempdir) || bail "mktemp failed"
[ "$(id -u)" -eq 0 ] && chown postgres "$PG_DIR"
pg_as_owner "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U tlswatch -E UTF8 --locale=C \
	>"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; bail "initdb failed"; }
export PGHOST="$PG_DIR" PGPORT=5432 PGUSER=tlswatch PGDATABASE=tlswatch
unset PGSERVICE PGPASSWORD PGHOSTADDR PGOPTIONS
pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -s \
	-o "-k $PG_DIR -c listen_addresses=" start >/dev/null ||
	{ cat "$PG_DIR/log" >&2; bail "PostgreSQL did not start"; }
psql -XAtq -d postgres -c "create database tlswatch" || bail "create database failed"
"$TW" db init >/dev/null || bail "tlswatch db init failed"
for s in fsync synchronous_commit full_page_writes; do
	[ "$(q "show $s")" = on ] || bail "$s is not on"
done
settings=$(q "select string_agg(name || '=' || current_setting(name), ', ' order by name)
	from pg_settings where name in ('fsync', 'synchronous_commit', 'full_page_writes',
	'shared_buffers', 'work_mem', 'effective_cache_size', 'maintenance_work_mem',
	'max_wal_size', 'checkpoint_timeout', 'random_page_cost', 'jit', 'autovacuum')")
pg_version=$("$PG_BIN/postgres" --version | awk '{ print $3 }')

# --- configuration: the webhook is a loopback port nothing listens on (a
# refused connection, at once); one attempt, so nothing waits for a retry.
# bench/gen's mail is not DKIM-signed: its five reporters are trusted by
# name, so their reports count, as signed ones would, and digest and alert
# run their default, authenticated-only queries ---
port=$(unused_port) || bail "python3 is needed to find a free port (make deps)"
cat >"$work/rules.conf" <<EOF
[ingest]
trusted-reporters = Google Inc.; Microsoft Corporation; Yahoo; Mail.Ru; Comcast

[webhook ops]
url = http://127.0.0.1:$port/tlsrpt
timeout = 2s

[alert]
max-attempts = 1

[rule failed-24h]
window = 24h
min-failed-sessions = 10
cooldown = 7d
notify = ops

[rule mx-7d]
window = 7d
group-by = mx
min-failed-sessions = 50
cooldown = 7d
notify = ops

[rule silent-3d]
kind = silence
silent-for = 3d
cooldown = 7d
notify = ops
EOF
sed 's/^max-attempts = 1$/&\non-ingest = false/' "$work/rules.conf" >"$work/norules.conf"
grep -q '^on-ingest = false' "$work/norules.conf" || bail "norules.conf: no on-ingest line"

# --- helpers ---
# median of the numbers on stdin
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# timed FILE TIMEIT-ARGS...: bench/timeit, its lines appended to FILE; any
# run that did not exit 0 stops the benchmark with its stderr
timed() {
	f=$1; shift
	bench/timeit "$@" >>"$f" 2>"$work/err" || bail "timeit failed"
	if awk '$4 != 0 { bad = 1 } END { exit !bad }' "$f"; then
		tail -n 5 "$work/err" >&2
		bail "failed: $*"
	fi
}
# col FILE INDEX: the times of command INDEX in a timeit file, median
col() { awk -v c="$2" '$1 == c { print $2 }' "$1" | median; }
# busy: percent of the CPUs in use over 3 s in which this script waits:
# other processes, or PostgreSQL's own background work, that the times
# that follow compete with
cpu_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }
busy() {
	set -- $(cpu_ticks)
	sleep 3
	set -- "$@" $(cpu_ticks)
	awk -v b="$(($3 - $1))" -v t="$(($4 - $2))" 'BEGIN { printf "%.0f", (t > 0 ? 100 * b / t : 0) }'
}
# record KEY LABELS VALUE: one result for each checkpoint label (two share
# one measurement when one chunk reaches both shares, at a small scale)
record() { for l in $(echo "$2" | tr , ' '); do echo "$1 $l $3" >>"$RES"; done; }
# bulk_ingest DIR N: ingest a Maildir, every message stored or bail
bulk_ingest() {
	"$TW" ingest --config "$work/norules.conf" "$1" 2>"$work/err" </dev/null
	sum=$(tail -n 1 "$work/err")
	[ "$sum" = "tlswatch: $2 stored, 0 duplicate, 0 quarantined, 0 failed" ] ||
		{ tail -n 5 "$work/err" >&2; bail "ingest of $1: $sum (expected $2 stored)"; }
}

# --- the plan: reports per day, newest first; chunks cut at CHUNK_DAYS and
# at each checkpoint (the first day the share is reached, and not before
# RECENT days are in) ---
say "planning $DOMAINS domains x $DAYS days ($first .. $last), $REPORTERS reporters a day"
bench/gen -d "$DOMAINS" -D "$first" -N "$DAYS" -R "$REPORTERS" -s "$SEED" -c >"$work/days" ||
	bail "bench/gen -c failed"
total=$(awk '{ s += $2 } END { print s }' "$work/days")
sort -r "$work/days" | awk -v total="$total" -v recent="$RECENT" -v chunk="$CHUNK_DAYS" \
	-v cps="$CHECKPOINTS" '
{ day[NR] = $1; n[NR] = $2 }
END {
	ncp = split(cps, cp, " "); k = 1; start = 1; cum = 0; in_chunk = 0
	for (i = 1; i <= NR; i++) {
		cum += n[i]; in_chunk += n[i]; labels = ""
		while (k <= ncp && (i == NR || (i >= recent && cum * 100 >= cp[k] * total)))
			labels = labels (labels == "" ? "" : ",") cp[k++]
		if (i - start + 1 >= chunk || labels != "" || i == recent) {
			# oldest day, days, reports, checkpoint labels, reports so far, days so far
			print day[i], i - start + 1, in_chunk, (labels == "" ? "-" : labels), cum, i
			start = i + 1; in_chunk = 0
		}
	}
}' >"$work/plan"
say "$total reports in $(wc -l <"$work/plan") chunks"

# --- the bulk chunks: BULK_N messages each on days before the year, every
# set with its own report-ids; generated once, ingested empty and at 100 % ---
per_day=$(awk -v d="$DOMAINS" -v r="$REPORTERS" 'BEGIN { print d * int(r) }')
bulk_days=$((BULK_N / per_day + 2))
bulk_first=$(date -u -d "$first - $bulk_days days" +%F)
for i in $(seq "$BULK_RUNS"); do
	bench/gen -d "$DOMAINS" -D "$bulk_first" -N "$bulk_days" -R "$REPORTERS" -n "$BULK_N" \
		-p "bulk$i" -s "$SEED" "$work/bulk$i" || bail "bench/gen failed"
	[ "$(ls "$work/bulk$i/new" | wc -l)" -eq "$BULK_N" ] || bail "bulk$i: not $BULK_N messages"
done
f=$(ls "$work/bulk1/new/"* | head -n 1)
"$TW" ingest --dry-run "$f" 2>"$work/err" | grep -q '"report-id"' ||
	{ cat "$work/err" >&2; bail "tlswatch ingest --dry-run does not accept $f"; }

say "bulk on an empty database: $BULK_N messages, $BULK_RUNS runs, each on a new database"
: >"$work/bulk_empty.t"
PGDATABASE=bulk_empty
for i in $(seq "$BULK_RUNS"); do
	psql -XAtq -d postgres -c "create database bulk_empty" || bail "create database failed"
	"$TW" db init >/dev/null || bail "db init failed"
	q checkpoint
	timed "$work/bulk_empty.t" -- "$TW" ingest --config "$work/norules.conf" "$work/bulk$i"
	n=$(q "select count(*) from tlswatch.reports")
	[ "$n" = "$BULK_N" ] || bail "bulk on empty stored $n reports, not $BULK_N"
	psql -XAtq -d postgres -c "drop database bulk_empty" || bail "drop database failed"
done
PGDATABASE=tlswatch
echo "bulk_empty - $(col "$work/bulk_empty.t" 0)" >>"$RES"

# --- one checkpoint: every measure on what is in the database now ---
cpn=0
checkpoint() { # LABELS REPORTS-SO-FAR DAYS-SO-FAR
	cpn=$((cpn + 1))
	say "checkpoint $1 %: $2 of $total reports, $3 days; vacuum analyze, checkpoint"
	q "vacuum analyze" && q checkpoint || bail "vacuum failed"
	record share "$1" "$(awk -v a="$2" -v t="$total" 'BEGIN { printf "%.1f", 100 * a / t }')"
	record days "$1" "$3"
	record busy "$1" "$(busy)"
	record reports "$1" "$(q "select count(*) from tlswatch.reports")"
	record failure_rows "$1" "$(q "select count(*) from tlswatch.failures")"
	# partitions, if the schema grows any, are tables of their own
	record bytes "$1" "$(q "select sum(pg_total_relation_size(c.oid)) from pg_class c
		join pg_namespace n on n.oid = c.relnamespace
		where n.nspname = 'tlswatch' and c.relkind in ('r', 'm', 'p')")"
	record failure_bytes "$1" "$(q "select sum(pg_total_relation_size(relid))
		from pg_partition_tree('tlswatch.failures')")"
	q "select c.relname, pg_total_relation_size(c.oid) from pg_class c
		join pg_namespace n on n.oid = c.relnamespace
		where n.nspname = 'tlswatch' and c.relkind in ('r', 'm', 'p') order by 2 desc" |
		tr '|' ' ' | while read -r t b; do record "table:$t" "$1" "$b"; done

	say "alert: a first pass, to fire what fires"
	"$TW" alert --config "$work/rules.conf" 2>"$work/err" </dev/null ||
		{ tail -n 5 "$work/err" >&2; bail "tlswatch alert failed"; }
	record alert_first "$1" "$(tail -n 1 "$work/err" | sed 's/^tlswatch: alert: //; s/ /_/g')"

	say "pipe: $RUNS messages with the rules, $RUNS without, taking turns"
	for v in r n; do
		bench/gen -d "$DOMAINS" -D "$today" -N 1 -R "$REPORTERS" -n "$RUNS" -p "pipe$cpn$v" \
			-s "$SEED" "$work/pipe-$v" || bail "bench/gen failed"
		ls "$work/pipe-$v/new/"* >"$work/pipe-$v.list"
	done
	: >"$work/pipe_r.t"
	: >"$work/pipe_n.t"
	for i in $(seq "$RUNS"); do
		sed -n "${i}p" "$work/pipe-r.list" >"$work/one"
		timed "$work/pipe_r.t" -l "$work/one" -- "$TW" ingest --config "$work/rules.conf"
		grep -q "^tlswatch: stored " "$work/err" || { cat "$work/err" >&2; bail "pipe: not stored"; }
		sed -n "${i}p" "$work/pipe-n.list" >"$work/one"
		timed "$work/pipe_n.t" -l "$work/one" -- "$TW" ingest --config "$work/norules.conf"
		grep -q "^tlswatch: stored " "$work/err" || { cat "$work/err" >&2; bail "pipe: not stored"; }
	done
	rm -rf "$work/pipe-r" "$work/pipe-n"
	record pipe_rules "$1" "$(col "$work/pipe_r.t" 0)"
	record pipe_norules "$1" "$(col "$work/pipe_n.t" 0)"

	say "digest: 7d, 7d --domain $ONE, 30d json, $DIGEST_RUNS runs each"
	: >"$work/digest.t"
	for i in $(seq "$DIGEST_RUNS"); do
		timed "$work/digest.t" -- "$TW" digest --config "$work/rules.conf" --since 7d \
			-- "$TW" digest --config "$work/rules.conf" --since 7d --domain "$ONE" \
			-- "$TW" digest --config "$work/rules.conf" --since 30d --format json
	done
	record digest_7d "$1" "$(col "$work/digest.t" 0)"
	record digest_7d_one "$1" "$(col "$work/digest.t" 1)"
	record digest_30d_json "$1" "$(col "$work/digest.t" 2)"
	# what the windows hold, to compare between checkpoints
	"$TW" digest --config "$work/rules.conf" --since 30d --format json >"$work/d30.json" </dev/null ||
		bail "digest failed"
	record digest_30d_md5 "$1" "$(md5sum <"$work/d30.json" | cut -c1-12)"
	record digest_30d_domains "$1" "$(grep -o '"domain": *"[^"]*"' "$work/d30.json" | sort -u | wc -l)"
	"$TW" digest --config "$work/rules.conf" --since 7d --domain "$ONE" >"$work/one.txt" </dev/null
	grep -q "no data" "$work/one.txt" && bail "digest --domain $ONE: no data"

	say "alert: $RUNS passes"
	: >"$work/alert.t"
	for i in $(seq "$RUNS"); do
		timed "$work/alert.t" -- "$TW" alert --config "$work/rules.conf"
	done
	record alert "$1" "$(col "$work/alert.t" 0)"
	record alert_timed "$1" "$(tail -n 1 "$work/err" | sed 's/^tlswatch: alert: //; s/ /_/g')"
}

# --- the history ---
exec 3<"$work/plan"
load_s=0
while read -r day ndays count labels cum sofar <&3; do
	say "chunk $day + $ndays days: $count reports (generating)"
	bench/gen -d "$DOMAINS" -D "$day" -N "$ndays" -R "$REPORTERS" -p hist -s "$SEED" "$work/chunk" ||
		bail "bench/gen failed"
	say "chunk $day + $ndays days: ingesting"
	t0=$(date +%s)
	bulk_ingest "$work/chunk" "$count"
	load_s=$((load_s + $(date +%s) - t0))
	rm -rf "$work/chunk"
	[ "$labels" = - ] || checkpoint "$labels" "$cum" "$sofar"
done
exec 3<&-
echo "load_seconds - $load_s" >>"$RES"

say "bulk at 100 %: $BULK_N messages, $BULK_RUNS runs"
: >"$work/bulk_full.t"
for i in $(seq "$BULK_RUNS"); do
	q checkpoint
	timed "$work/bulk_full.t" -- "$TW" ingest --config "$work/norules.conf" "$work/bulk$i"
	grep -q "$BULK_N stored, 0 duplicate, 0 quarantined, 0 failed" "$work/err" ||
		{ tail -n 3 "$work/err" >&2; bail "bulk at 100 %: not every message stored"; }
done
echo "bulk_full - $(col "$work/bulk_full.t" 0)" >>"$RES"

# --- the report ---
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
mem=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
load=$(cut -d' ' -f1-3 /proc/loadavg)
awk -v cps="$CHECKPOINTS" -v cpu="$cpu" -v ncpu="$(nproc)" -v mem="$mem" -v load="$load" \
	-v pgv="$pg_version" -v settings="$settings" -v domains="$DOMAINS" -v days="$DAYS" \
	-v reporters="$REPORTERS" -v first="$first" -v last="$last" -v recent="$RECENT" \
	-v total="$total" -v bulk_n="$BULK_N" -v runs="$RUNS" -v druns="$DIGEST_RUNS" \
	-v bruns="$BULK_RUNS" -v one="$ONE" -v seed="$SEED" -v out="$OUT" '
function ms(s) { return s < 1 ? sprintf("%.1f ms", s * 1000) : sprintf("%.2f s", s) }
function v(k, l) { return ((k SUBSEP l) in r) ? r[k, l] : "" }
function pf(ok) { npass += ok; ntarget++; return ok ? "PASS" : "FAIL" }
function js(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); return "\"" s "\"" }
function row(what, e, a, b, c, ratio, grow, target, res) {
	printf "| %-40s | %10s | %10s | %10s | %10s | %6s | %-6s | %-31s | %-4s |\n",
		what, e, a, b, c, ratio, grow, target, res
}
# a timed or sized row: three checkpoints, growth 100 % / first <= 1.3x,
# and another target when given (AT: the value at 100 %, TEXT, OK)
function measured(key, what, fmt, target, ok,   a, c, g, gs) {
	a = v(key, cp[1]); c = v(key, cp[n])
	g = a > 0 ? c / a : 0; gs = pf(g <= 1.3)
	grow[key] = g; growok[key] = gs
	row(what, "", fmt == "ms" ? ms(a) : sprintf("%.0f", a), fmt == "ms" ? ms(v(key, cp[2])) : sprintf("%.0f", v(key, cp[2])),
	    fmt == "ms" ? ms(c) : sprintf("%.0f", c), sprintf("%.2fx", g), gs, target, target == "" ? "" : pf(ok))
	if (target != "") { tgt[key] = target; tgtok[key] = ok ? "PASS" : "FAIL" }
}
{ r[$1, $2] = $3; if ($1 ~ /^table:/) tables[substr($1, 7)] = 1 }
END {
	n = split(cps, cp, " ")
	for (i = 1; i <= n; i++) {
		l = cp[i]
		r["bpr", l] = r["bytes", l] / r["reports", l]
		r["bpf", l] = r["failure_bytes", l] / r["failure_rows", l]
		head[i] = sprintf("%s %%", r["share", l] + 0 >= 99.95 ? "100" : sprintf("%.0f", r["share", l]))
	}
	printf "tlswatch bench-scale: %s, %d cores, %s; PostgreSQL %s (%s); load average %s at the end\n", cpu, ncpu, mem, pgv, settings, load
	printf "history: %d domains x %d days (%s .. %s), %s reporters a day: %d reports; first checkpoint once the newest %d days are in\n\n", domains, days, first, last, reporters, total, recent
	row("measure", "empty", head[1], head[2], head[3], "growth", "<=1.3x", "target", "")
	print "|------------------------------------------|------------|------------|------------|------------|--------|--------|---------------------------------|------|"
	p100 = v("pipe_rules", cp[n]) / v("pipe_norules", cp[n])
	measured("pipe_rules", "pipe, 3 rules, median of " runs, "ms", sprintf("<= 1.3x no rules: %.2fx", p100), p100 <= 1.3)
	measured("pipe_norules", "pipe, on-ingest = false, median of " runs, "ms", "", 0)
	measured("digest_7d", "digest --since 7d, median of " druns, "ms", "< 0.5 s", v("digest_7d", cp[n]) < 0.5)
	measured("digest_7d_one", "digest --since 7d --domain, median of " druns, "ms", "< 0.1 s", v("digest_7d_one", cp[n]) < 0.1)
	measured("digest_30d_json", "digest --since 30d --format json", "ms", "", 0)
	measured("alert", "alert, one pass, median of " runs, "ms", "< 0.2 s", v("alert", cp[n]) < 0.2)
	measured("bpr", "bytes per report, all tables", "n", "", 0)
	measured("bpf", "bytes per failure row", "n", "", 0)
	be = bulk_n / r["bulk_empty", "-"]; bf = bulk_n / r["bulk_full", "-"]
	bok = bf >= 0.9 * be
	row("bulk " bulk_n " msgs, msg/s, median of " bruns, sprintf("%.0f", be), "", "", sprintf("%.0f", bf), "", "",
	    sprintf(">= 90%% of empty: %.0f%%", 100 * bf / be), pf(bok))
	printf "\n%d of %d targets met.\n", npass, ntarget
	for (i = 1; i <= n; i++) if (i == 1 || r["share", cp[i]] != r["share", cp[i - 1]])
		printf "checkpoint %d %%: measured at %s %% (newest %d of %d days), %d reports, %d failure rows, %.0f MiB; CPUs %s %% busy with something else just before\n",
		    cp[i], r["share", cp[i]], r["days", cp[i]], days, r["reports", cp[i]], r["failure_rows", cp[i]], r["bytes", cp[i]] / 1048576, r["busy", cp[i]]
	same = r["digest_30d_md5", cp[1]] == r["digest_30d_md5", cp[n]] && r["digest_30d_md5", cp[2]] == r["digest_30d_md5", cp[n]]
	printf "windows: digest --since 30d --format json %s at every checkpoint (md5 %s %s %s, %s domains)\n",
	    same ? "identical" : "DIFFERS", r["digest_30d_md5", cp[1]], r["digest_30d_md5", cp[2]], r["digest_30d_md5", cp[3]], r["digest_30d_domains", cp[n]]
	for (i = 1; i <= n; i++) if (i == 1 || r["share", cp[i]] != r["share", cp[i - 1]]) {
		a = r["alert_first", cp[i]]; b = r["alert_timed", cp[i]]; gsub(/_/, " ", a); gsub(/_/, " ", b)
		printf "alert at %s: first pass %s; timed passes %s\n", head[i], a, b
	}
	printf "history load: %d reports in %d s (%.0f msg/s, bulk ingest with fsync on, generation not counted)\n", total, r["load_seconds", "-"], total / (r["load_seconds", "-"] > 0 ? r["load_seconds", "-"] : 1)

	printf "{\n  \"machine\": {\"cpu\": %s, \"cores\": %d, \"memory\": %s, \"load_average_at_end\": %s},\n", js(cpu), ncpu, js(mem), js(load) > out
	printf "  \"postgresql\": {\"version\": %s, \"settings\": %s},\n", js(pgv), js(settings) > out
	printf "  \"history\": {\"domains\": %d, \"days\": %d, \"first_day\": %s, \"last_day\": %s, \"reporters_per_domain_day\": %s, \"reports\": %d, \"first_checkpoint_after_days\": %d, \"seed\": %d, \"load_seconds\": %d},\n", domains, days, js(first), js(last), reporters, total, recent, seed, r["load_seconds", "-"] > out
	printf "  \"runs\": {\"fast\": %d, \"digest\": %d, \"bulk\": %d},\n  \"checkpoints\": [\n", runs, druns, bruns > out
	split("pipe_rules pipe_norules digest_7d digest_7d_one digest_30d_json alert", tk, " ")
	for (i = 1; i <= n; i++) {
		l = cp[i]
		printf "    {\"nominal_percent\": %d, \"percent\": %s, \"days\": %d, \"reports\": %d, \"failure_rows\": %d, \"bytes\": %.0f, \"bytes_per_report\": %.1f, \"failure_bytes\": %.0f, \"bytes_per_failure_row\": %.1f, \"busy_cpu_percent_before\": %d,\n", l, r["share", l], r["days", l], r["reports", l], r["failure_rows", l], r["bytes", l], r["bpr", l], r["failure_bytes", l], r["bpf", l], r["busy", l] > out
		printf "     \"seconds\": {" > out
		for (k = 1; k <= 6; k++) printf "%s\"%s\": %.6f", (k > 1 ? ", " : ""), tk[k], r[tk[k], l] > out
		printf "},\n     \"table_bytes\": {" > out
		sep = ""
		for (t in tables) if (("table:" t SUBSEP l) in r) { printf "%s\"%s\": %d", sep, t, r["table:" t, l] > out; sep = ", " }
		a = r["alert_first", l]; b = r["alert_timed", l]; gsub(/_/, " ", a); gsub(/_/, " ", b)
		printf "},\n     \"digest_30d_md5\": %s, \"alert_first_pass\": %s, \"alert_timed_pass\": %s}%s\n", js(r["digest_30d_md5", l]), js(a), js(b), (i < n ? "," : "") > out
	}
	printf "  ],\n  \"bulk\": {\"messages\": %d, \"empty_per_s\": %.1f, \"full_per_s\": %.1f, \"ratio\": %.3f},\n", bulk_n, be, bf, bf / be > out
	printf "  \"targets\": {\n" > out
	split("pipe_rules pipe_norules digest_7d digest_7d_one digest_30d_json alert bpr bpf", gk, " ")
	for (k = 1; k <= 8; k++)
		printf "    \"%s_growth\": {\"ratio\": %.3f, \"max\": 1.3, \"result\": \"%s\"},\n", gk[k], grow[gk[k]], growok[gk[k]] > out
	for (k in tgt) printf "    \"%s\": {\"target\": %s, \"result\": \"%s\"},\n", k, js(tgt[k]), tgtok[k] > out
	printf "    \"bulk_at_100_vs_empty\": {\"ratio\": %.3f, \"min\": 0.9, \"result\": \"%s\"}\n  },\n", bf / be, (bok ? "PASS" : "FAIL") > out
	printf "  \"passed\": %d, \"targets_total\": %d\n}\n", npass, ntarget > out
}' "$RES" || { cp "$RES" bench/scale.results; bail "the report failed; raw results in bench/scale.results"; }
say "written to $OUT"
