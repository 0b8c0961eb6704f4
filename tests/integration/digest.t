#!/bin/sh
# tlswatch digest over five weeks of generated reports (tests/lib/digest_gen.sh),
# ingested through the real `tlswatch ingest` path: every figure of the text
# and JSON forms equals the sum computed here from the generator's ledger,
# the previous period and its change, the four readiness states, [digest]
# validation, and the exit codes (no data 0, usage 64, config 78, DB down 75).
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"
. "$(dirname "$0")/../lib/digest_gen.sh"

TW=./tlswatch
pg_start_schema
T=$PG_DIR/digest
LEDGER=$T/ledger
digest_gen "$T"
$TW ingest "$T"/*.json 2>"$T/err"; rc=$?
is "$rc" 0 "generated reports ingested"
like "$(cat "$T/err")" "266 stored, 0 duplicate, 0 quarantined, 0 failed" "all 266 reports stored"

A=2024-06-03 B=2024-06-09 PA=2024-05-27 PB=2024-06-02
RANGE="--from $A --to $B"

# jv JSONFILE DOMAIN PERLPATH: one value of the JSON digest for a domain.
jv() {
	perl -MJSON::PP -e 'local $/; open my $f, "<", $ARGV[0] or die; my $j = decode_json(<$f>);
		my ($d) = grep { $_->{domain} eq $ARGV[1] } @{$j->{domains}};
		my $v = eval "\$d->$ARGV[2]"; print defined $v ? $v : "null"' "$1" "$2" "$3"
}

$TW digest $RANGE --format json >"$T/d.json"; rc=$?
is "$rc" 0 "json: exit 0"
ok "$(perl -MJSON::PP -e 'local $/; decode_json(<STDIN>); print 1' <"$T/d.json")" "json: parses"
$TW digest $RANGE >"$T/d.txt"; rc=$?
is "$rc" 0 "text: exit 0"
is "$(perl -MJSON::PP -e 'local $/; my $j = decode_json(<STDIN>); print join(",", map { $_->{domain} } @{$j->{domains}})' <"$T/d.json")" \
	"enforce.example,notready.example,old.example,ready.example" "json: every domain with reports in either period, sorted"
is "$(perl -MJSON::PP -e 'local $/; my $j = decode_json(<STDIN>); print "$j->{period}{from}..$j->{period}{to} $j->{period}{days} $j->{previous_period}{from}..$j->{previous_period}{to}"' <"$T/d.json")" \
	"$A..$B 7 $PA..$PB" "json: period and previous period"

for dom in ready.example notready.example enforce.example; do
	ok_now=$(ledger_sum $A $B $dom 5) f_now=$(ledger_sum $A $B $dom 6)
	ok_prev=$(ledger_sum $PA $PB $dom 5) f_prev=$(ledger_sum $PA $PB $dom 6)
	is "$(jv "$T/d.json" $dom '{sessions}{successful}') $(jv "$T/d.json" $dom '{sessions}{failed}') $(jv "$T/d.json" $dom '{sessions}{total}')" \
		"$ok_now $f_now $((ok_now + f_now))" "json $dom: successful, failed, total sessions"
	is "$(jv "$T/d.json" $dom '{previous}{successful}') $(jv "$T/d.json" $dom '{previous}{failed}')" \
		"$ok_prev $f_prev" "json $dom: previous period"
	is "$(jv "$T/d.json" $dom '{change}{total}') $(jv "$T/d.json" $dom '{change}{failed}')" \
		"$((ok_now + f_now - ok_prev - f_prev)) $((f_now - f_prev))" "json $dom: change"
	rate=$(awk -v f=$f_now -v n=$((ok_now + f_now)) 'BEGIN { printf "%.2f", 100 * f / n }')
	is "$(printf '%.2f' "$(jv "$T/d.json" $dom '{sessions}{failure_rate}')")" "$rate" "json $dom: failure rate"
	days=""
	for i in 0 1 2 3 4 5 6; do
		d=$(date -u -d "$A +$i day" +%F)
		days="$days $(ledger_sum $d $d $dom 5)/$(ledger_sum $d $d $dom 6)"
	done
	is "$(perl -MJSON::PP -e 'local $/; my $j = decode_json(<STDIN>); my ($d) = grep { $_->{domain} eq $ARGV[0] } @{$j->{domains}};
		print join("", map { " $_->{successful}/$_->{failed}" } @{$d->{days}})' $dom <"$T/d.json")" "$days" "json $dom: per-day series"
	# The text form shows the same figures.
	block=$(awk -v d="$dom:" '$1 == d { p = 1 } p && /^$/ { exit } p' "$T/d.txt")
	like "$block" "^  sessions +$((ok_now + f_now)) \\(previous $((ok_prev + f_prev))" "text $dom: sessions and previous"
	like "$block" "^  failed +$f_now \\(previous $f_prev" "text $dom: failed and previous"
	like "$block" "^  failure rate +$rate%" "text $dom: failure rate"
done

# Microsoft lists ready.example under sts and tlsa: counted once.
is "$(jv "$T/d.json" ready.example '{reporters}[1]{name}') $(jv "$T/d.json" ready.example '{reporters}[1]{sessions}')" \
	"Microsoft Corporation $(awk -v a=$A -v b=$B '$1 == "S" && $2 >= a && $2 <= b && $3 == "ready.example" && $4 == "Microsoft_Corporation" { s += $5 + $6 } END { print s }' "$LEDGER")" \
	"json: sts + tlsa sessions of one report count once"

# Breakdowns of notready.example.
N=notready.example
is "$(jv "$T/d.json" $N '{failures_by_result_type}[0]{name}')=$(jv "$T/d.json" $N '{failures_by_result_type}[0]{failed}') $(jv "$T/d.json" $N '{failures_by_result_type}[1]{name}')=$(jv "$T/d.json" $N '{failures_by_result_type}[1]{failed}')" \
	"certificate-expired=$(ledger_fail $A $B $N certificate-expired) starttls-not-supported=$(ledger_fail $A $B $N starttls-not-supported)" "json: failures by result type"
is "$(jv "$T/d.json" $N '{failures_by_mx_host}[0]{name}') $(jv "$T/d.json" $N '{top_sending_ips}[0]{name}')" \
	"mx2.notready.example 198.51.100.7" "json: failures by MX host and top sending IP"
is "$(jv "$T/d.json" $N '{no_policy_found_reporters}[0]')" "Small Org" "json: reporter with no policy found"
is "$(jv "$T/d.json" $N '{missing_reporters}[0]')" "Comcast" "json: reporter of last period missing now"
is "$(jv "$T/d.json" $N '{policy_types}[1]{name}') $(jv "$T/d.json" $N '{sts_modes}[0]{name}')" \
	"no-policy-found testing" "json: policy types and STS modes seen"

# Readiness, each of the four states, with its reason.
is "$(jv "$T/d.json" ready.example '{readiness}{state}')" ready "readiness: ready"
is "$(jv "$T/d.json" $N '{readiness}{state}')" "not ready" "readiness: not ready"
like "$(jv "$T/d.json" $N '{readiness}{reason}')" "certificate-expired and starttls-not-supported failures at mx2.notready.example and mx1.notready.example" \
	"readiness: not ready names the result types and MX hosts"
is "$(jv "$T/d.json" enforce.example '{readiness}{state}')" enforcing "readiness: enforcing"
like "$(jv "$T/d.json" enforce.example '{readiness}{reason}')" "sts-policy-fetch-error at mx.enforce.example" "readiness: enforcing lists the undelivered failures"
is "$(jv "$T/d.json" old.example '{readiness}{state}')" "no data" "readiness: no data"
like "$(grep -A1 '^ready.example: ready$' "$T/d.txt")" "Ready for enforce" "text: verdict and its reason"

# Thresholds from [digest]: more reporters than ready.example has.
printf '[digest]\nmin-reporters = 4\nmin-days = 7\nmax-failure-rate = 0.5%%\n' >"$T/c.conf"
$TW digest --config "$T/c.conf" $RANGE --domain ready.example --format json >"$T/c.json"
like "$(jv "$T/c.json" ready.example '{readiness}{reason}')" "only 3 reporters \\(need 4\\)" "[digest] min-reporters makes ready.example not ready"

# --domain: globs, repeatable, an unknown name is "no data" (exit 0).
$TW digest $RANGE --domain '*ready.example' --domain ENFORCE.example --format json >"$T/g.json"
is "$(perl -MJSON::PP -e 'local $/; my $j = decode_json(<STDIN>); print join(",", map { $_->{domain} } @{$j->{domains}})' <"$T/g.json")" \
	"enforce.example,notready.example,ready.example" "--domain: globs, repeated, case-insensitive"
out=$($TW digest $RANGE --domain nosuch.example); rc=$?
is "$rc" 0 "unknown domain: exit 0"
like "$out" "No reports for nosuch.example in this period" "unknown domain: says no data"
out=$($TW digest --from 2023-01-01 --to 2023-01-07); rc=$?
is "$rc" 0 "empty period: exit 0"
like "$out" "No reports in this period" "empty period: says so"

# Bad usage 64, bad configuration 78, database down 75.
for args in "--from 2024-13-01 --to 2024-06-09" "--from 2024-06-09 --to 2024-06-01" "--since 7x" \
	"--since 7d --from 2024-06-01 --to 2024-06-02" "--format pdf" "--webhook slack"; do
	$TW digest $args >/dev/null 2>"$T/err"; rc=$?
	is "$rc" 64 "usage: $args exits 64"
done
like "$(cat "$T/err")" "no such \[webhook slack\]" "--webhook: an unknown webhook is named"
printf '[digest]\nmin-sessions = lots\n' >"$T/bad.conf"
$TW digest --config "$T/bad.conf" $RANGE >/dev/null 2>"$T/err"; rc=$?
is "$rc" 78 "config: bad value exits 78"
like "$(cat "$T/err")" "bad.conf: \\[digest\\] min-sessions: expected a whole number" "config: names file, group, key"
printf '[digest]\nmin-session = 5\n' >"$T/bad.conf"
$TW digest --config "$T/bad.conf" $RANGE >/dev/null 2>"$T/err"; rc=$?
is "$rc" 78 "config: unknown key exits 78"
like "$(cat "$T/err")" "\\[digest\\] min-session: unknown key" "config: unknown key named"
pg_stop_server
$TW digest $RANGE >/dev/null 2>"$T/err"; rc=$?
is "$rc" 75 "database down: exit 75"
like "$(cat "$T/err")" "cannot connect" "database down: says so"
pg_start_server

done_testing
