#!/bin/sh
# Memory a message needs to be parsed is the message's to answer for: the
# parse runs in a child under max-parse-memory (issue 13), and a message
# that needs more is quarantined with a reason that names the key, exit 0,
# raw bytes kept for `quarantine retry` with a larger cap. Under a system
# limit above max-parse-memory (ulimit -v here; MemoryMax= alike) the
# outcome is the same: the child's own limit is met first. Before issue 13
# this was exit 75 (issue 11), which kept a hostile message retrying until
# Postfix's queue lifetime ran out. The size caps are raised here so that
# memory, not a cap, is what stops them.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"
. "$(dirname "$0")/../lib/hostile.sh"

TW=./tlswatch
# ASan reserves terabytes of address space: no ulimit -v can apply to it.
ldd $TW | grep -q libasan && skip_all "a SANITIZE=1 build: ASan cannot run under ulimit -v"
LIMIT_KB=400000
pg_start_schema
T=$PG_DIR/oom
mkdir -p "$T"
printf '[ingest]\nmax-message-size = 2G\nmax-report-size = 4G\nmax-total-report-size = 4G\nmax-gzip-ratio = 1000000\n' >"$T/c.conf"
# 1 GB of zeros: 4 MB of gzip, far past the limit once inflated.
head -c 1000000000 /dev/zero | gzip -1 >"$T/zeros.json.gz"
mail_part application/tlsrpt+gzip "$T/zeros.json.gz" >"$T/zeros.eml"
# 5 million empty objects: 15 MB of JSON, several hundred MB as a tree.
perl -e 'print "{\"organization-name\":\"x\",\"junk\":[", join(",", ("{}") x 5000000), "]}"' >"$T/tree.json"
limited() { (ulimit -v $LIMIT_KB && exec "$@"); }
rows() { q "select count(*) from tlswatch.messages"; }

raw_of() { q "select octet_length(raw) from tlswatch.messages where status = 'quarantined' order by id desc limit 1"; }
reason_of() { q "select reason from tlswatch.messages order by id desc limit 1"; }

limited $TW ingest --config "$T/c.conf" <"$T/zeros.eml" 2>"$T/err"; rc=$?
is "$rc" 0 "a gzip part inflating past max-parse-memory, on stdin: exit 0"
like "$(reason_of)" "needs more memory than max-parse-memory \(128 MiB\): .*out of memory after decompressing" \
	"quarantined: the reason names max-parse-memory and what ran out"
is "$(raw_of)" "$(wc -c <"$T/zeros.eml")" "the raw message is kept whole"

limited $TW ingest --config "$T/c.conf" "$T/zeros.json.gz" 2>"$T/err"; rc=$?
is "$rc" 0 "the same as a bare .json.gz file: exit 0"
like "$(reason_of)" "needs more memory than max-parse-memory" "quarantined for max-parse-memory"

limited $TW ingest --config "$T/c.conf" "$T/tree.json" 2>"$T/err"; rc=$?
is "$rc" 0 "a JSON tree past max-parse-memory: exit 0"
like "$(reason_of)" "needs more memory than max-parse-memory \(128 MiB\): .*out of memory parsing the report's JSON" \
	"quarantined: the reason names max-parse-memory and the JSON"
is "$(rows)" 3 "three messages, each quarantined once"

# With a cap that holds it, the same tree is judged on its content.
printf 'max-parse-memory = 4G\n' >>"$T/c.conf"
$TW ingest --config "$T/c.conf" "$T/tree.json" 2>"$T/err"; rc=$?
is "$rc" 0 "the JSON tree with max-parse-memory = 4G: exit 0"
is "$(reason_of)" "tree.json: invalid report: date-range: missing" "quarantined for what it is: not a report"
done_testing
