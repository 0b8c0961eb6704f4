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

done_testing
