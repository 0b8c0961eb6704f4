#!/bin/sh
# Migration 003 on a populated version-2 database. The version-2 tlswatch
# is built from git (commit ce48f50, main before 003) and fills the
# database the way a real install did: the mail fixtures, five weeks of
# generated reports (tests/lib/digest_gen.sh, 2024: older than two years,
# so they land in the *_past partitions), 300 generated reporters' mails
# (bench/gen, April 2026: monthly partitions), and two reports for one
# domain spelled `Example.COM.` and `example.com`, the first with the
# result type `Certificate-Expired` and the policy type `STS`. Everything
# "before" is read from the version-2 tables with psql, so no assertion
# trusts the code under test. After `tlswatch db migrate` this proves:
# version 3; every count and session sum unchanged; the same report keys,
# each in report_keys once; reports, policies, failures and messages
# row for row with their ids (the only changes being the normalised
# domain, policy type, STS mode and result type); each row in the
# partition of its month, children with their report; the digest of the
# new binary equal to the old one's except for example.com, whose two
# old entries merge into one with their sums; a re-delivered report is a
# duplicate and a new one is stored with ids above the old maximum; and
# 012's failures.counted on a report that lists one domain under two
# policies (tests/lib/counted.sh), as worked out by hand.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"
. "$(dirname "$0")/../lib/digest_gen.sh"
. "$(dirname "$0")/../lib/counted.sh"

OLD_COMMIT=ce48f50
TW=./tlswatch
[ -x "$TW" ] || bail "$TW is not built (make all)"
command -v python3 >/dev/null || bail "python3 is needed to compare the digests (make deps)"
git rev-parse --is-inside-work-tree >/dev/null 2>&1 ||
	skip_all "not a git checkout: the version-2 tlswatch is built from commit $OLD_COMMIT"
# A shallow clone lacks the commit: said loudly on stderr and in the plan,
# since the migration then goes untested here.
if ! git cat-file -e "$OLD_COMMIT^{commit}" 2>/dev/null; then
	echo "migrate.t: SKIPPED: commit $OLD_COMMIT is not in this clone (git fetch --unshallow)" >&2
	skip_all "commit $OLD_COMMIT is not in this clone (shallow?): the version-2 tlswatch is built from it"
fi

pg_start
T=$PG_DIR/migrate
mkdir -p "$T/src" "$T/gen" "$T/json"

# ---- the version-2 binary ----------------------------------------------------
# A plain build whatever make runs us (make check SANITIZE=1 passes its
# variables down in MAKEFLAGS): the old binary only fills the database.
git archive "$OLD_COMMIT" | tar -x -C "$T/src" || bail "git archive $OLD_COMMIT failed"
(unset MAKEFLAGS MFLAGS MAKELEVEL SANITIZE; make -C "$T/src" -j2 all bench/gen) >"$T/build.log" 2>&1 ||
	{ diag "$(tail -n 20 "$T/build.log")"; bail "building tlswatch at $OLD_COMMIT failed"; }
OLD=$T/src/tlswatch
"$OLD" db init >/dev/null 2>&1 || bail "version-2 tlswatch db init failed"
is "$(q "select string_agg(version::text, ',' order by version) from tlswatch.schema_version")" 1,2 \
	"the old binary creates a version-2 database"

