#!/bin/sh
# Bulk import commits messages in batches, pipelined, each behind its own
# savepoint (ingest/store.c). Over messages made by bench/gen it must store
# exactly what pipe mode stores, one message at a time: a report the parser
# refuses and one the database refuses, in the middle of a batch, are each
# quarantined while their neighbours are stored; SIGINT stops a run with
# only whole messages committed and a rerun completes it; one report with
# 50,000 failure-details is stored whole. No time is asserted here: speed
# is `make bench`'s business.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

TW=./tlswatch
${MAKE:-make} -s bench/gen >/dev/null 2>&1 || bail "cannot build bench/gen"
pg_start_schema
tmp=$(mktemp -d)

# 200 messages, a third with failure-details; number 60 has an invalid
# report, and the database refuses the report of number 140 (a constraint
# added for the test: a data error only PostgreSQL sees).
bench/gen -n 200 -f 33 -m 40 -b 60 -p set "$tmp/set" || bail "bench/gen failed"
reject="alter table tlswatch.reports add constraint test_reject
	check (report_id not like 'set-000140+%')"
q "$reject"

# Every stored row that says what a message became, in a stable order.
dump() {
	q "select m.message_id, m.status, m.reason, m.raw is not null, r.organization_name,
	          r.report_id, r.contact_info, r.date_start, r.date_end, md5(r.original), r.warnings,
	          p.policy_index, p.policy_type, p.policy_domain, p.policy_string, p.mx_host,
	          p.sts_mode, p.sts_max_age, p.successful_sessions, p.failed_sessions,
	          f.detail_index, f.result_type, f.sending_mta_ip, f.receiving_mx_hostname,
	          f.receiving_mx_helo, f.receiving_ip, f.failed_sessions,
	          f.additional_information, f.failure_reason_code
	   from tlswatch.messages m left join tlswatch.reports r on r.message_ref = m.id
	   left join tlswatch.policies p on p.report_ref = r.id
	   left join tlswatch.failures f on f.policy_ref = p.id
	   order by m.message_id, p.policy_index, f.detail_index"
}

$TW ingest "$tmp/set" 2>"$tmp/err"; rc=$?
is "$rc" 0 "bulk: exit 0"
like "$(tail -n 1 "$tmp/err")" "^tlswatch: 198 stored, 0 duplicate, 2 quarantined, 0 failed$" "bulk: 198 stored, 2 quarantined"
like "$(cat "$tmp/err")" "quarantined .*set-000060.*invalid report: policies\[0\]\.summary\.total-failure-session-count" "the invalid report is quarantined with the parser's reason"
like "$(cat "$tmp/err")" "quarantined .*set-000140.*database rejected the report: .*test_reject" "the refused report is quarantined with the database's reason"
is "$(q "select string_agg(split_part(message_id, '.', 1), ' ' order by message_id)
          from tlswatch.messages where status = 'quarantined'")" "set-000060 set-000140" "only those two are quarantined"
is "$(q "select count(*) from tlswatch.messages m join tlswatch.reports r on r.message_ref = m.id
          where split_part(m.message_id, '.', 1) in ('set-000139', 'set-000141', 'set-000059', 'set-000061')")" 4 \
	"their neighbours in the same batch are stored"
is "$(q "select count(*) from tlswatch.messages where raw is not null and status = 'quarantined'")" 2 \
	"both keep their raw bytes"
report_documents
is "$(q "select count(*) from tlswatch.failures")" "$(q "select sum(jsonb_array_length(p->'failure-details'))
          from public.documents, jsonb_array_elements(document->'policies') p")" \
	"every failure-detail of every stored report has its row"
dump > "$tmp/bulk.rows"

