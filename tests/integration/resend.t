#!/bin/sh
# A re-sent report and a report the database refuses (sql/004,
# ingest/ingest.c): the same report delivered again is a duplicate, however
# its JSON is laid out; the same (organization-name, report-id) with other
# figures is kept in quarantine with a reason that names it, never dropped;
# and a message of several reports of which the database refuses one
# stores the others and keeps its raw bytes with the refused one named.
# Every expected figure comes from the JSON written here, read back with
# psql.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"
. "$(dirname "$0")/../lib/hostile.sh"

TW=./tlswatch
pg_start_schema
T=$PG_DIR/resend
mkdir -p "$T"

# A report of ORG, ID with OK successful and FAILED failed sessions.
report() { # ORG ID OK FAILED
	report_json '$r->{"organization-name"} = "'"$1"'"; $r->{"report-id"} = "'"$2"'";
		my $p = $r->{policies}[0]; $p->{summary}{"total-successful-session-count"} = '"$3"';
		$p->{summary}{"total-failure-session-count"} = '"$4"';
		$p->{"failure-details"}[0]{"failed-session-count"} = '"$4"';'
}

# A message with each FILE as a base64 application/tlsrpt+json part.
message() { # MESSAGE-ID FILE...
	id=$1
	shift
	printf 'From: reporter@example.net\nTo: tlsrpt@example.com\n'
	printf 'Subject: Report Domain: example.com\nMessage-ID: <%s@example.net>\n' "$id"
	printf 'MIME-Version: 1.0\nContent-Type: multipart/report; report-type=tlsrpt; boundary=B\n\n'
	printf -- '--B\nContent-Type: text/plain\n\nReports.\n'
	for f in "$@"; do
		printf -- '--B\nContent-Type: application/tlsrpt+json\nContent-Transfer-Encoding: base64\n\n'
		base64 "$f"
	done
	printf -- '--B--\n'
}

status() { q "select status from tlswatch.messages where message_id = '$1@example.net'"; }
reason() { q "select coalesce(reason, '') from tlswatch.messages where message_id = '$1@example.net'"; }
stored() { # ORG ID: successful/failed of the stored report, or nothing
	q "select p.successful_sessions || '/' || p.failed_sessions from tlswatch.reports r
	   join tlswatch.policies p on p.report_ref = r.id
	   where r.organization_name = '$1' and r.report_id = '$2'"
}

# ---- a re-delivery, laid out differently ------------------------------------
report "Resender" r-1 100 3 >"$T/a.json"
message first "$T/a.json" >"$T/first.eml"
$TW ingest <"$T/first.eml"; rc=$?
is "$rc" 0 "first delivery: exit 0"
is "$(status first)" stored "first delivery: stored"
# The same report, pretty-printed with its keys in another order.
perl -MJSON::PP -0777 -ne 'print JSON::PP->new->pretty->encode(JSON::PP->new->decode($_))' \
	"$T/a.json" >"$T/a-pretty.json"
ok "$(cmp -s "$T/a.json" "$T/a-pretty.json" || echo 1)" "the re-delivered JSON differs in bytes"
message again "$T/a-pretty.json" | $TW ingest; rc=$?
is "$rc" 0 "identical re-delivery: exit 0"
is "$(status again)" duplicate "identical re-delivery: duplicate"
is "$(q "select count(*) from tlswatch.reports where report_id = 'r-1'")" 1 "stored once"
# The same figures, the reporter's free text reworded (as the copies of the
# RFC's example do): still the same report.
perl -MJSON::PP -0777 -ne 'my $r = JSON::PP->new->decode($_);
	$r->{"contact-info"} = "other\@example.net";
	$r->{policies}[0]{"failure-details"}[0]{"additional-information"} = "reworded";
	print JSON::PP->new->encode($r)' "$T/a.json" >"$T/a-text.json"
message reworded "$T/a-text.json" | $TW ingest 2>/dev/null
is "$(status reworded)" duplicate "other contact-info and additional-information, same figures: duplicate"

# ---- the same key, other figures --------------------------------------------
report "Resender" r-1 100 7 >"$T/a2.json"
message conflict "$T/a2.json" >"$T/conflict.eml"
$TW ingest <"$T/conflict.eml" 2>"$T/err"; rc=$?
is "$rc" 0 "conflicting re-send: exit 0 (kept, not bounced)"
is "$(status conflict)" quarantined "conflicting re-send: quarantined, not duplicate"
like "$(reason conflict)" "report r-1 of Resender was stored before with different content" \
	"the reason names the report and the conflict"
