#!/bin/sh
# run.sh: `make bench`. tlswatch against its floor, every figure measured
# in this run on a throwaway PostgreSQL (tests/lib/pg.sh, like the tests):
#   pipe   median wall time of PIPE_N separate `tlswatch ingest < msg`,
#          beside bench/floor (connect, insert one row in a transaction, exit)
#   bulk   messages/s of `tlswatch ingest MAILDIR` over BULK_N messages,
#          beside `--dry-run` (parse only) on the same folder; also at 1,000
#   big    one report with BIG_ROWS failure-details, beside its dry run
#   RSS    peak of each process (wait4), bulk at 1,000 and BULK_N
#   child  the parse of the pipe messages through the parse child
#          (bench/contain: socket, answer, parse of the JSON again) beside
#          the same parse in process, per message; and the child's fork
#   lmtp   `tlswatch serve` with LMTP_SESSIONS workers, bench/lmtp as
#          LMTP_SESSIONS concurrent sessions delivering the BULK_N messages:
#          messages/s, p50 and p99 reply latency, and the CPU time of
#          serve's whole process tree per message beside the pipe's (the
#          PIPE_N messages run one `tlswatch ingest` each, CPU per message);
#          beside it, pgbench committing the same transaction per message
#          (bench/floor-lmtp.sql) from as many clients: the database alone
#   http   the same serve, HTTP_N reports (application/tlsrpt+json) POSTed
#          by curl --parallel, LMTP_SESSIONS at a time, over plain HTTP and
#          over TLS (a certificate made here with openssl): reports/s
#   fetch  `tlswatch fetch --once` of the 1,000 bulk messages from a
#          local Dovecot (tests/lib/dovecot.sh, imaps on 127.0.0.1),
#          beside `tlswatch ingest` of the same folder: messages/s
#   dkim   the PIPE_N messages DKIM-signed (tests/lib/dkim.sh, the key on
#          dnsmasq on 127.0.0.1), `tlswatch ingest --dry-run` of each with
#          [ingest] dkim = record beside dkim = off: the median cost of
#          verifying, key lookup included, per message
# Bulk, dry-run and big figures are the best of RUNS runs (the least
# disturbed by whatever else the machine does), the pipe figures medians.
# The table goes to stdout and bench/results.json. No test runs this.
# TW=path/to/tlswatch measures another build (an older one, say).
set -u
cd "$(dirname "$0")/.."
. tests/lib/pg.sh
bail() { echo "bench: $1" >&2; exit 1; }
. tests/lib/dkim.sh
. tests/lib/dovecot.sh

TW=${TW:-./tlswatch}
RUNS=${RUNS:-3}
PIPE_N=${PIPE_N:-200}
BULK_N=${BULK_N:-10000}
BIG_ROWS=${BIG_ROWS:-50000}
LMTP_SESSIONS=${LMTP_SESSIONS:-8}
HTTP_N=${HTTP_N:-2000}
OUT=bench/results.json

pg_start_schema
work=$(mktemp -d)
trap 'pg_cleanup; dkim_cleanup; dovecot_stop; rm -rf "$work"' EXIT
q "create table public.bench_floor (id bigint generated always as identity primary key,
   note text, at timestamptz not null default now())"
reset() { q "truncate tlswatch.messages, tlswatch.report_keys, tlswatch.reports, tlswatch.policies, tlswatch.failures, tlswatch.domain_sessions"; }

echo "bench: generating $PIPE_N + 1000 + $BULK_N messages and one of $BIG_ROWS failure rows" >&2
bench/gen -n "$PIPE_N" -p pipe -s 1 "$work/pipe" &&
	bench/gen -n 1000 -p k1 -s 2 "$work/bulk1k" &&
	bench/gen -n "$BULK_N" -p k10 -s 3 "$work/bulk" &&
	bench/gen -n 1 -r "$BIG_ROWS" -p big -s 4 "$work/big" || bail "bench/gen failed"
