# alert_gen.sh: TLS reports with exact figures for the alert tests (source
# tests/lib/digest_gen.sh first: gen_policy and gen_detail come from it).
#   alert_report DIR ORG ID END DOMAIN OK FAILED [DETAILS]
# writes DIR/ID.json: one sts policy for DOMAIN, the report covering the
# 24 hours up to END (RFC 3339). DETAILS is a list of gen_detail outputs.
#   alert_report_sts_tlsa ... (same arguments): the same sessions listed
# under both an sts and a tlsa policy, as Microsoft does (they count once).
#   alert_mail DIR ID END DOMAIN FAILED: such a report as a message.

alert_report_json() { # DIR ORG ID END POLICIES
	start=$(date -u -d "$4 - 1 day" +%Y-%m-%dT%H:%M:%SZ)
	printf '{"organization-name":"%s","date-range":{"start-datetime":"%s","end-datetime":"%s"},"contact-info":"tlsrpt@example.net","report-id":"%s","policies":[%s]}\n' \
		"$2" "$start" "$4" "$3" "$5" >"$1/$3.json"
}

alert_report() {
	alert_report_json "$1" "$2" "$3" "$4" "$(gen_policy sts "$5" "$STS_T" "$6" "$7" "${8:-}")"
}

alert_report_sts_tlsa() {
	alert_report_json "$1" "$2" "$3" "$4" \
		"$(gen_policy sts "$5" "$STS_T" "$6" "$7" "${8:-}"),$(gen_policy tlsa "$5" '"3 1 1 AB"' "$6" "$7" "${8:-}")"
}

# alert_mail DIR ID END DOMAIN FAILED: alert_report's report of "Alert
# Test" (100 successful sessions, FAILED failed, no failure details) as a
# message, DIR/ID.eml
alert_mail() {
	alert_report "$1" "Alert Test" "$2" "$3" "$4" 100 "$5"
	{
		printf 'From: tlsrpt@reporter.example\nSubject: Report Domain: %s\n' "$4"
		printf 'Message-ID: <%s@reporter.example>\nMIME-Version: 1.0\n' "$2"
		printf 'Content-Type: application/tlsrpt+json\n\n'
		cat "$1/$2.json"
	} >"$1/$2.eml"
}

# jget FILE PERLPATH: one value of a JSON file ({a}{b}[0] style), "null" when absent.
jget() {
	perl -MJSON::PP -e 'local $/; open my $f, "<", $ARGV[0] or die "$ARGV[0]: $!"; my $j = decode_json(<$f>);
		my $v = eval "\$j->$ARGV[1]"; print defined $v ? (ref $v eq "JSON::PP::Boolean" ? ($v ? "true" : "false") : $v) : "null"' "$1" "$2"
}

# rule_line FILE RULE: the lines under "rule RULE:" in the output of
# tlswatch alert --list, up to the next rule.
rule_line() { awk -v r="rule $2:" '$1 " " $2 == r { p = 1; next } /^rule / { p = 0 } p' "$1"; }
