# counted.sh: one report whose policies list the same domain twice with
# failure details that differ, for failures.counted (sql/012),
# domain_sessions (sql/013) and its failure sums (sql/014), used by
# tests/integration/counted.t (stored by ingest) and migrate.t (stored by
# the version-2 binary, flags set by the migration).
#
# counted_report FILE DAY: the report, of "Counted Fixture Corp", report-id
# counted-1, for DAY (YYYY-MM-DD). Policy 0 (sts, x.example) and policy 1
# (tlsa, spelled X.Example. : the same domain once normalised) list:
#   group (result type, sending IP; MX mx1.x.example unless said)
#   certificate-expired 192.0.2.1        0: 5 + 3 = 8   1: 7   policy 0 counts
#   starttls-not-supported 192.0.2.2     0: 2           1: 4   policy 1 counts
#   validation-failure 192.0.2.4         0: 3           1: 3   a tie: policy 0
#   certificate-host-mismatch .5 / .6    0: 6 (.5)      1: 6 (.6)  two groups
#   tlsa-invalid 192.0.2.3, mx2          -              1: 1   policy 1 counts
# and policy 2 (sts, y.example) lists certificate-expired 192.0.2.1: 7, the
# same group as policy 0's first but another domain: it counts.
counted_detail() { # TYPE IP MX N
	printf '{"result-type":"%s","sending-mta-ip":"%s","receiving-mx-hostname":"%s","failed-session-count":%s}' "$@"
}
counted_policy() { # TYPE DOMAIN OK FAILED DETAILS
	printf '{"policy":{"policy-type":"%s","policy-string":["version: STSv1","mode: testing","mx: *.x.example","max_age: 86400"],"policy-domain":"%s","mx-host":["*.x.example"]},"summary":{"total-successful-session-count":%s,"total-failure-session-count":%s},"failure-details":[%s]}' "$@"
}
counted_report() {
	mx=mx1.x.example
	p0="$(counted_detail certificate-expired 192.0.2.1 $mx 5),$(counted_detail certificate-expired 192.0.2.1 $mx 3),$(counted_detail starttls-not-supported 192.0.2.2 $mx 2),$(counted_detail validation-failure 192.0.2.4 $mx 3),$(counted_detail certificate-host-mismatch 192.0.2.5 $mx 6)"
	p1="$(counted_detail certificate-expired 192.0.2.1 $mx 7),$(counted_detail starttls-not-supported 192.0.2.2 $mx 4),$(counted_detail tlsa-invalid 192.0.2.3 mx2.x.example 1),$(counted_detail validation-failure 192.0.2.4 $mx 3),$(counted_detail certificate-host-mismatch 192.0.2.6 $mx 6)"
	p2="$(counted_detail certificate-expired 192.0.2.1 $mx 7)"
	printf '{"organization-name":"Counted Fixture Corp","date-range":{"start-datetime":"%sT00:00:00Z","end-datetime":"%sT23:59:59Z"},"contact-info":"tlsrpt@example.net","report-id":"counted-1","policies":[%s,%s,%s]}\n' \
		"$2" "$2" "$(counted_policy sts x.example 100 19 "$p0")" "$(counted_policy tlsa X.Example. 100 21 "$p1")" \
		"$(counted_policy sts y.example 50 7 "$p2")" >"$1"
}
# The flags the rule gives, worked out by hand from the table above:
# policy_index:detail_index=counted, in that order.
COUNTED_FLAGS="0:0=t 0:1=t 0:2=f 0:3=t 0:4=t 1:0=f 1:1=t 1:2=t 1:3=f 1:4=t 2:0=t"
# COUNTED_SQL: the flags of counted-1 as stored, in COUNTED_FLAGS' form.
COUNTED_SQL="select string_agg(p.policy_index || ':' || f.detail_index || '=' || case when f.counted then 't' else 'f' end,
	' ' order by p.policy_index, f.detail_index) from tlswatch.reports r
	join tlswatch.policies p on p.report_ref = r.id and p.date_start = r.date_start
	join tlswatch.failures f on f.policy_ref = p.id and f.date_start = p.date_start where r.report_id = 'counted-1'"
# The sessions per domain (domain_sessions, sql/013): x.example once, the
# larger of 100/19 and 100/21; y.example from policy 2 alone.
COUNTED_SESSIONS="x.example 100 21 Counted Fixture Corp,y.example 50 7 Counted Fixture Corp"
COUNTED_SESSIONS_SQL="select string_agg(policy_domain || ' ' || successful_sessions || ' ' || failed_sessions
	|| ' ' || organization_name, ',' order by policy_domain) from tlswatch.domain_sessions where report_id = 'counted-1'"
# The failed sessions per domain by result type and MX host
# (domain_sessions' failure arrays, sql/014), from the counted details
# above: x.example certificate-expired 5 + 3 (policy 0's group), host
# mismatch 6 + 6 (two groups, one per policy), starttls 4 and tlsa 1
# (policy 1), validation 3 (policy 0 on the tie); y.example its own 7.
# Sorted by result type, then MX host.
COUNTED_FAILURES="x.example certificate-expired/mx1.x.example=8 certificate-host-mismatch/mx1.x.example=12 starttls-not-supported/mx1.x.example=4 tlsa-invalid/mx2.x.example=1 validation-failure/mx1.x.example=3,y.example certificate-expired/mx1.x.example=7"
COUNTED_FAILURES_SQL="select string_agg(policy_domain || ' ' || (select string_agg(t || '/' || coalesce(m, '-') || '=' || n, ' ' order by i)
	from unnest(failure_types, failure_mx_hosts, failure_sessions) with ordinality as u(t, m, n, i)), ',' order by policy_domain)
	from tlswatch.domain_sessions where report_id = 'counted-1'"