ls "$work"/pipe/new/* > "$work/pipe.list"
ls "$work"/big/new/* > "$work/big.list"

# field N of the lines of FILE whose first field is CMD: median, max.
median() { awk -v c="$2" '$1 == c { print $2 }' "$1" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
maxof() { awk -v c="$2" -v f="$3" '$1 == c && $f > m { m = $f } END { print m + 0 }' "$1"; }
failed() { awk '$4 != 0' "$1" | head -n 1; }
# RUNS runs of bench/timeit ARGS, each after $before (a command): sets
# secs (the best) and rss (the largest); stderr of the last in $work/err
timed() {
	: > "$work/t"
	for run in $(seq "$RUNS"); do
		eval "$before"
		bench/timeit "$@" >> "$work/t" 2> "$work/err" || bail "timeit failed"
	done
	[ -z "$(failed "$work/t")" ] || { cat "$work/err" >&2; bail "$* failed"; }
	secs=$(sort -k2,2n "$work/t" | awk 'NR == 1 { print $2 }')
	rss=$(maxof "$work/t" 0 3)
}
summary() { tail -n 1 "$work/err"; }

echo "bench: pipe mode, $PIPE_N messages, each beside a floor run" >&2
bench/timeit -l "$work/pipe.list" -- bench/floor -- $TW ingest > "$work/pipe.t" 2> "$work/pipe.err"
[ -z "$(failed "$work/pipe.t")" ] || { tail -n 5 "$work/pipe.err" >&2; bail "a pipe run failed"; }
floor_s=$(median "$work/pipe.t" 0)
pipe_s=$(median "$work/pipe.t" 1)
floor_rss=$(maxof "$work/pipe.t" 0 3)
pipe_rss=$(maxof "$work/pipe.t" 1 3)

echo "bench: DKIM, the $PIPE_N messages signed, dkim = record beside dkim = off" >&2
key=$(dkim_keygen bench) || bail "no key"
echo "sel._domainkey.bench.example v=DKIM1; k=rsa; p=$key" >"$DKIM_DIR/zone"
dns_start "$DKIM_DIR/zone"
mkdir -p "$work/signed"
while read -r f; do
	dkim_sign bench bench.example sel <"$f" >"$work/signed/${f##*/}" || bail "signing $f failed"
	echo "$work/signed/${f##*/}"
done <"$work/pipe.list" >"$work/signed.list"
for mode in off record; do
	printf '[dns]\nnameservers = 127.0.0.1:%s\n[ingest]\ndkim = %s\n' "$DNS_PORT" "$mode" >"$work/dkim-$mode.conf"
done
bench/timeit -l "$work/signed.list" -- $TW ingest --dry-run --config "$work/dkim-off.conf" \
	-- $TW ingest --dry-run --config "$work/dkim-record.conf" >"$work/dkim.t" 2>"$work/dkim.err"
[ -z "$(failed "$work/dkim.t")" ] || { tail -n 5 "$work/dkim.err" >&2; bail "a dkim run failed"; }
# Each verification asked dnsmasq for the key: the row measures a lookup.
asked=$(grep -c 'query\[TXT\] sel._domainkey.bench.example' "$DKIM_DIR/zone.log")
[ "$asked" -ge "$PIPE_N" ] || bail "dnsmasq was asked $asked times for $PIPE_N verifications"
dkim_off_s=$(median "$work/dkim.t" 0)
dkim_rec_s=$(median "$work/dkim.t" 1)
dns_stop

echo "bench: bulk mode, 1000 and $BULK_N messages, and dry runs, best of $RUNS" >&2
before=reset
timed -- $TW ingest "$work/bulk1k"
like1k=$(summary)
bulk1k_s=$secs bulk1k_rss=$rss
timed -- $TW ingest "$work/bulk"
bulk_sum=$(summary)
bulk_s=$secs bulk_rss=$rss
before=:
timed -- $TW ingest --dry-run "$work/bulk"
dry_s=$secs dry_rss=$rss
case "$like1k/$bulk_sum" in
"tlswatch: 1000 stored, 0 duplicate, 0 quarantined, 0 failed/tlswatch: $BULK_N stored, 0 duplicate, 0 quarantined, 0 failed") ;;
*) bail "bulk runs did not store every message: $like1k / $bulk_sum" ;;
esac

