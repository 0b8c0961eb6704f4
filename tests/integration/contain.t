#!/bin/sh
# A parser that dies is a quarantine, never the death of the delivery
# agent (issue 13, ingest/contain.c). 50,000 nested address groups in From:
# make GMime's address parser recurse once per group until the stack runs
# out: before, SIGSEGV in tlswatch itself, which Postfix takes as "try again"
# until the queue lifetime ends. Now the parse dies in its child and the
# message is quarantined, raw bytes kept, exit 0; a bulk run goes on with
# the next message. A parse past max-processing-time is killed and
# quarantined the same way, not deferred (the store keeps exit 75:
# limits-hostile.t).
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"
. "$(dirname "$0")/../lib/hostile.sh"

TW=./tlswatch
pg_start_schema
T=$PG_DIR/contain
mkdir -p "$T/md/new" "$T/md/cur" "$T/md/tmp"

perl -e 'print "From: ", "g:" x 50000, "a\@b.example", ";" x 50000,
	"\nTo: tlsrpt\@example.com\nSubject: groups\nMessage-ID: <groups\@example.net>\n\nhello\n"' >"$T/groups.eml"
# max-header-size (64K) refuses that From: before GMime reads it
# (limits-memory.t); raised here, so that the parser meets it.
printf '[ingest]\nmax-header-size = 1M\n' >"$T/big.conf"
# Under ASan the stack overflow is ASan's report and exit status, not a
# signal: either way the parser ended without an answer.
died='the parser (died of signal 11 \(Segmentation fault, or nesting deep enough to overflow the stack\)|ended with status [0-9]+ and no answer)'

$TW ingest --config "$T/big.conf" <"$T/groups.eml" 2>"$T/err"; rc=$?
is "$rc" 0 "address groups that overflow the parser's stack: exit 0"
is "$(last status)" quarantined "quarantined"
like "$(last reason)" "^$died" "the reason says the parser died, and how"
is "$(last 'octet_length(raw)')" "$(wc -c <"$T/groups.eml")" "the raw message is kept whole, for quarantine retry"
like "$(cat "$T/err")" "quarantined stdin: $died" "one log line says so"

$TW ingest --config "$T/big.conf" --dry-run <"$T/groups.eml" >"$T/out" 2>"$T/err"; rc=$?
is "$rc" 0 "the same with --dry-run: exit 0"
like "$(cat "$T/out")" "\"quarantined\":\"$died" "the dry run prints it quarantined"

# In a folder beside a report: the run goes on, the report is stored.
cp "$T/groups.eml" "$T/md/new/1.groups"
cp tests/fixtures/rfc-gzip.eml "$T/md/new/2.report"
before=$(q "select count(*) from tlswatch.reports")
$TW ingest --config "$T/big.conf" "$T/md" 2>"$T/err"; rc=$?
is "$rc" 0 "a Maildir with that message and a report: exit 0"
is "$(q "select count(*) from tlswatch.reports") $(q "select count(*) from tlswatch.messages where status = 'quarantined'")" \
	"$((before + 1)) 2" "the report after it is stored; the groups are quarantined again"
like "$(cat "$T/err")" "1 stored, 0 duplicate, 1 quarantined, 0 failed" "the run counts both"

# A parse past max-processing-time: a million empty MIME parts, with memory
# enough to go on parsing them well past one second.
perl -e 'print "From: a\@b.example\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n",
	"--b\n\n" x 1000000, "--b--\n"' >"$T/parts.eml"
printf '[ingest]\nmax-processing-time = 1\nmax-parse-memory = 4G\n' >"$T/slow.conf"
$TW ingest --config "$T/slow.conf" <"$T/parts.eml" 2>"$T/err"; rc=$?
is "$rc" 0 "a parse past max-processing-time: exit 0, not 75"
is "$(last status): $(last reason)" "quarantined: parsing it took longer than max-processing-time (1 s)" \
	"quarantined, the reason names the key"
done_testing