like "$(cat "$T/err")" "quarantined .*different content" "the log line says so"
is "$(stored Resender r-1)" 100/3 "the stored report keeps its figures"
id=$(q "select id from tlswatch.messages where message_id = 'conflict@example.net'")
$TW quarantine show --raw "$id" >"$T/conflict.raw"
ok "$(cmp -s "$T/conflict.eml" "$T/conflict.raw" && echo 1)" "quarantine show --raw gives the message back byte for byte"
like "$($TW quarantine list)" "different content" "quarantine list shows it"
$TW quarantine retry "$id" 2>/dev/null; rc=$?
is "$(status conflict)" quarantined "a retry keeps it in quarantine (the conflict stands)"
is "$(stored Resender r-1)" 100/3 "and stores nothing over the first report"

# ---- several reports, one of them in conflict --------------------------------
report "Resender" r-2 50 0 >"$T/b.json"
report "Resender" r-3 60 2 >"$T/c.json"
message mixed "$T/b.json" "$T/a2.json" "$T/c.json" >"$T/mixed.eml"
$TW ingest <"$T/mixed.eml" 2>"$T/err"; rc=$?
is "$rc" 0 "three reports, the second in conflict: exit 0"
is "$(status mixed)" stored "the message is stored"
is "$(stored Resender r-2)/$(stored Resender r-3)" 50/0/60/2 "its first and third reports are stored, figures intact"
is "$(stored Resender r-1)" 100/3 "the conflicting one stores nothing"
like "$(reason mixed)" "database refused report 2 \\(Resender, r-1\\): .*report r-1 of Resender was stored before" \
	"the reason names the refused report, by position and key"
is "$(q "select raw is not null from tlswatch.messages where message_id = 'mixed@example.net'")" t \
	"the raw message is kept"
like "$(cat "$T/err")" "stored .*2 reports.*database refused report 2" "the log line names it too"

# ---- several reports, one refused by a constraint (SQLSTATE 23514) ------------
q "alter table tlswatch.reports add constraint test_refuse check (report_id not in ('r-5', 'r-8', 'r-9'))"
report "Other" r-4 10 1 >"$T/d.json"
report "Other" r-5 20 2 >"$T/e.json"
report "Other" r-6 30 3 >"$T/f.json"
message refused "$T/d.json" "$T/e.json" "$T/f.json" | $TW ingest 2>/dev/null; rc=$?
is "$rc" 0 "three reports, the database refuses the second: exit 0"
is "$(status refused)" stored "the message is stored"
is "$(stored Other r-4) $(stored Other r-6)" "10/1 30/3" "the two others are stored"
is "$(stored Other r-5)" "" "the refused one is not"
like "$(reason refused)" "database refused report 2 \\(Other, r-5\\): .*test_refuse" \
	"the reason names it with the database's reason"
# Two refused: each named by its place in the message.
report "Other" r-7 70 7 >"$T/g7.json"
report "Other" r-8 80 8 >"$T/g8.json"
report "Other" r-9 90 9 >"$T/g9.json"
message two-refused "$T/g7.json" "$T/g8.json" "$T/g9.json" | $TW ingest 2>/dev/null
is "$(status two-refused) $(stored Other r-7)" "stored 70/7" "two of three refused: the third stored"
like "$(reason two-refused)" "refused report 2 \\(Other, r-8\\).*; database refused report 3 \\(Other, r-9\\)" \
	"both named, by their place in the message"
# Only refused reports: quarantined whole, as before.
message alone "$T/e.json" | $TW ingest 2>/dev/null
is "$(status alone)" quarantined "a message whose only report is refused is quarantined"
like "$(reason alone)" "database rejected the report: .*test_refuse" "with the database's reason"
q "alter table tlswatch.reports drop constraint test_refuse"

# ---- a batch: the same in bulk mode -------------------------------------------
mkdir -p "$T/md/new" "$T/md/cur" "$T/md/tmp"
report "Bulk" b-1 5 1 >"$T/g.json"
report "Bulk" b-2 6 0 >"$T/h.json"
message bulk1 "$T/g.json" >"$T/md/new/1"
report "Bulk" b-1 5 9 >"$T/g2.json"
message bulk2 "$T/h.json" "$T/g2.json" >"$T/md/new/2"
message bulk3 "$T/g.json" >"$T/md/new/3"
$TW ingest "$T/md" 2>"$T/err"; rc=$?
is "$rc" 0 "bulk: exit 0"
is "$(status bulk1) $(status bulk2) $(status bulk3)" "stored stored duplicate" \
	"bulk: first stored; the mixed one stored without its conflict; the copy a duplicate"
is "$(stored Bulk b-1) $(stored Bulk b-2)" "5/1 6/0" "bulk: figures as first sent"
like "$(reason bulk2)" "database refused report 2 \\(Bulk, b-1\\)" "bulk: the refused report named"

# ---- keys from before 004 have no digest: a re-send of one is a duplicate -----
q "update tlswatch.report_keys set content = null where report_id = 'r-2'"
report "Resender" r-2 51 0 >"$T/b2.json"
message legacy "$T/b2.json" | $TW ingest 2>/dev/null
is "$(status legacy)" duplicate "a key stored before 004, re-sent with other figures: duplicate"

done_testing
