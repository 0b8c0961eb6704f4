#!/bin/sh
# Bulk import: files, a Maildir and an mbox in one run, each message on its
# own, a summary line at the end; a rerun stores nothing twice; and bulk and
# pipe mode store identical rows for the same messages.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

TW=./tlswatch
FX=tests/fixtures
pg_start_schema
tmp=$(mktemp -d)

# The fixtures that hold reports, as a Maildir and as an mbox.
reports="rfc-gzip octet-stream-name zip-as-gzip rfc2231-filename gzip-trailing-crlf forwarded-rfc822 qp-json no-closing-boundary description-filename"
mkdir -p "$tmp/Maildir/cur" "$tmp/Maildir/new" "$tmp/Maildir/tmp"
i=0
for f in $reports junk; do
	i=$((i + 1))
	cp "$FX/$f.eml" "$tmp/Maildir/cur/$i.$f:2,S"
	printf 'From tlsrpt@example.org Thu Jan  1 00:00:00 2026\n' >> "$tmp/mbox"
	# mboxrd: a body line starting "From " is quoted.
	sed 's/^\(>*From \)/>\1/' "$FX/$f.eml" >> "$tmp/mbox"
	printf '\n' >> "$tmp/mbox"
done
nrep=$(echo $reports | wc -w)

$TW ingest "$tmp/Maildir" 2>"$tmp/err"; rc=$?
is "$rc" 0 "Maildir: exit 0"
like "$(tail -n 1 "$tmp/err")" "^tlswatch: $nrep stored, 0 duplicate, 1 quarantined, 0 failed$" "Maildir: summary line"
pipe_rows=$(q "select count(*) from tlswatch.reports")

$TW ingest "$tmp/mbox" 2>"$tmp/err"; rc=$?
is "$rc" 0 "mbox: exit 0"
like "$(tail -n 1 "$tmp/err")" "^tlswatch: 0 stored, $nrep duplicate, 1 quarantined, 0 failed$" "mbox: the same reports, all duplicates"

$TW ingest "$tmp/Maildir" 2>"$tmp/err"; rc=$?
is "$rc" 0 "rerun: exit 0"
like "$(tail -n 1 "$tmp/err")" "^tlswatch: 0 stored, $nrep duplicate, 1 quarantined, 0 failed$" "rerun: nothing stored twice"
is "$(q "select count(*) from tlswatch.reports")" "$pipe_rows" "rerun: no new report rows"

$TW ingest $FX/bare-report.json $FX/bare-report.json.gz 2>"$tmp/err"; rc=$?
is "$rc" 0 "bare .json and .json.gz: exit 0"
like "$(tail -n 1 "$tmp/err")" "^tlswatch: 1 stored, 1 duplicate, 0 quarantined, 0 failed$" "bare .json and .json.gz: the same report once"

# Bulk and pipe store identical rows: a second database, fed through stdin.
dump() {
	q "select r.organization_name, r.report_id, r.contact_info, r.date_start, r.date_end,
	          md5(r.original), r.warnings, p.policy_index, p.policy_type, p.policy_domain,
	          p.policy_string, p.mx_host, p.sts_mode, p.sts_max_age, p.successful_sessions,
	          p.failed_sessions, f.result_type, f.sending_mta_ip, f.receiving_mx_hostname,
	          f.receiving_mx_helo, f.receiving_ip, f.failed_sessions,
	          f.additional_information, f.failure_reason_code
	   from tlswatch.reports r join tlswatch.policies p on p.report_ref = r.id
	   left join tlswatch.failures f on f.policy_ref = p.id
	   where r.organization_name <> 'Bare Fixture'
	   order by 1, 2, 8, f.detail_index"
}
dump > "$tmp/bulk.rows"
psql -XAtq -c "create database pipe" postgres
PGDATABASE=pipe $TW db init >/dev/null || bail "db init of the second database failed"
codes=
for f in $reports junk; do
	PGDATABASE=pipe $TW ingest < "$FX/$f.eml" 2>/dev/null
	codes="$codes$?"
done
is "$codes" "$(for f in $reports junk; do printf 0; done)" "pipe mode: every message exits 0"
PGDATABASE=pipe dump > "$tmp/pipe.rows"
ok "$([ -s "$tmp/pipe.rows" ] && cmp -s "$tmp/bulk.rows" "$tmp/pipe.rows" && echo 1)" "bulk and pipe mode store identical rows ($(wc -l < "$tmp/pipe.rows") rows)"

rm -rf "$tmp"
done_testing
