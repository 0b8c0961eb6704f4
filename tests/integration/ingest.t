#!/bin/sh
# tlswatch ingest against a real PostgreSQL: every fixture stored or
# quarantined as its README says, re-delivery is a duplicate, the database
# down means 75 and nothing written, then the same message stores fine.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

TW=./tlswatch
FX=tests/fixtures
pg_start_schema


# A normal RFC-form report on stdin: stored, exit 0, one summary line.
$TW ingest < $FX/rfc-gzip.eml 2>err.$$; rc=$?
is "$rc" 0 "rfc-gzip.eml: exit 0"
like "$(cat err.$$)" "^tlswatch: stored stdin" "rfc-gzip.eml: one summary line on stderr"
is "$(q "select status from tlswatch.messages order by id desc limit 1")" stored "rfc-gzip.eml: message stored"

# The same message again (reporters re-deliver): duplicate, no new rows.
before=$(q "select (select count(*) from tlswatch.reports), (select count(*) from tlswatch.policies), (select count(*) from tlswatch.failures)")
$TW ingest < $FX/rfc-gzip.eml 2>/dev/null; rc=$?
is "$rc" 0 "re-delivery: exit 0"
is "$(q "select status from tlswatch.messages order by id desc limit 1")" duplicate "re-delivery: message row says duplicate"
is "$(q "select (select count(*) from tlswatch.reports), (select count(*) from tlswatch.policies), (select count(*) from tlswatch.failures)")" "$before" "re-delivery: no new report, policy or failure rows"

# Not reports: quarantined with the reason and the raw bytes, exit 0.
for f in dmarc-zip bounce-dsn junk empty; do
	$TW ingest < $FX/$f.eml 2>err.$$; rc=$?
	is "$rc" 0 "$f.eml: exit 0 (never bounced)"
	is "$(q "select status, raw = pg_read_binary_file('$PWD/$FX/$f.eml') from tlswatch.messages order by id desc limit 1" 2>/dev/null ||
	      q "select status, octet_length(raw) = $(wc -c < $FX/$f.eml) from tlswatch.messages order by id desc limit 1")" "quarantined|t" "$f.eml: quarantined with its raw bytes"
	like "$(q "select reason from tlswatch.messages order by id desc limit 1")" "not a (TLS report|mail message)" "$f.eml: reason says not a TLS report or not a mail"
done

# Two reports in one message: both stored.
n0=$(q "select count(*) from tlswatch.reports")
$TW ingest < $FX/two-reports.eml 2>/dev/null
is "$(q "select count(*) from tlswatch.reports") " "$((n0 + 2)) " "two-reports.eml: both reports stored"

# Database down: exit 75, nothing written; up again: the same message stores.
msgs=$(q "select count(*) from tlswatch.messages")
pg_stop_server
$TW ingest < $FX/zip-as-gzip.eml 2>err.$$; rc=$?
is "$rc" 75 "database down: exit 75 (EX_TEMPFAIL)"
like "$(cat err.$$)" "cannot connect" "database down: stderr names the database"
pg_start_server
is "$(q "select count(*) from tlswatch.messages")" "$msgs" "database down: nothing was written"
$TW ingest < $FX/zip-as-gzip.eml 2>/dev/null; rc=$?
is "$rc" 0 "database back: exit 0"
is "$(q "select status from tlswatch.messages order by id desc limit 1")" stored "database back: the same message is stored"

# Where each row came from: stdin is the pipe, a PATH a file.
is "$(q "select channel from tlswatch.messages order by id desc limit 1")" pipe "a message on stdin: channel pipe"
$TW ingest $FX/bare-report.json 2>/dev/null
is "$(q "select channel || ' ' || coalesce(host(client), 'none') from tlswatch.messages order by id desc limit 1")" \
	"file none" "a file: channel file, no client"

rm -f err.$$
done_testing