echo "bench: fetch, the 1000 messages from a local Dovecot" >&2
chmod a+x "$work" # Dovecot's account goes through it to the mail
dovecot_start "$work/dc"
cp -r "$work/bulk1k" "$work/imported"
chown -R "$DOVECOT_USER:$DOVECOT_GROUP" "$work/imported"
dovecot_adm import "maildir:$work/imported" "" all || bail "doveadm import failed"
[ "$(dovecot_count INBOX)" = 1000 ] || bail "Dovecot holds $(dovecot_count INBOX) messages, not 1000"
printf '[imap bench]\nurl = imaps://127.0.0.1:%s/INBOX\nuser = reports\npassword-file = %s\nca-file = %s\nprocessed-folder = Processed\n' \
	"$IMAPS_PORT" "$work/dc/password" "$work/dc/ca.pem" >"$work/fetch.conf"
reset
bench/timeit -- $TW fetch --once --config "$work/fetch.conf" >"$work/fetch.t" 2>"$work/fetch.err"
[ -z "$(failed "$work/fetch.t")" ] || { tail -n 5 "$work/fetch.err" >&2; bail "fetch failed"; }
fetch_s=$(median "$work/fetch.t" 0)
[ "$(q "select count(*) from tlswatch.messages where channel = 'imap' and status = 'stored'")" = 1000 ] ||
	bail "fetch did not store the 1000 messages: $(tail -n 1 "$work/fetch.err")"
dovecot_stop

