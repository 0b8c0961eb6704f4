# digest_gen.sh: five weeks of TLS reports with known figures, for the
# digest tests. Source it, then `digest_gen DIR`: writes one report JSON
# file per reporter, domain and day into DIR (ingested with `tlswatch
# ingest DIR/*.json`, the real path) and DIR/ledger, one line per report
# and per failure detail, counted the way the digest must count them:
#   S day domain org successful failed policy-type sts-mode
#   F day domain org result-type mx ip failed
# Days run from 2024-05-06 (day 0) to 2024-06-09 (day 34), or from
# $DIGEST_GEN_START (make demo: five weeks up to yesterday). Domains:
#   ready.example     testing; 3 reporters daily, a few dnssec-invalid
#                     failures; Microsoft lists each report under sts and
#                     tlsa (the sessions count once)
#   notready.example  testing; certificate-expired and starttls failures,
#                     a no-policy-found reporter, Comcast stops on day 28
#   enforce.example   enforce; sts-policy-fetch-error on odd days
#   old.example       testing; reports on days 0..27 only
# ledger_sum FROM TO DOMAIN FIELD: the sum of S lines' FIELD (5 successful,
# 6 failed) over days FROM..TO (YYYY-MM-DD, inclusive) for DOMAIN.

STS_T='"version: STSv1","mode: testing","mx: *.example","max_age: 86400"'
STS_E='"version: STSv1","mode: enforce","mx: *.example","max_age: 86400"'

# policy TYPE DOMAIN POLICYSTRING OK FAILED DETAILS
gen_policy() {
	printf '{"policy":{"policy-type":"%s","policy-string":[%s],"policy-domain":"%s","mx-host":["*.example"]},"summary":{"total-successful-session-count":%s,"total-failure-session-count":%s},"failure-details":[%s]}' \
		"$1" "$3" "$2" "$4" "$5" "$6"
}

# detail TYPE MX IP N  (MX or IP "-" leaves the field out)
gen_detail() {
	printf '{"result-type":"%s"' "$1"
	[ "$3" != - ] && printf ',"sending-mta-ip":"%s"' "$3"
	[ "$2" != - ] && printf ',"receiving-mx-hostname":"%s"' "$2"
	printf ',"failed-session-count":%s}' "$4"
}

# report DIR ORG DATE DOMAIN POLICIES
gen_report() {
	id=$(printf '%s' "$2-$4-$3" | tr -c 'A-Za-z0-9.-' _)
	printf '{"organization-name":"%s","date-range":{"start-datetime":"%sT00:00:00Z","end-datetime":"%sT23:59:59Z"},"contact-info":"tlsrpt@example.net","report-id":"%s","policies":[%s]}\n' \
		"$2" "$3" "$3" "$id" "$5" >"$1/$id.json"
}

gen_day() { # DIR I DATE
	dir=$1 i=$2 d=$3
	# ready.example
	f=0; det=""
	if [ $((i % 3)) -eq 0 ]; then
		f=1; det=$(gen_detail dnssec-invalid mx1.ready.example 192.0.2.$((i % 5 + 1)) 1)
		echo "F $d ready.example Google_Inc. dnssec-invalid mx1.ready.example 192.0.2.$((i % 5 + 1)) 1" >>"$dir/ledger"
	fi
	gen_report "$dir" "Google Inc." "$d" ready.example "$(gen_policy sts ready.example "$STS_T" $((1000 + 10 * i)) $f "$det")"
	echo "S $d ready.example Google_Inc. $((1000 + 10 * i)) $f sts testing" >>"$dir/ledger"
	gen_report "$dir" "Microsoft Corporation" "$d" ready.example \
		"$(gen_policy sts ready.example "$STS_T" $((500 + i)) 0 "")","$(gen_policy tlsa ready.example '"3 1 1 AB"' $((500 + i)) 0 "")"
	echo "S $d ready.example Microsoft_Corporation $((500 + i)) 0 sts testing" >>"$dir/ledger"
	gen_report "$dir" "Yahoo" "$d" ready.example "$(gen_policy sts ready.example "$STS_T" 200 0 "")"
	echo "S $d ready.example Yahoo 200 0 sts testing" >>"$dir/ledger"
	# notready.example
	ce=$((i >= 28 ? 8 : 5))
	det="$(gen_detail certificate-expired mx2.notready.example 198.51.100.7 $ce),$(gen_detail starttls-not-supported mx1.notready.example 198.51.100.8 2)"
	gen_report "$dir" "Google Inc." "$d" notready.example "$(gen_policy sts notready.example "$STS_T" 300 $((ce + 2)) "$det")"
	echo "S $d notready.example Google_Inc. 300 $((ce + 2)) sts testing" >>"$dir/ledger"
	echo "F $d notready.example Google_Inc. certificate-expired mx2.notready.example 198.51.100.7 $ce" >>"$dir/ledger"
	echo "F $d notready.example Google_Inc. starttls-not-supported mx1.notready.example 198.51.100.8 2" >>"$dir/ledger"
	if [ "$i" -lt 28 ]; then
		gen_report "$dir" "Comcast" "$d" notready.example "$(gen_policy sts notready.example "$STS_T" 40 0 "")"
		echo "S $d notready.example Comcast 40 0 sts testing" >>"$dir/ledger"
	fi
	gen_report "$dir" "Small Org" "$d" notready.example "$(gen_policy no-policy-found notready.example "" 10 0 "")"
	echo "S $d notready.example Small_Org 10 0 no-policy-found -" >>"$dir/ledger"
	# enforce.example
	f=$((i % 2)); det=""
	if [ $f -eq 1 ]; then
		det=$(gen_detail sts-policy-fetch-error mx.enforce.example - 1)
		echo "F $d enforce.example Google_Inc. sts-policy-fetch-error mx.enforce.example - 1" >>"$dir/ledger"
	fi
	gen_report "$dir" "Google Inc." "$d" enforce.example "$(gen_policy sts enforce.example "$STS_E" 800 $f "$det")"
	echo "S $d enforce.example Google_Inc. 800 $f sts enforce" >>"$dir/ledger"
	# old.example
	if [ "$i" -lt 28 ]; then
		gen_report "$dir" "Google Inc." "$d" old.example "$(gen_policy sts old.example "$STS_T" 50 0 "")"
		echo "S $d old.example Google_Inc. 50 0 sts testing" >>"$dir/ledger"
	fi
}

digest_gen() { # DIR
	mkdir -p "$1"
	: >"$1/ledger"
	for i in $(seq 0 34); do
		gen_day "$1" "$i" "$(date -u -d "${DIGEST_GEN_START:-2024-05-06} +$i day" +%F)"
	done
}

ledger_sum() { # FROM TO DOMAIN FIELD
	awk -v a="$1" -v b="$2" -v dom="$3" -v f="$4" \
		'$1 == "S" && $2 >= a && $2 <= b && $3 == dom { s += $f } END { print s + 0 }' "$LEDGER"
}

ledger_fail() { # FROM TO DOMAIN RESULT-TYPE: failed sessions of that type
	awk -v a="$1" -v b="$2" -v dom="$3" -v t="$4" \
		'$1 == "F" && $2 >= a && $2 <= b && $3 == dom && $5 == t { s += $8 } END { print s + 0 }' "$LEDGER"
}