# Pipe mode, one process per message, into a second database.
psql -XAtq -c "create database pipe" postgres
PGDATABASE=pipe $TW db init >/dev/null
PGDATABASE=pipe q "$reject"
for f in "$tmp"/set/new/*; do
	PGDATABASE=pipe $TW ingest < "$f" 2>/dev/null || echo "$f: $?" >> "$tmp/pipe.failed"
done
ok "$([ ! -s "$tmp/pipe.failed" ] && echo 1)" "pipe: every delivery exits 0"
PGDATABASE=pipe dump > "$tmp/pipe.rows"
ok "$([ -s "$tmp/pipe.rows" ] && cmp -s "$tmp/bulk.rows" "$tmp/pipe.rows" && echo 1)" \
	"bulk and pipe mode store identical rows ($(wc -l < "$tmp/pipe.rows") rows)"

$TW ingest "$tmp/set" 2>"$tmp/err"
like "$(tail -n 1 "$tmp/err")" "^tlswatch: 0 stored, 198 duplicate, 2 quarantined, 0 failed$" "bulk rerun: all duplicates"

# SIGINT in the middle of a long run, then the same command again.
bench/gen -n 4000 -f 20 -p int -s 7 "$tmp/int" || bail "bench/gen failed"
psql -XAtq -c "create database int" postgres
PGDATABASE=int $TW db init >/dev/null
PGDATABASE=int $TW ingest "$tmp/int" 2>"$tmp/int.err" &
pid=$!
n=0
while [ "$(PGDATABASE=int q "select count(*) from tlswatch.messages")" -lt 100 ] && [ $n -lt 500 ]; do
	sleep 0.02
	n=$((n + 1))
done
kill -INT $pid
wait $pid
rc=$?
is "$rc" 130 "SIGINT: exit 130 (128 + SIGINT)"
done_line=$(grep "stopped by SIGINT" "$tmp/int.err")
like "$done_line" "^tlswatch: stopped by SIGINT after [0-9]+ messages, each committed" "SIGINT: says how far it got"
got=$(echo "$done_line" | sed 's/.* after \([0-9]*\) messages.*/\1/')
stored=$(PGDATABASE=int q "select count(*) from tlswatch.messages")
is "$stored" "$got" "SIGINT: exactly the messages it reports are committed"
ok "$([ "$stored" -gt 0 ] && [ "$stored" -lt 4000 ] && echo 1)" "SIGINT: stopped part way ($stored of 4000)"
PGDATABASE=int report_documents
is "$(PGDATABASE=int q "select count(*) from tlswatch.messages m
          left join tlswatch.reports r on r.message_ref = m.id
          left join public.documents d on d.id = r.id
          where r.id is null or d.id is null
          or (select count(*) from tlswatch.policies p where p.report_ref = r.id)
             <> jsonb_array_length(d.document->'policies')
          or (select count(*) from tlswatch.policies p join tlswatch.failures f on f.policy_ref = p.id
              where p.report_ref = r.id)
             <> (select sum(jsonb_array_length(e->'failure-details'))
                 from jsonb_array_elements(d.document->'policies') e)")" 0 \
	"SIGINT: each committed message has its report, policies and failure rows"
PGDATABASE=int $TW ingest "$tmp/int" 2>"$tmp/int.err"; rc=$?
is "$rc" 0 "rerun: exit 0"
like "$(tail -n 1 "$tmp/int.err")" "^tlswatch: $((4000 - stored)) stored, $stored duplicate, 0 quarantined, 0 failed$" \
	"rerun: the rest stored, what was committed skipped as duplicates"
is "$(PGDATABASE=int q "select count(*) from tlswatch.reports")" 4000 "rerun: every report once"

# Progress is for a terminal only.
is "$(grep -c "messages, .*/s, .* left" "$tmp/int.err")" 0 "no progress line when stderr is not a terminal"

# One report with 50,000 failure-details, through the pipe.
bench/gen -n 1 -r 50000 -p big "$tmp/big" || bail "bench/gen failed"
big=$(ls "$tmp"/big/new/*)
$TW ingest < "$big" 2>/dev/null; rc=$?
is "$rc" 0 "50,000 failure-details: exit 0"
is "$(q "select count(*), count(distinct detail_index), min(detail_index), max(detail_index)
          from tlswatch.failures f join tlswatch.policies p on p.id = f.policy_ref
          join tlswatch.reports r on r.id = p.report_ref where r.report_id like 'big-%'")" \
	"50000|50000|0|49999" "50,000 failure rows, in order"

rm -rf "$tmp"
done_testing
