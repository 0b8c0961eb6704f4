#!/bin/sh
# Out of memory is "try again later" (exit 75, nothing committed), never a
# crash and never a quarantine: a sender's input decides how much memory
# reading, inflating and parsing take, and a run under a memory limit
# (systemd MemoryMax=, ulimit) must leave the message with the MTA (issue
# 11, point 4). Before, GLib aborted ("failed to allocate") on the gzip
# and jansson's failure was quarantined as "invalid JSON:  (line -1...)".
# The caps are raised here so that memory, not a cap, is what stops them.
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

limited $TW ingest --config "$T/c.conf" <"$T/zeros.eml" 2>"$T/err"; rc=$?
is "$rc" 75 "a gzip part inflating past the memory limit, on stdin: exit 75"
like "$(cat "$T/err")" "out of memory after decompressing" "it says out of memory"
is "$(rows)" 0 "nothing committed, nothing quarantined"

limited $TW ingest --config "$T/c.conf" "$T/zeros.json.gz" 2>"$T/err"; rc=$?
is "$rc" 75 "the same as a bare .json.gz file: exit 75"

limited $TW ingest --config "$T/c.conf" "$T/tree.json" 2>"$T/err"; rc=$?
is "$rc" 75 "a JSON tree past the memory limit: exit 75"
like "$(cat "$T/err")" "out of memory parsing the report's JSON" "it says out of memory"
is "$(rows)" 0 "nothing committed"

# Without the limit the same inputs are judged on their content.
$TW ingest --config "$T/c.conf" "$T/tree.json" 2>"$T/err"; rc=$?
is "$rc" 0 "the JSON tree with memory enough: exit 0"
is "$(q "select status || ': ' || reason from tlswatch.messages")" \
	"quarantined: tree.json: invalid report: date-range: missing" "quarantined for what it is: not a report"
done_testing