# ---- filled by the old binary -------------------------------------------------
for f in tests/fixtures/*.eml; do
	"$OLD" ingest <"$f" 2>>"$T/fixtures.err" || bail "old ingest of $f failed"
done
is "$(q "select string_agg(status || '=' || n, ' ' order by status) from (select status, count(*) n from tlswatch.messages group by 1) s")" \
	"quarantined=5 stored=15" "fixtures: 15 messages stored, 5 quarantined (bounce, DMARC, empty, invalid, junk)"

digest_gen "$T/gen"
"$OLD" ingest "$T"/gen/*.json 2>"$T/err" || { diag "$(cat "$T/err")"; bail "old ingest of the digest reports failed"; }
like "$(cat "$T/err")" "266 stored, 0 duplicate, 0 quarantined, 0 failed" "digest_gen: 266 reports stored"

"$T/src/bench/gen" -n 300 -p mg -s 5 "$T/maildir" >/dev/null || bail "bench/gen failed"
"$OLD" ingest "$T/maildir" 2>"$T/err" || { diag "$(cat "$T/err")"; bail "old ingest of the Maildir failed"; }
like "$(cat "$T/err")" "300 stored, 0 duplicate, 0 quarantined, 0 failed" "bench/gen: 300 reporters' mails stored"

# report FILE ORG ID DAY DOMAIN POLICY-TYPE OK FAILED RESULT-TYPE MX IP
report() {
	printf '{"organization-name":"%s","date-range":{"start-datetime":"%sT00:00:00Z","end-datetime":"%sT23:59:59Z"},"contact-info":"tlsrpt@example.net","report-id":"%s","policies":[{"policy":{"policy-type":"%s","policy-string":["version: STSv1","mode: testing","mx: mx1.example.com","max_age: 86400"],"policy-domain":"%s","mx-host":["mx1.example.com"]},"summary":{"total-successful-session-count":%s,"total-failure-session-count":%s},"failure-details":[{"result-type":"%s","sending-mta-ip":"%s","receiving-mx-hostname":"%s","failed-session-count":%s}]}]}\n' \
		"$2" "$4" "$4" "$3" "$6" "$5" "$7" "$8" "$9" "${11}" "${10}" "$8" >"$1"
}
report "$T/json/mixed.json" "Mixed Case Org" mg-mixed-1 2026-04-20 Example.COM. STS 70 5 Certificate-Expired mx1.example.com 192.0.2.70
report "$T/json/lower.json" "Lower Case Org" mg-lower-1 2026-04-21 example.com sts 30 2 certificate-expired mx1.example.com 192.0.2.71
"$OLD" ingest "$T/json/mixed.json" "$T/json/lower.json" 2>"$T/err"
like "$(cat "$T/err")" "2 stored, 0 duplicate" "the two spellings of example.com stored by the old binary"
is "$(q "select string_agg(policy_domain || ' ' || policy_type || ' ' || result_type, ',' order by policy_domain) from tlswatch.policies p join tlswatch.failures f on f.policy_ref = p.id where lower(policy_domain) like 'example.com%' and p.report_ref in (select id from tlswatch.reports where report_id like 'mg-%')")" \
	"Example.COM. STS Certificate-Expired,example.com sts certificate-expired" "version 2 keeps the spellings as sent"

# x.example under two policies of one report with failure details that
# differ (tests/lib/counted.sh), in February: outside both digest periods
# and the periods before them.
counted_report "$T/json/counted.json" 2026-02-10
"$OLD" ingest "$T/json/counted.json" 2>"$T/err"
like "$(cat "$T/err")" "1 stored, 0 duplicate" "the report of tests/lib/counted.sh stored by the old binary"

# ---- before: read from the version-2 tables ----------------------------------
COUNTS="select (select count(*) from tlswatch.messages) || ' ' || (select count(*) from tlswatch.reports) || ' '
	|| (select count(*) from tlswatch.policies) || ' ' || (select count(*) from tlswatch.failures)"
SUMS="select (select sum(successful_sessions) || ' ' || sum(failed_sessions) from tlswatch.policies) || ' '
	|| (select sum(failed_sessions) from tlswatch.failures)"
KEYS="select organization_name || E'\t' || report_id from tlswatch.reports order by 1"
counts_before=$(q "$COUNTS")
sums_before=$(q "$SUMS")
q "$KEYS" >"$T/keys.before"
q "select id || ' ' || message_ref || ' ' || organization_name || ' ' || report_id || ' ' || date_start || ' ' || date_end
	|| ' ' || md5(document::text) || ' ' || warnings::text from tlswatch.reports order by id" >"$T/reports.before"
# What 003 promises: domain ASCII lower-case without trailing dots, policy
# type, STS mode and result type lower-cased, all else as it was.
q "select id || ' ' || report_ref || ' ' || policy_index || ' ' || lower(policy_type) || ' '
	|| rtrim(lower(policy_domain), '.') || ' ' || coalesce(lower(sts_mode), '-') || ' ' || coalesce(sts_max_age, -1)
	|| ' ' || successful_sessions || ' ' || failed_sessions || ' ' || policy_string::text || ' ' || mx_host::text
	from tlswatch.policies order by id" >"$T/policies.before"
q "select policy_ref || ' ' || detail_index || ' ' || lower(result_type) || ' ' || coalesce(host(sending_mta_ip), '-')
	|| ' ' || coalesce(receiving_mx_hostname, '-') || ' ' || coalesce(receiving_mx_helo, '-') || ' '
	|| coalesce(host(receiving_ip), '-') || ' ' || failed_sessions || ' ' || coalesce(additional_information, '-')
	|| ' ' || coalesce(failure_reason_code, '-') from tlswatch.failures order by policy_ref, detail_index" >"$T/failures.before"
q "select id || ' ' || status || ' ' || coalesce(message_id, '-') from tlswatch.messages order by id" >"$T/messages.before"
april_before=$(q "select count(*) from tlswatch.reports where date_start >= '2026-04-01' and date_start < '2026-05-01'")
max_report=$(q "select max(id) from tlswatch.reports")
max_policy=$(q "select max(id) from tlswatch.policies")
example_policies=$(q "select count(*) from tlswatch.policies where rtrim(lower(policy_domain), '.') = 'example.com'")
is "$(q "select count(distinct policy_domain) from tlswatch.policies where rtrim(lower(policy_domain), '.') = 'example.com'")" 2 \
	"before: example.com under two spellings in policies"
is "$(q "select count(*) from tlswatch.failures where result_type = 'Certificate-Expired'")" 1 \
	"before: one failure with result type Certificate-Expired"
ce_before=$(q "select count(*) || ' ' || sum(failed_sessions) from tlswatch.failures where lower(result_type) = 'certificate-expired'")
diag "version 2: messages reports policies failures = $counts_before; sums = $sums_before"

# Two fixed periods: April 2026 (bench/gen and example.com, monthly
# partitions after 003) and a week of digest_gen (2024, *_past).
"$OLD" digest --from 2026-04-01 --to 2026-04-30 --format json >"$T/old-apr.json" || bail "old digest failed"
"$OLD" digest --from 2024-06-03 --to 2024-06-09 --format json >"$T/old-jun.json" || bail "old digest failed"

# ---- the migration -------------------------------------------------------------
$TW db migrate >"$T/migrate.out" 2>&1; rc=$?
is "$rc" 0 "tlswatch db migrate: exit 0"
[ "$rc" -eq 0 ] || diag "$(cat "$T/migrate.out")"
is "$(q "select string_agg(version::text, ',' order by version) from tlswatch.schema_version")" 1,2,3,4,5,6,7,8,9,10,11,12,13,14 \
	"schema version 14 after the migration (003 to 014)"
like "$($TW db status 2>&1)" "schema version 14" "tlswatch db status says version 14"
# 012 sets failures.counted by the rule ingest stores it with (counted.t).
is "$(q "$COUNTED_SQL")" "$COUNTED_FLAGS" "012: failures.counted as worked out by hand for counted-1"
is "$(q "select count(*) from tlswatch.failures where not counted")" 3 \
	"012: no other detail left uncounted (the bench/gen and fixture reports name each domain once)"
# 013 fills domain_sessions: one row per report and policy domain, the
# largest counts of its policies, with the report's reporter, id, end and
# trust; computed here from policies and reports as stored.
is "$(q "select count(*) from tlswatch.domain_sessions d full join (select p.report_ref, p.date_start,
	p.policy_domain, max(p.successful_sessions) as ok, max(p.failed_sessions) as failed
	from tlswatch.policies p group by 1, 2, 3) g using (report_ref, date_start, policy_domain)
	left join tlswatch.reports r on r.id = g.report_ref and r.date_start = g.date_start
	where (d.successful_sessions, d.failed_sessions, d.date_end, d.organization_name, d.report_id)
	is distinct from (g.ok, g.failed, r.date_end, r.organization_name, r.report_id)
	or d.authenticated is distinct from r.authenticated")" 0 \
	"013: domain_sessions holds each report and domain once, with the largest counts of its policies"
is "$(q "$COUNTED_SESSIONS_SQL")" "$COUNTED_SESSIONS" \
	"013: counted-1's sessions per domain as worked out by hand (x.example once, the larger)"
is "$(q "select count(*) from tlswatch.domain_sessions")" "$(q "select count(*) from (select distinct report_ref, policy_domain from tlswatch.policies) x")" \
	"013: as many rows as (report, domain) pairs"
is "$(q "select string_agg(regexp_replace(c.relname, '^domain_sessions', ''), ',' order by c.relname) from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'tlswatch.domain_sessions'::regclass")" \
	"$(q "select string_agg(regexp_replace(c.relname, '^reports', ''), ',' order by c.relname) from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'tlswatch.reports'::regclass")" \
	"013: domain_sessions has the partitions reports has"
# 014 sums each domain's counted details by result type and MX host into
# domain_sessions; computed here from the details as stored, one (type,
# MX) pair per row on both sides.
is "$(q "select count(*) from (select d.report_ref, d.date_start, d.policy_domain, u.t, u.m, u.n
	from tlswatch.domain_sessions d, unnest(d.failure_types, d.failure_mx_hosts, d.failure_sessions) as u(t, m, n)) a
	full join (select p.report_ref, p.date_start, p.policy_domain, f.result_type as t, f.receiving_mx_hostname as m,
	sum(f.failed_sessions) as n from tlswatch.policies p join tlswatch.failures f on f.policy_ref = p.id
	and f.date_start = p.date_start where f.counted group by 1, 2, 3, 4, 5) b
	on (a.report_ref, a.date_start, a.policy_domain, a.t) = (b.report_ref, b.date_start, b.policy_domain, b.t)
	and a.m is not distinct from b.m where a.n is distinct from b.n")" 0 \
	"014: domain_sessions' failure sums are the counted details' sums, pair by pair"
is "$(q "select count(*) from tlswatch.domain_sessions where failure_types is not null")" \
	"$(q "select count(*) from (select distinct p.report_ref, p.policy_domain from tlswatch.policies p join tlswatch.failures f on f.policy_ref = p.id and f.date_start = p.date_start where f.counted) x")" \
	"014: failure sums on every row with counted details, and no other"
is "$(q "$COUNTED_FAILURES_SQL")" "$COUNTED_FAILURES" "014: counted-1's failure sums as worked out by hand"
is "$(q "select count(*) from pg_class where relnamespace = 'tlswatch'::regnamespace and relname like '%\_v2%'")" 0 \
	"no version-2 table, index or sequence left behind"

is "$(q "$COUNTS")" "$counts_before" "messages, reports, policies, failures: same counts ($counts_before)"
is "$(q "$SUMS")" "$sums_before" "sums of successful and failed sessions (policies) and failed sessions (failures) unchanged"
is "$(q "$KEYS")" "$(cat "$T/keys.before")" "the same (organization_name, report_id) keys"
is "$(q "select count(*) from tlswatch.report_keys where content is not null")" 0 \
	"keys stored before 004 have no content digest: a re-send of one stays a duplicate"
is "$(q "select organization_name || E'\t' || report_id from tlswatch.report_keys order by 1")" "$(cat "$T/keys.before")" \
	"report_keys holds exactly the reports' keys"
is "$(q "select id || ' ' || message_ref || ' ' || organization_name || ' ' || report_id || ' ' || date_start || ' ' || date_end
	|| ' ' || md5(document::text) || ' ' || warnings::text from tlswatch.reports order by id")" "$(cat "$T/reports.before")" \
	"reports: every row with its id, message, dates, document and warnings"
is "$(q "select id || ' ' || report_ref || ' ' || policy_index || ' ' || policy_type || ' '
	|| policy_domain || ' ' || coalesce(sts_mode, '-') || ' ' || coalesce(sts_max_age, -1)
	|| ' ' || successful_sessions || ' ' || failed_sessions || ' ' || policy_string::text || ' ' || mx_host::text
	from tlswatch.policies order by id")" "$(cat "$T/policies.before")" \
	"policies: every row with its id, normalised domain and lower-case type and mode"
is "$(q "select policy_ref || ' ' || detail_index || ' ' || result_type || ' ' || coalesce(host(sending_mta_ip), '-')
	|| ' ' || coalesce(receiving_mx_hostname, '-') || ' ' || coalesce(receiving_mx_helo, '-') || ' '
	|| coalesce(host(receiving_ip), '-') || ' ' || failed_sessions || ' ' || coalesce(additional_information, '-')
	|| ' ' || coalesce(failure_reason_code, '-') from tlswatch.failures order by policy_ref, detail_index")" \
	"$(cat "$T/failures.before")" "failures: every row with its policy, lower-case result type"
is "$(q "select id || ' ' || status || ' ' || coalesce(message_id, '-') from tlswatch.messages order by id")" \
	"$(cat "$T/messages.before")" "messages: ids and statuses unchanged"
is "$(q "select count(*) from tlswatch.policies p where not exists (select from tlswatch.reports r where r.id = p.report_ref and r.date_start = p.date_start)")
$(q "select count(*) from tlswatch.failures f where not exists (select from tlswatch.policies p where p.id = f.policy_ref and p.date_start = f.date_start)")" \
	"0
0" "every policy carries its report's date_start, every failure its policy's"

is "$(q "select string_agg(distinct policy_domain, ',') || ' ' || count(*) from tlswatch.policies where policy_domain ilike 'example.com%'")" \
	"example.com $example_policies" "Example.COM. and example.com are one policy_domain, example.com"
is "$(q "select document->'policies'->0->'policy'->>'policy-domain' || ' ' || (document->'policies'->0->'failure-details'->0->>'result-type') from tlswatch.reports where report_id = 'mg-mixed-1'")" \
	"Example.COM. Certificate-Expired" "the document keeps the spellings sent"
is "$(q "select count(*) from tlswatch.failures where result_type <> lower(result_type)")
$(q "select count(*) from tlswatch.policies where policy_type <> lower(policy_type) or sts_mode <> lower(sts_mode) or policy_domain <> lower(policy_domain) or policy_domain like '%.'")" \
	"0
0" "no upper case left in result types, policy types, modes and domains"
is "$(q "select count(*) || ' ' || sum(failed_sessions) from tlswatch.failures where result_type = 'certificate-expired'")" \
	"$ce_before" "certificate-expired: the old Certificate-Expired row joined them"

# Each row in its month's partition (or past/future when its month has
# none), policies and failures in the same month as their report.
# part OID-EXPR: SQL for the name of the partition a row is in.
part() { echo "(select c.relname::text from pg_class c where c.oid = $1)"; }
for t in reports policies failures domain_sessions; do
	is "$(q "select count(*) from tlswatch.$t x where case when $(part x.tableoid) ~ '_(past|future)\$'
		then to_regclass('tlswatch.${t}_' || to_char(x.date_start at time zone 'UTC', 'YYYY_MM')) is not null
		else $(part x.tableoid) <> '${t}_' || to_char(x.date_start at time zone 'UTC', 'YYYY_MM') end")" 0 \
		"$t: every row in the partition of its month"
done
is "$(q "select count(*) from tlswatch.reports where tableoid = 'tlswatch.reports_past'::regclass and date_start < '2024-07-01'")" 266 \
	"the 266 reports of 2024 are in reports_past"
# April 2026 has a month of its own while it is less than two years ago
# (older months go to *_past, says 003).
april=reports_2026_04
[ 202604 -ge "$(date -u -d "$(date -u +%Y-%m-01) -24 month" +%Y%m)" ] || april=reports_past
is "$(q "select string_agg(distinct c.relname, ',') || ' ' || count(*) from tlswatch.reports r join pg_class c on c.oid = r.tableoid
	where r.date_start >= '2026-04-01' and r.date_start < '2026-05-01'")" \
	"$april $april_before" "April 2026's $april_before reports are all in $april"
is "$(q "select count(*) from tlswatch.policies p join tlswatch.reports r on r.id = p.report_ref and r.date_start = p.date_start
	where regexp_replace($(part p.tableoid), '^policies_', '') <> regexp_replace($(part r.tableoid), '^reports_', '')")" 0 \
	"policies: in the partition of their report's"
is "$(q "select count(*) from tlswatch.failures f join tlswatch.policies p on p.id = f.policy_ref and p.date_start = f.date_start
	where regexp_replace($(part f.tableoid), '^failures_', '') <> regexp_replace($(part p.tableoid), '^policies_', '')")" 0 \
	"failures: in the partition of their policy's"

# ---- the digest, old binary against new ---------------------------------------
$TW digest --from 2026-04-01 --to 2026-04-30 --format json >"$T/new-apr.json"; rc=$?
is "$rc" 0 "new digest of April 2026: exit 0"
$TW digest --from 2024-06-03 --to 2024-06-09 --format json >"$T/new-jun.json"; rc=$?
is "$rc" 0 "new digest of 2024-06-03..09: exit 0"

# canon OLD NEW WHAT: rest-old, rest-new: that digest without example.com
# (and example.com.), canonical JSON; merged-old: the old two entries
# merged (breakdown names lower-cased, figures summed), merged-new: the
# new example.com, both as sorted key=value lines; names: which of the
# two spellings each digest lists.
canon() {
	python3 - "$@" <<'EOF'
import json, re, sys
old, new, what = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
EX = ("example.com", "example.com.")
# The JSON digest only gains fields: the new one is compared on the old
# one's fields (the new ones are checked elsewhere).
OLD_KEYS = {k for d in old["domains"] for k in d}
# The old binary wrote "only 1 reporters", "on only 1 days".
def singular(text):
    return re.sub(r"\b1 (reporter|day|session|report)s\b", r"1 \1", text)
def rest(j):
    j = dict(j)
    j["domains"] = [{k: v for k, v in d.items() if k in OLD_KEYS}
                    for d in j["domains"] if d["domain"] not in EX]
    return singular(json.dumps(j, indent=1, sort_keys=True))
def merged(doms):
    out = {}
    def add(key, v):
        out[key] = out.get(key, 0) + v
    for d in doms:
        for part in ("sessions", "previous"):
            for k in ("successful", "failed", "total", "reports"):
                add("%s.%s" % (part, k), d[part][k])
        for day in d["days"]:
            for k in ("successful", "failed", "reports"):
                add("day %s %s" % (day["date"], k), day[k])
        for lst in ("failures_by_result_type", "failures_by_mx_host", "top_sending_ips",
                    "reporters", "policy_types", "sts_modes"):
            for it in d[lst]:
                for k, v in it.items():
                    if k != "name":
                        add("%s %s %s" % (lst, it["name"].lower(), k), v)
    return "\n".join("%s=%s" % kv for kv in sorted(out.items()))
if what == "rest-old":
    print(rest(old))
elif what == "rest-new":
    print(rest(new))
elif what == "merged-old":
    print(merged([d for d in old["domains"] if d["domain"] in EX]))
elif what == "merged-new":
    print(merged([d for d in new["domains"] if d["domain"] == "example.com"]))
elif what == "names":
    print(" ".join(d["domain"] for d in old["domains"] if d["domain"] in EX), "->",
          " ".join(d["domain"] for d in new["domains"] if d["domain"] in EX))
EOF
}
is "$(canon "$T/old-apr.json" "$T/new-apr.json" names)" "example.com example.com. -> example.com" \
	"April: the old digest lists example.com and example.com., the new one example.com"
is "$(canon "$T/old-apr.json" "$T/new-apr.json" rest-new)" "$(canon "$T/old-apr.json" "$T/new-apr.json" rest-old)" \
	"April: apart from example.com, the new digest is the old one ($(grep -c '"domain"' "$T/old-apr.json") domains)"
is "$(canon "$T/old-apr.json" "$T/new-apr.json" merged-new)" "$(canon "$T/old-apr.json" "$T/new-apr.json" merged-old)" \
	"April: example.com's figures, days and breakdowns are the sums of the old two entries"
# The same from the reports written above, by hand.
is "$(python3 -c 'import json, sys
d = [d for d in json.load(open(sys.argv[1]))["domains"] if d["domain"] == "example.com"][0]
print(d["sessions"]["successful"], d["sessions"]["failed"], d["sessions"]["reports"],
      " ".join("%s=%s" % (i["name"], i["failed"]) for i in d["failures_by_result_type"]),
      " ".join(i["name"] for i in d["policy_types"]), " ".join(sorted(i["name"] for i in d["reporters"])))' "$T/new-apr.json")" \
	"100 7 2 certificate-expired=7 sts Lower Case Org Mixed Case Org" \
	"April: example.com has 70+30 successful, 5+2 failed sessions, one certificate-expired, policy type sts"
is "$(canon "$T/old-jun.json" "$T/new-jun.json" rest-new)" "$(canon "$T/old-jun.json" "$T/new-jun.json" rest-old)" \
	"2024-06-03..09 (reports_past): the new digest is the old one"
like "$(canon "$T/old-jun.json" "$T/new-jun.json" rest-new)" '"domain": "notready.example"' \
	"2024-06-03..09: the digest has the generated domains"

# ---- after: ingest by the new binary ---------------------------------------------
reports_after=$(q "select count(*) from tlswatch.reports")
one=$(ls "$T"/gen/*.json | head -n 1)
$TW ingest "$one" 2>"$T/err"; rc=$?
is "$rc" 0 "re-delivery of a stored report: exit 0"
like "$(cat "$T/err")" "0 stored, 1 duplicate" "re-delivery of $(basename "$one"): a duplicate"
is "$(q "select status from tlswatch.messages order by id desc limit 1")" duplicate "its message row says duplicate"
$TW ingest <tests/fixtures/rfc-gzip.eml 2>/dev/null; rc=$?
is "$rc" 0 "re-delivery of rfc-gzip.eml on stdin: exit 0"
is "$(q "select status from tlswatch.messages order by id desc limit 1")" duplicate "rfc-gzip.eml again: duplicate"
$TW ingest "$T/json/mixed.json" 2>"$T/err"
like "$(cat "$T/err")" "0 stored, 1 duplicate" "the Example.COM. report again: a duplicate"
is "$(q "select count(*) from tlswatch.reports") $(q "select count(*) from tlswatch.report_keys")" \
	"$reports_after $reports_after" "no report and no key added by the re-deliveries"

report "$T/json/new.json" "Mixed Case Org" mg-new-1 2026-04-22 EXAMPLE.com. TLSA 40 1 STARTTLS-Not-Supported mx1.example.com 192.0.2.72
$TW ingest "$T/json/new.json" 2>"$T/err"
like "$(cat "$T/err")" "1 stored, 0 duplicate" "a new report is stored"
new_id=$(q "select id from tlswatch.reports where report_id = 'mg-new-1'")
new_policy=$(q "select p.id from tlswatch.policies p where p.report_ref = 0$new_id")
ok "$([ -n "$new_id" ] && [ "$new_id" -gt "$max_report" ] && echo 1)" "its id $new_id is above the old maximum $max_report"
ok "$([ -n "$new_policy" ] && [ "$new_policy" -gt "$max_policy" ] && echo 1)" "its policy's id $new_policy is above the old maximum $max_policy"
is "$(q "select p.policy_domain || ' ' || p.policy_type || ' ' || f.result_type || ' ' || $(part p.tableoid) || ' ' || $(part f.tableoid)
	from tlswatch.policies p join tlswatch.failures f on f.policy_ref = p.id where p.report_ref = 0$new_id")" \
	"example.com tlsa starttls-not-supported policies_${april#reports_} failures_${april#reports_}" \
	"the new report's rows: normalised, in April's partitions"
is "$(q "select count(*) from tlswatch.reports") $(q "select count(*) from tlswatch.report_keys")" \
	"$((reports_after + 1)) $((reports_after + 1))" "one report and one key more"

done_testing