echo "bench: one report with $BIG_ROWS failure-details, best of $RUNS" >&2
timed -l "$work/big.list" -- $TW ingest --dry-run
bigdry_s=$secs
before=reset
timed -l "$work/big.list" -- $TW ingest
big_s=$secs big_rss=$rss
rows=$(q "select count(*) from tlswatch.failures f join tlswatch.policies p on p.id = f.policy_ref
          join tlswatch.reports r on r.id = p.report_ref where r.report_id like 'big-%'")
[ "$rows" = "$BIG_ROWS" ] || bail "the big report stored $rows failure rows, not $BIG_ROWS"

echo "bench: the parse child, $PIPE_N messages, best of 5 each" >&2
set -- $(bench/contain $(cat "$work/pipe.list")) || bail "bench/contain failed"
child_in=$2 child_out=$3 child_fork=$4

# CPU seconds of PID and its descendants, their waited-for children
# included (/proc/PID/stat fields 14 to 17).
tree_cpu() {
	local p total=0 tck
	tck=$(getconf CLK_TCK)
	for p in $1 $(pgrep -P "$1") $(for c in $(pgrep -P "$1"); do pgrep -P "$c"; done); do
		total=$((total + $(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
	done
	awk -v t="$total" -v k="$tck" 'BEGIN { printf "%.3f", t / k }'
}

echo "bench: pipe CPU time, $PIPE_N messages; tlswatch serve, $LMTP_SESSIONS sessions x $BULK_N messages" >&2
reset
pipe_cpu=$(bash -c 'TIMEFORMAT="%3U %3S"; time (while read -r f; do "$0" ingest <"$f" 2>/dev/null; done <"$1")' \
	"$TW" "$work/pipe.list" 2>&1 >/dev/null | awk '{ print $1 + $2 }')
reset
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" -addext "subjectAltName = IP:127.0.0.1" \
	-keyout "$work/tls.key" -out "$work/tls.pem" >/dev/null 2>&1 || bail "openssl failed"
http_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
https_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# http-rate at its most: the POSTs all come from 127.0.0.1.
printf '[serve]\nlmtp = unix:%s/lmtp\nworkers = %s\nhttp = 127.0.0.1:%s\nhttps = 127.0.0.1:%s\ncertificate = %s\nkey = %s\nhttp-rate = 1000000\n' \
	"$work" "$LMTP_SESSIONS" "$http_port" "$https_port" "$work/tls.pem" "$work/tls.key" >"$work/serve.conf"
$TW serve --config "$work/serve.conf" 2>"$work/serve.err" &
serve_pid=$!
for _ in $(seq 100); do [ -S "$work/lmtp" ] && break; sleep 0.1; done
# The peer of the LMTP row: PostgreSQL alone committing the same
# transaction per message (bench/floor-lmtp.sql) from as many pgbench
# clients, for 10 s: what any receiver could do here with this schema.
floor_tps=$("$PG_BIN/pgbench" -n -M prepared -c "$LMTP_SESSIONS" -j 2 -T 10 -f bench/floor-lmtp.sql 2>&1 |
	sed -n 's/^tps = \([0-9.]*\) .*/\1/p')
[ -n "$floor_tps" ] || bail "pgbench failed (bench/floor-lmtp.sql)"
reset
cpu0=$(tree_cpu "$serve_pid")
set -- $(bench/lmtp "$work/lmtp" "$LMTP_SESSIONS" "$work"/bulk/new/*) || bail "bench/lmtp failed"
lmtp_n=$1 lmtp_s=$2 lmtp_p50=$3 lmtp_p99=$4
serve_cpu=$(awk -v a="$(tree_cpu "$serve_pid")" -v b="$cpu0" 'BEGIN { print a - b }')
serve_rss=$(for p in $serve_pid $(pgrep -P "$serve_pid"); do awk '/VmHWM/ { print $2 }' "/proc/$p/status"; done | sort -n | tail -n 1)
[ "$(q "select count(*) from tlswatch.messages where status = 'stored'")" = "$BULK_N" ] ||
	bail "serve did not store every message"
# posts SCHEME PORT: HTTP_N new reports through curl --parallel; seconds
mkdir -p "$work/posts"
posts() {
	: >"$work/curl.cfg"
	# Each transfer names all its options: "next" resets them.
	for i in $(seq "$HTTP_N"); do
		sed "s/fixture-bare-1/$1-$i/" tests/fixtures/bare-report.json >"$work/posts/$1-$i.json"
		[ "$i" -eq 1 ] || echo next >>"$work/curl.cfg"
		printf 'url = "%s://127.0.0.1:%s/v1"\ndata-binary = "@%s"\noutput = "/dev/null"\n' \
			"$1" "$2" "$work/posts/$1-$i.json" >>"$work/curl.cfg"
		printf 'header = "Content-Type: application/tlsrpt+json"\ncacert = "%s"\nfail\n' \
			"$work/tls.pem" >>"$work/curl.cfg"
	done
	t0=$(date +%s.%N)
	curl -s --no-progress-meter --parallel --parallel-max "$LMTP_SESSIONS" -K "$work/curl.cfg" ||
		bail "curl failed"
	awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }'
}
http_s=$(posts http "$http_port")
https_s=$(posts https "$https_port")
posted=$(q "select count(*) from tlswatch.messages where channel in ('http', 'https') and status = 'stored'")
[ "$posted" = $((2 * HTTP_N)) ] || bail "serve stored $posted of $((2 * HTTP_N)) POSTs"
kill -TERM "$serve_pid"
wait "$serve_pid"

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
machine="$cpu, $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), PostgreSQL $("$PG_BIN/postgres" --version | awk '{ print $3 }') (fsync off, as tests/lib/pg.sh starts it)"

load=$(cut -d' ' -f1-3 /proc/loadavg)
awk -v fs="$floor_s" -v ps="$pipe_s" -v fr="$floor_rss" -v pr="$pipe_rss" -v n="$PIPE_N" \
	-v bs="$bulk_s" -v br="$bulk_rss" -v ds="$dry_s" -v dr="$dry_rss" -v bn="$BULK_N" \
	-v ks="$bulk1k_s" -v kr="$bulk1k_rss" -v gs="$big_s" -v gd="$bigdry_s" -v gr="$big_rss" \
	-v rows="$BIG_ROWS" -v ci="$child_in" -v co="$child_out" -v cf="$child_fork" -v machine="$machine" -v load="$load" -v runs="$RUNS" -v out="$OUT" \
	-v ln="$lmtp_n" -v ls="$lmtp_s" -v l50="$lmtp_p50" -v l99="$lmtp_p99" -v lc="$serve_cpu" -v lr="$serve_rss" \
	-v pc="$pipe_cpu" -v sess="$LMTP_SESSIONS" -v hn="$HTTP_N" -v hs="$http_s" -v hts="$https_s" \
	-v dko="$dkim_off_s" -v dkr="$dkim_rec_s" -v fts="$fetch_s" -v ft="$floor_tps" '
function mib(k) { return sprintf("%.1f MiB", k / 1024) }
function row(what, got, floor, ratio, target, rss) {
	printf "| %-30s | %11s | %-24s | %6s | %-15s | %9s |\n", what, got, floor, ratio, target, rss
}
BEGIN {
	rate = bn / bs; dry = bn / ds; krate = 1000 / ks
	printf "tlswatch bench: %s; load average %s at the end\n\n", machine, load
	row("measure", "tlswatch", "floor", "ratio", "target", "peak RSS")
	print "|--------------------------------|-------------|--------------------------|--------|-----------------|-----------|"
	row("pipe, median of " n, sprintf("%.2f ms", ps * 1000), sprintf("%.2f ms bench/floor", fs * 1000),
	    sprintf("%.2fx", ps / fs), "<= 1.5x", mib(pr))
	row("bulk " bn ", best of " runs, sprintf("%.0f msg/s", rate), sprintf("%.0f msg/s dry run", dry),
	    sprintf("%.0f%%", 100 * rate / dry), ">= 3000, >= 40%", mib(br))
	row("bulk 1000, best of " runs, sprintf("%.0f msg/s", krate), "", "", "", mib(kr))
	row("1 report, " rows " failures", sprintf("%.3f s", gs), sprintf("%.3f s dry run", gd),
	    sprintf("%.2fx", gs / gd), "< 1 s", mib(gr))
	row("bulk peak RSS 1000 vs " bn, mib(kr), mib(br), sprintf("%.2fx", br / kr), "< 64 MiB, flat", "")
	row("parse in the child, per msg", sprintf("%.3f ms", co / n * 1000), sprintf("%.3f ms in process", ci / n * 1000),
	    sprintf("%.2fx", co / ci), "< 5% of pipe", "")
	row("  its cost, share of pipe", sprintf("%.3f ms", (co - ci) / n * 1000), sprintf("%.2f ms pipe", ps * 1000),
	    sprintf("%.1f%%", 100 * (co - ci) / n / ps), "", "")
	row("  the fork, once per run", sprintf("%.3f ms", cf * 1000), "", "", "", "")
	row("lmtp, " sess " sessions x " ln, sprintf("%.0f msg/s", ln / ls), sprintf("%.0f msg/s bulk", rate),
	    sprintf("%.0f%%", 100 * (ln / ls) / rate), ">= 3000 msg/s", mib(lr))
	row("  the database alone", sprintf("%.0f msg/s", ln / ls), sprintf("%.0f tx/s pgbench", ft),
	    sprintf("%.0f%%", 100 * (ln / ls) / ft), "", "")
	row("  reply latency p50 / p99", sprintf("%.1f ms", l50), sprintf("%.1f ms p99", l99), "", "p99 < 20 ms", "")
	row("  CPU per message, serve", sprintf("%.3f ms", lc / ln * 1000), sprintf("%.3f ms pipe", pc / n * 1000),
	    sprintf("%.2fx", (lc / ln) / (pc / n)), "<= 0.2x", "")
	row("http POST, " sess " x " hn, sprintf("%.0f rep/s", hn / hs), "", "", ">= 2000/s", "")
	row("https POST, " sess " x " hn, sprintf("%.0f rep/s", hn / hts), sprintf("%.0f rep/s http", hn / hs),
	    sprintf("%.0f%%", 100 * hs / hts), ">= 2000/s", "")
	row("fetch 1000 from Dovecot", sprintf("%.0f msg/s", 1000 / fts), sprintf("%.0f msg/s bulk", krate),
	    sprintf("%.0f%%", 100 * (1000 / fts) / krate), "", "")
	row("dkim = record, median of " n, sprintf("%.2f ms", dkr * 1000), sprintf("%.2f ms dkim = off", dko * 1000),
	    sprintf("%.2fx", dkr / dko), "", "")
	row("  verifying, per message", sprintf("%.2f ms", (dkr - dko) * 1000), "", "", "", "")
	printf "\nfloor peak RSS %s; dry run of %d messages %s\n", mib(fr), bn, mib(dr)
	printf "{\n  \"machine\": \"%s\",\n  \"load_average\": \"%s\",\n", machine, load > out
	printf "  \"pipe\": {\"messages\": %d, \"median_s\": %.6f, \"floor_median_s\": %.6f, \"ratio\": %.3f, \"peak_rss_kib\": %d, \"floor_peak_rss_kib\": %d},\n", n, ps, fs, ps / fs, pr, fr > out
	printf "  \"bulk\": {\"messages\": %d, \"seconds\": %.3f, \"per_s\": %.1f, \"dry_run_seconds\": %.3f, \"dry_run_per_s\": %.1f, \"share_of_dry_run\": %.3f, \"peak_rss_kib\": %d, \"dry_run_peak_rss_kib\": %d},\n", bn, bs, rate, ds, dry, rate / dry, br, dr > out
	printf "  \"bulk_1000\": {\"messages\": 1000, \"seconds\": %.3f, \"per_s\": %.1f, \"peak_rss_kib\": %d},\n", ks, krate, kr > out
	printf "  \"big\": {\"failure_rows\": %d, \"seconds\": %.3f, \"dry_run_seconds\": %.3f, \"peak_rss_kib\": %d},\n", rows, gs, gd, gr > out
	printf "  \"parse_child\": {\"messages\": %d, \"in_process_s\": %.6f, \"in_child_s\": %.6f, \"fork_s\": %.6f, \"share_of_pipe\": %.4f},\n", n, ci, co, cf, (co - ci) / n / ps > out
	printf "  \"lmtp\": {\"sessions\": %d, \"messages\": %d, \"seconds\": %.3f, \"per_s\": %.1f, \"p50_ms\": %.3f, \"p99_ms\": %.3f, \"serve_cpu_s\": %.3f, \"pipe_cpu_per_msg_s\": %.6f, \"cpu_ratio\": %.3f, \"peak_rss_kib\": %d, \"database_alone_tx_per_s\": %.1f},\n", sess, ln, ls, ln / ls, l50, l99, lc, pc / n, (lc / ln) / (pc / n), lr, ft > out
	printf "  \"http\": {\"clients\": %d, \"reports\": %d, \"http_seconds\": %.3f, \"http_per_s\": %.1f, \"https_seconds\": %.3f, \"https_per_s\": %.1f},\n", sess, hn, hs, hn / hs, hts, hn / hts > out
	printf "  \"fetch\": {\"messages\": 1000, \"seconds\": %.3f, \"per_s\": %.1f, \"bulk_1000_per_s\": %.1f},\n", fts, 1000 / fts, krate > out
	printf "  \"dkim\": {\"messages\": %d, \"off_median_s\": %.6f, \"record_median_s\": %.6f, \"verify_s\": %.6f}\n}\n", n, dko, dkr, dkr - dko > out
}'
echo "bench: written to $OUT" >&2
