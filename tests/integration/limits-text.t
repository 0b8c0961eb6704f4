#!/bin/sh
# Numbers and text from the internet end up in PostgreSQL safely: NUL bytes
# and invalid UTF-8 are stored as U+FFFD (with a warning, the rest of the
# string kept), counts up to 2^63-1 are stored exactly, larger, negative or
# fractional counts quarantine the message with the JSON path, an IP that is
# not one is left out with a warning, and odd dates are kept with one.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"
. "$(dirname "$0")/../lib/hostile.sh"

TW=$PWD/tlswatch
pg_start_schema
tmp=$(mktemp -d)

ingest_json() { # NAME: report from $tmp/NAME.json as a mail part
	mail_part application/tlsrpt+json "$tmp/$1.json" > "$tmp/$1.eml"
	$TW ingest < "$tmp/$1.eml" 2>"$tmp/err"
}

report() { q "select $1 from tlswatch.reports where report_id like '$2%'"; }

# NUL (\u0000) and bytes that are not UTF-8.
report_json '$r->{"report-id"} = "nul-\x{0}-id"; $r->{"organization-name"} = "Org\x{0}X"' |
	sed 's/Org\\u0000X/Bad \xff\xfe Org/' > "$tmp/text.json"
ingest_json text; rc=$?
is "$rc" 0 "NUL and invalid UTF-8: exit 0"
is "$(last status)" stored "NUL and invalid UTF-8: stored"
is "$(report report_id nul-)" "nul-�-id" "NUL: U+FFFD, the rest of the string kept"
is "$(report organization_name nul-)" "Bad �� Org" "invalid UTF-8: U+FFFD per bad byte"
# The stored JSON is what was sent, bytes and all: tlswatch db report
# prints it with a newline after it (the file has none).
{ cat "$tmp/text.json"; echo; } > "$tmp/text.want"
is "$($TW db report "$(report id nul-)" | cmp - "$tmp/text.want" && echo same)" same \
	"NUL and invalid UTF-8: db report prints the JSON byte for byte as sent"
like "$(report warnings nul-)" 'NUL bytes replaced by U\+FFFD' "NUL: a warning says so"
like "$(report warnings nul-)" 'invalid UTF-8 replaced by U\+FFFD' "invalid UTF-8: a warning says so"

# A number jansson reads (as 0) but jsonb would refuse: the dry run and
# the store agree that the report is stored (issue 13).
report_json '$r->{"report-id"} = "tiny-real"' | sed 's/^{/{"x-tiny":1e-20000,"x-tenth":0.1,/' > "$tmp/tiny.json"
mail_part application/tlsrpt+json "$tmp/tiny.json" > "$tmp/tiny.eml"
like "$($TW ingest --dry-run < "$tmp/tiny.eml" 2>/dev/null)" '"report-id":"tiny-real"' "1e-20000: the dry run finds the report"
ingest_json tiny; rc=$?
is "$rc $(last status)" "0 stored" "1e-20000 in an unknown field: stored, as the dry run said"
{ cat "$tmp/tiny.json"; echo; } > "$tmp/tiny.want"
is "$($TW db report "$(report id tiny-)" | cmp - "$tmp/tiny.want" && echo same)" same \
	"1e-20000 and 0.1: db report prints them as sent"

# Counts.
report_json '$r->{"report-id"} = "max-count"; $r->{policies}[0]{summary}{"total-successful-session-count"} = 9223372036854775807' > "$tmp/max.json"
ingest_json max
is "$(q "select successful_sessions from tlswatch.policies order by id desc limit 1")" \
	9223372036854775807 "2^63-1 sessions: stored exactly"
for bad in 9223372036854775808 -1 1.5; do
	report_json '$r->{"report-id"} = "bad-count"' |
		sed "s/\"total-successful-session-count\":26/\"total-successful-session-count\":$bad/" > "$tmp/bad.json"
	ingest_json bad; rc=$?
	is "$rc" 0 "count $bad: exit 0"
	like "$(last reason)" 'total-successful-session-count: expected a non-negative integer|too big integer' \
		"count $bad: quarantined, the reason names the field"
done

# An IP that is not one.
report_json '$r->{"report-id"} = "not-ip"; $r->{policies}[0]{"failure-details"}[0]{"sending-mta-ip"} = "999.1.2.3; drop table x"' > "$tmp/ip.json"
ingest_json ip
is "$(last status)" stored "not an IP: stored"
is "$(q "select coalesce(sending_mta_ip::text, 'NULL') from tlswatch.failures order by policy_ref desc, detail_index desc limit 1")" \
	NULL "not an IP: the column is NULL"
like "$(report warnings not-ip)" 'is not an IP address, left out' "not an IP: a warning says so"
like "$($TW db report "$(report id not-ip)")" '"sending-mta-ip": *"999\.1\.2\.3; drop table x"' \
	"not an IP: the stored JSON keeps it"

# Dates ending before they start, and years in the future.
report_json '$r->{"report-id"} = "odd-dates"; $r->{"date-range"}{"start-datetime"} = "9998-05-12T00:00:00Z"; $r->{"date-range"}{"end-datetime"} = "9998-05-11T00:00:00Z"' > "$tmp/dates.json"
ingest_json dates
is "$(last status)" stored "odd dates: stored"
like "$(report warnings odd-dates)" 'end-datetime is before start-datetime' "end before start: a warning"
like "$(report warnings odd-dates)" 'in the future \(year 9998\)' "year in the future: a warning"

rm -rf "$tmp"
done_testing
