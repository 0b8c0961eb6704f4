#!/bin/sh
# Memory, under the default configuration: every input issue 13 measured,
# each generated here, through `tlswatch ingest` on stdin into the test
# database, under `ulimit -v` 512 MiB as a service's memory limit would
# put it. Each ends in exit 0, stored or quarantined with a reason that
# names a cap (never a signal, never an empty reason), within 160 MiB peak
# RSS (the whole process tree: wait4 counts the parse child too). Before
# the parse ran in a child under max-parse-memory, the same inputs took
# 0.2 to 4.4 GB, and under such a limit died of SIGABRT.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"
. "$(dirname "$0")/../lib/hostile.sh"

TW=./tlswatch
# ASan maps its heap up front (no RLIMIT_DATA can apply) and doubles the
# memory of what it watches: RSS figures from it mean nothing.
ldd $TW | grep -q libasan && skip_all "a SANITIZE=1 build: ASan's heap is outside RLIMIT_DATA and RSS"
MAX_KIB=$((160 * 1024))
pg_start_schema
T=$PG_DIR/mem
mkdir -p "$T"

# NAME FILE OUTCOME ERE [--dry-run]: FILE on stdin gives exit 0, OUTCOME
# (stored or quarantined), a reason matching ERE, under MAX_KIB.
through() {
	(ulimit -v $((512 * 1024)) && exec /usr/bin/time -f '%M' -o "$T/rss" $TW ingest $5) \
		<"$2" >"$T/out" 2>"$T/err"
	rc=$?
	rss=$(tail -n 1 "$T/rss")
	is "$rc" 0 "$1${5:+ ($5)}: exit 0"
	if [ -n "$5" ]; then
		like "$(head -c 2000 "$T/out")" "$4" "$1 (--dry-run): $3, $4"
	else
		like "$(last "status || ': ' || coalesce(reason, '')")" "^$3: .*$4" "$1: $3, $4"
	fi
	ok "$([ "$rss" -lt $MAX_KIB ] && echo 1)" "$1${5:+ ($5)}: peak RSS $rss KiB < $MAX_KIB"
}

# JSON of a report with POLICIES policies of DETAILS failure-details each.
report_of() { # POLICIES DETAILS
	perl -e 'my ($np, $nd) = @ARGV;
		my $d = join ",", map { "{\"result-type\":\"certificate-expired\",\"sending-mta-ip\":\"192.0.2.1\",\"receiving-mx-hostname\":\"mx$_.example.com\",\"failed-session-count\":1}" } 1 .. $nd;
		my $p = join ",", map { "{\"policy\":{\"policy-type\":\"no-policy-found\",\"policy-domain\":\"example.com\"},\"summary\":{\"total-successful-session-count\":1,\"total-failure-session-count\":$nd},\"failure-details\":[$d]}" } 1 .. $np;
		print "{\"organization-name\":\"Big\",\"date-range\":{\"start-datetime\":\"2026-11-01T00:00:00Z\",\"end-datetime\":\"2026-11-01T23:59:59Z\"},\"contact-info\":\"x\@example.net\",\"report-id\":\"big-$np-$nd\",\"policies\":[$p]}"' "$1" "$2"
}
gz_mail() { # NAME < JSON
	gzip -1 >"$T/$1.json.gz"
	mail_part application/tlsrpt+gzip "$T/$1.json.gz" >"$T/$1.eml"
}

perl -e 'print "From: a\@b.example\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n",
	"--b\n\n" x 1000000, "--b--\n"' >"$T/parts.eml"
through "1,000,000 empty MIME parts" "$T/parts.eml" quarantined "max-parse-memory \(128 MiB\)"
through "1,000,000 empty MIME parts" "$T/parts.eml" quarantined "max-parse-memory \(128 MiB\)" --dry-run

# Random {} and [] compress about 20:1: under max-gzip-ratio and
# max-report-size, several hundred bytes each once a tree.
perl -e 'srand 13; my $s = join ",", map { rand() < .5 ? "{}" : "[]" } 1 .. 1000000;
	print "{\"junk\":[", join(",", ($s) x 10), "]}"' | gz_mail tiny
through "10 million tiny JSON values" "$T/tiny.eml" quarantined "max-parse-memory \(128 MiB\)"

# Over 64 MiB of JSON: the cap on the decompressed part names itself (a
# buffer doubled up to its last byte once ran into max-parse-memory first).
report_of 1 600000 | gz_mail fd600k
through "600,000 failure-details" "$T/fd600k.eml" quarantined "max-report-size"

report_of 10 100000 | gz_mail fd10x100k
through "10 policies x 100,000 failure-details" "$T/fd10x100k.eml" quarantined \
	"max-report-size"

# 60 MiB of four letters: 2 bits each, so the mail stays under 32 MiB.
{ printf '{"s":"'; head -c $((60 * 1024 * 1024)) /dev/urandom |
	tr '\000-\377' "$(printf 'abcd%.0s' $(seq 64))"; printf '"}'; } | gz_mail string
through "one 60 MiB JSON string" "$T/string.eml" quarantined "max-parse-memory|max-string-length"

perl -e 'print "X-Long: ", "a" x (30 << 20), "\nFrom: a\@b.example\nSubject: long\n\nhello\n"' >"$T/header.eml"
through "one 30 MiB header line" "$T/header.eml" quarantined \
	"header field X-Long is 31457289 bytes, over max-header-size \(65536\)"

# 50,000 nested address groups: stopped by the same cap before GMime
# recurses into them (contain.t raises the cap, and the parser dies).
perl -e 'print "From: ", "g:" x 50000, "a\@b.example", ";" x 50000, "\nSubject: groups\n\nhello\n"' >"$T/groups.eml"
through "50,000 nested address groups" "$T/groups.eml" quarantined \
	"header field From is 150018 bytes, over max-header-size \(65536\)"

# The largest report the caps allow is stored, every row of it.
report_of 1 50000 | gz_mail fd50k
through "50,000 failure-details (the most max-failure-details allows)" "$T/fd50k.eml" stored ""
is "$(q "select count(*) from tlswatch.failures")" 50000 "all 50,000 failure rows stored"
through "50,000 failure-details (the most max-failure-details allows)" "$T/fd50k.eml" \
	'"report-id":"big-1-50000"' "" --dry-run
done_testing
