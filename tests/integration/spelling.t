#!/bin/sh
# One domain, one mode, one result type, however a reporter spells it:
# Microsoft writes "Testing" and policy types in capitals, some write the
# domain with capitals and a trailing dot. Digest and alert must see one
# example.com in testing mode with one certificate-expired count, and rule
# filters written in any case must match it (issue 11, point 5). The
# expected figures are the sums of what the reports below say.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"
. "$(dirname "$0")/../lib/digest_gen.sh"
. "$(dirname "$0")/../lib/alert_gen.sh"

TW=./tlswatch
pg_start_schema
T=$PG_DIR/spelling
mkdir -p "$T/r"
UPPER='"version: STSv1","mode: Testing","mx: *.example","max_age: 86400"'
alert_report_json "$T/r" "Microsoft Corporation" ms-1 2024-06-05T06:00:00Z \
	"$(gen_policy STS Example.COM. "$UPPER" 500 2 "$(gen_detail Certificate-Expired MX1.Example.COM 192.0.2.1 2)")"
alert_report_json "$T/r" "Google Inc." g-1 2024-06-05T07:00:00Z \
	"$(gen_policy sts example.com "$STS_T" 600 3 "$(gen_detail certificate-expired mx1.example.com 192.0.2.2 3)")"
$TW ingest "$T"/r/*.json 2>"$T/err"; rc=$?
is "$rc" 0 "both reports ingested"
is "$(q "select string_agg(distinct policy_domain || ' ' || policy_type || ' ' || sts_mode, ',') from tlswatch.policies")" \
	"example.com sts testing" "stored normalised: one domain, type and mode"
is "$(q "select string_agg(distinct result_type, ',') from tlswatch.failures")" "certificate-expired" \
	"one result type"
is "$(q "select count(*) || ' ' || sum(successful_sessions) || ' ' || sum(failed_sessions) from tlswatch.domain_sessions")" \
	"2 1100 5" "domain_sessions: one domain, both reports"

$TW digest --from 2024-06-04 --to 2024-06-05 --format json >"$T/d.json" 2>"$T/err"; rc=$?
is "$rc" 0 "digest: exit 0"
is "$(jget "$T/d.json" '{domains}[0]{domain}') $(jget "$T/d.json" '{domains}[1]')" "example.com null" \
	"digest: one domain"
is "$(jget "$T/d.json" '{domains}[0]{sessions}{total}') $(jget "$T/d.json" '{domains}[0]{sessions}{failed}')" \
	"1105 5" "digest: its sessions are both reports' (500+2+600+3, 2+3 failed)"
is "$(jget "$T/d.json" '{domains}[0]{sts_modes}[0]{name}') $(jget "$T/d.json" '{domains}[0]{sts_modes}[0]{sessions}') $(jget "$T/d.json" '{domains}[0]{sts_modes}[1]')" \
	"testing 1105 null" "digest: one MTA-STS mode, testing, all sessions"
is "$(jget "$T/d.json" '{domains}[0]{failures_by_result_type}[0]{name}') $(jget "$T/d.json" '{domains}[0]{failures_by_result_type}[0]{failed}') $(jget "$T/d.json" '{domains}[0]{failures_by_result_type}[1]')" \
	"certificate-expired 5 null" "digest: one result type with both reports' failures"
is "$(jget "$T/d.json" '{domains}[0]{blocking_result_types}[0]{name}') $(jget "$T/d.json" '{domains}[0]{blocking_result_types}[0]{failed}')" \
	"certificate-expired 5" "readiness: certificate-expired counts as a failure enforce would bounce"
unlike "$(jget "$T/d.json" '{domains}[0]{readiness}{reason}')" "no reporter saw an MTA-STS policy in testing mode" \
	"readiness: 'mode: Testing' is testing mode"

printf '[webhook hook]\nurl = http://127.0.0.1:9/x\n[rule mixed]\nwindow = 24h\ndomains = EXAMPLE.com.\nresult-types = CERTIFICATE-Expired\nmin-failed-sessions = 5\nnotify = hook\n' >"$T/a.conf"
$TW alert --config "$T/a.conf" --now 2024-06-05T12:00:00Z --list >"$T/list" 2>"$T/err"; rc=$?
is "$rc" 0 "alert --list: exit 0"
like "$(cat "$T/list")" "example.com: 5 failed of 1105 .*firing" \
	"a rule for EXAMPLE.com. and CERTIFICATE-Expired counts both reports' 5 failures"
done_testing
