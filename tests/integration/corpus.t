#!/bin/sh
# Every real sample in ../shared/corpus: the TLS reports are stored with the
# counts their JSON says (checked by PostgreSQL reading the stored JSON,
# independently of our parser's columns), the rest are quarantined.
. "$(dirname "$0")/../lib/tap.sh"

CORPUS=${TLSWATCH_CORPUS:-../shared/corpus}
[ -d "$CORPUS/tlsrpt" ] || skip_all "corpus not found at $CORPUS (it lives beside the checkout in CI)"
. "$(dirname "$0")/../lib/pg.sh"

TW=./tlswatch
pg_start_schema
last() { q "select status || ':' || coalesce(reason, '') from tlswatch.messages order by id desc limit 1"; }

# Known not to be storable: rpt03.json has policies with no policy-domain and,
# being a bare file, no TLS-Report-Domain header to fall back on; the .b64 is
# base64 text of a gzip, packaging rather than a report.
unstorable="stalwart-mail-auth/rpt03.json mail-tls-rpt/report.json.gz.b64"
# A conflict, kept in quarantine: microsoft-report.json.gz has the
# report-id of microsoft-report.json, stored just before, with other
# figures (0 failed sessions and no failure-details there, 2 and one
# here). The copies of RFC 8460's example report that reword only its
# additional-information text stay duplicates.
conflicting="tls-rpt-monitor/microsoft-report.json.gz"

find "$CORPUS/tlsrpt" -type f | LC_ALL=C sort > list.$$
while IFS= read -r f; do
	rel=${f#"$CORPUS/tlsrpt/"}
	case "$f" in
	*.eml | *.elm) $TW ingest < "$f" 2>/dev/null ;;
	*) $TW ingest "$f" 2>/dev/null ;;
	esac
	rc=$?
	is "$rc" 0 "$rel: exit 0"
	case " $unstorable | $conflicting " in
	*" $rel "*"|"*) like "$(last)" "^quarantined:" "$rel: quarantined" ;;
	*" $rel "*) like "$(last)" "^quarantined:.*stored before with different content" "$rel: a conflict, quarantined" ;;
	*) like "$(last)" "^(stored|duplicate):" "$rel: stored or a duplicate" ;;
	esac
done < list.$$

find "$CORPUS/other" -type f | LC_ALL=C sort > list.$$
while IFS= read -r f; do
	rel=${f#"$CORPUS/"}
	case "$f" in
	*.eml | *.elm) $TW ingest < "$f" 2>/dev/null ;;
	*) $TW ingest "$f" 2>/dev/null ;;
	esac
	rc=$?
	is "$rc" 0 "$rel: exit 0"
	like "$(last)" "^quarantined:.*not a TLS report" "$rel: quarantined as not a TLS report"
done < list.$$
rm -f list.$$

# Counts: the columns against the stored JSON, summed by SQL.
report_documents
is "$(q "
with doc as (
  select d.id, p.value as pol
  from public.documents d, jsonb_array_elements(d.document->'policies') p),
want as (
  select id,
    sum((pol->'summary'->>'total-successful-session-count')::bigint) as ok,
    sum(coalesce((pol->'summary'->>'total-failure-session-count')::bigint, 0)) as failed,
    sum(coalesce(jsonb_array_length(pol->'failure-details'), 0)) as details
  from doc group by id),
got as (
  select r.id, sum(p.successful_sessions) as ok, sum(p.failed_sessions) as failed,
    (select count(*) from tlswatch.failures f join tlswatch.policies p2 on f.policy_ref = p2.id
      where p2.report_ref = r.id) as details
  from tlswatch.reports r join tlswatch.policies p on p.report_ref = r.id group by r.id)
select count(*) from want join got using (id)
where (want.ok, want.failed, want.details) is distinct from (got.ok, got.failed, got.details)")" 0 \
	"every report: successful, failed and failure-detail counts equal the document's"
ok "$([ "$(q "select count(*) from tlswatch.reports")" -ge 20 ] && echo 1)" "at least 20 distinct reports stored"

# Spot checks of known quirks.
is "$(q "select date_start at time zone 'UTC' from tlswatch.reports where organization_name = 'Microsoft Corporation' and date_start::date = '2023-01-10'" | head -n 1)" \
	"2023-01-10 00:00:00" "mox/microsoft.eml: a date without a zone is read as UTC"
like "$(q "select array_to_string(warnings, '|') from tlswatch.reports where date_start::date = '2023-01-10' and organization_name = 'Microsoft Corporation'")" \
	"start-datetime" "mox/microsoft.eml: with a warning"
is "$(q "select max(cardinality(policy_string)) from tlswatch.policies where policy_type = 'tlsa'")" 13 \
	"tlsrpt-rs/microsoft1.eml: the JSON-encoded TLSA policy-string is unwrapped into 13 records"
is "$(q "select count(*) from (select report_ref from tlswatch.domain_sessions group by report_ref, policy_domain having count(*) > 1) d")" 0 \
	"domain_sessions: one row per report and domain"
is "$(q "select count(*) from tlswatch.domain_sessions d join (select report_ref, lower(policy_domain) as policy_domain, max(successful_sessions) as ok, max(failed_sessions) as failed, count(*) as n from tlswatch.policies group by 1, 2) p using (report_ref, policy_domain) where (d.successful_sessions, d.failed_sessions) is distinct from (p.ok, p.failed)")" 0 \
	"domain_sessions: sts and tlsa for one domain count once (the larger), not twice"
ok "$([ "$(q "select count(*) from (select 1 from tlswatch.policies group by report_ref, lower(policy_domain) having count(*) > 1) x")" -ge 1 ] && echo 1)" \
	"the corpus has reports with two policies for one domain (the case above is exercised)"
is "$(q "select failed_sessions from tlswatch.policies p join tlswatch.reports r on p.report_ref = r.id where r.organization_name = 'Mail.ru' and r.date_start::date = '2023-01-25'" | head -n 1)" \
	1 "tlsrpt-rs/mail.ru.eml: the summary's failure count is kept as sent (1, not the details' 2)"

done_testing
