#!/bin/sh
# failures.counted (sql/012) as ingest stores it, and what digest and
# alert count from it. One report (tests/lib/counted.sh) lists x.example
# under two policies with failure details that differ; the flags expected
# are worked out by hand there. Proven: the stored flags; the digest's
# failures by result type and MX host for x.example and y.example, and an
# alert rule's figures, each equal to the sums of the counted details
# computed here by hand: a group listed under both policies counts once,
# with the larger count; the digest and the alert agree on
# certificate-host-mismatch (two groups, one per sending IP: 6 + 6).
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"
. "$(dirname "$0")/../lib/alert_gen.sh"
. "$(dirname "$0")/../lib/counted.sh"

command -v perl >/dev/null || bail "perl is needed to read the JSON digest (make deps)"
TW=./tlswatch
pg_start_schema
T=$PG_DIR/counted
mkdir -p "$T"
DAY=2026-04-22
counted_report "$T/counted.json" $DAY
$TW ingest "$T/counted.json" 2>"$T/err"; rc=$?
is "$rc" 0 "the report is ingested"
like "$(cat "$T/err")" "1 stored, 0 duplicate" "stored"
is "$(q "$COUNTED_SQL")" "$COUNTED_FLAGS" "failures.counted: the larger of two policies' groups, policy 0 on a tie, other domains apart"
is "$(q "$COUNTED_SESSIONS_SQL")" "$COUNTED_SESSIONS" "domain_sessions: x.example once (the larger of its two policies), y.example apart"
is "$(q "$COUNTED_FAILURES_SQL")" "$COUNTED_FAILURES" "domain_sessions: the counted details of each domain summed by result type and MX host"
# A second report, for z.example: one detail names no MX host, two name
# mx1 (3 + 2 sessions, one sum).
printf '%s' '{"organization-name":"Counted Fixture Corp","date-range":{"start-datetime":"'$DAY'T00:00:00Z","end-datetime":"'$DAY'T23:59:59Z"},"contact-info":"tlsrpt@example.net","report-id":"counted-2","policies":[{"policy":{"policy-type":"sts","policy-string":["version: STSv1","mode: testing","mx: mx1.z.example","max_age: 86400"],"policy-domain":"z.example","mx-host":["mx1.z.example"]},"summary":{"total-successful-session-count":90,"total-failure-session-count":9},"failure-details":[{"result-type":"starttls-not-supported","sending-mta-ip":"192.0.2.7","failed-session-count":4},{"result-type":"certificate-expired","sending-mta-ip":"192.0.2.8","receiving-mx-hostname":"mx1.z.example","failed-session-count":3},{"result-type":"certificate-expired","sending-mta-ip":"192.0.2.9","receiving-mx-hostname":"mx1.z.example","failed-session-count":2}]}]}' >"$T/z.json"
$TW ingest "$T/z.json" 2>"$T/err" || diag "$(cat "$T/err")"
is "$(q "select failure_types::text || ' ' || failure_mx_hosts::text || ' ' || failure_sessions::text from tlswatch.domain_sessions where report_id = 'counted-2'")" \
	"{certificate-expired,starttls-not-supported} {mx1.z.example,NULL} {5,4}" \
	"domain_sessions: an MX host not reported is a NULL element; two details of one pair are one sum"

# items FILE DOMAIN LIST: name=failed of a list of the JSON digest, in order.
items() {
	perl -MJSON::PP -e 'local $/; open my $f, "<", $ARGV[0] or die; my $j = decode_json(<$f>);
		my ($d) = grep { $_->{domain} eq $ARGV[1] } @{$j->{domains}};
		print join(" ", map { "$_->{name}=$_->{failed}" } @{$d->{$ARGV[2]}})' "$1" "$2" "$3"
}
$TW digest --from $DAY --to $DAY --format json >"$T/d.json"; rc=$?
is "$rc" 0 "digest: exit 0"
is "$(items "$T/d.json" x.example failures_by_result_type)" \
	"certificate-host-mismatch=12 certificate-expired=8 starttls-not-supported=4 validation-failure=3 tlsa-invalid=1" \
	"digest x.example: failures by result type, each group once"
is "$(items "$T/d.json" x.example failures_by_mx_host)" "mx1.x.example=27 mx2.x.example=1" \
	"digest x.example: failures by MX host (12 + 8 + 4 + 3, and 1)"
is "$(items "$T/d.json" y.example failures_by_result_type)" "certificate-expired=7" \
	"digest y.example: its own policy's group counts"

cat >"$T/alert.conf" <<CONF
[webhook hook]
url = http://127.0.0.1:9/unused

[rule mismatch]
domains = x.example
result-types = certificate-host-mismatch
min-failed-sessions = 1
window = 48h
notify = hook

[rule all]
domains = x.example
min-failed-sessions = 1
window = 48h
notify = hook

[rule by-mx]
domains = z.example
group-by = mx
min-failed-sessions = 1
window = 48h
notify = hook
CONF
chmod 600 "$T/alert.conf"
$TW alert --config "$T/alert.conf" --now ${DAY}T23:59:59Z --list >"$T/list" 2>"$T/err"; rc=$?
is "$rc" 0 "alert --list: exit 0"
[ "$rc" -eq 0 ] || diag "$(cat "$T/err")"
# Sessions: the largest of the two policies' (100 + 21).
is "$(rule_line "$T/list" mismatch)" "  x.example: 12 failed of 121 (9.92%), firing, last sent never" \
	"alert, result-types = certificate-host-mismatch: 12, as the digest counts"
is "$(rule_line "$T/list" all)" "  x.example: 21 failed of 121 (17.36%), firing, last sent never" \
	"alert without result-types: the failed sessions of the summary"
# z.example's MX groups, sorted: "(not reported)" before mx1; sessions
# 90 + 9 for each.
is "$(rule_line "$T/list" by-mx | tr '\n' '|')" \
	"  z.example (not reported): 4 failed of 99 (4.04%), firing, last sent never|  z.example mx1.z.example: 5 failed of 99 (5.05%), firing, last sent never|" \
	"alert group-by = mx: a detail without an MX host counts under (not reported)"

done_testing
