#!/bin/sh
# run.sh TARGET SECONDS: run one fuzz target (make fuzz builds them) for
# SECONDS, one process, on its seeds (tests/fixtures, ../shared/corpus when
# present, fuzz/seeds) and the corpus it grew before (fuzz/build/corpus/).
# A crash, leak, hang (-timeout) or memory blow-up (-rss_limit_mb) fails
# the run and leaves the input in fuzz/build/artifacts/; the last line is
# libFuzzer's final count: executions, cov: (edges) and ft: (features).
set -eu
cd "$(dirname "$0")/.."
t=$1 secs=$2
b=fuzz/build
shared=../shared/corpus
mkdir -p "$b/corpus/$t" "$b/seeds/$t" "$b/artifacts"
seed() { for f in "$@"; do [ -f "$f" ] && cp "$f" "$b/seeds/$t/" || true; done; }
corpus() { [ -d "$shared" ] && find "$shared" -type f "$@" || true; }
seed tests/fixtures/fuzz/"$t"-*
case $t in
message)
	seed tests/fixtures/*.eml tests/fixtures/*.json tests/fixtures/*.json.gz
	seed $(corpus -name '*.eml')
	# Made here, not committed: two inputs of issue 13 that broke ingest,
	# nested address groups (GMime's recursion) and a MIME part bomb.
	perl -e 'print "From: ", "g:" x 50000, "a\@b.example", ";" x 50000, "\nSubject: g\n\nhi\n"' \
		>"$b/seeds/$t/gen-address-groups.eml"
	perl -e 'print "From: a\@b.example\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n",
		"--b\n\n" x 5000, "--b--\n"' >"$b/seeds/$t/gen-part-bomb.eml" ;;
report)
	seed tests/fixtures/*.json $(corpus -name '*.json')
	for f in tests/fixtures/*.json.gz $(corpus -name '*.gz'); do
		zcat "$f" > "$b/seeds/$t/$(basename "$f" .gz).unz" 2>/dev/null || true
	done ;;
decode)
	seed tests/fixtures/*.gz $(corpus -name '*.gz' -o -name '*.zip') ;;
config)
	seed contrib/tlswatch.conf.example fuzz/seeds/config/* ;;
lmtp)
	seed fuzz/seeds/lmtp/* ;;
*)
	echo "run.sh: unknown target $t" >&2; exit 64 ;;
esac
dict=""
[ -f "fuzz/$t.dict" ] && dict="-dict=fuzz/$t.dict"
[ "$t" = message ] && dict="-dict=fuzz/report.dict"
log=$b/$t.log
export G_DEBUG=fatal-criticals
rc=0
"$b/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=1048576 \
	-print_final_stats=1 -close_fd_mask=3 $dict -artifact_prefix="$b/artifacts/$t-" \
	"$b/corpus/$t" "$b/seeds/$t" > "$log" 2>&1 || rc=$?
grep -E '^#[0-9]+.*(DONE|cov:)' "$log" | tail -n 1 | sed "s/^/fuzz_$t: /"
grep -E '^stat::number_of_executed_units' "$log" | sed "s/^/fuzz_$t: /" || true
if [ "$rc" -ne 0 ]; then
	echo "fuzz_$t: FAILED (exit $rc), see $log and $b/artifacts/" >&2
	grep -E 'ERROR|SUMMARY|Test unit written' "$log" >&2 || true
fi
exit "$rc"
