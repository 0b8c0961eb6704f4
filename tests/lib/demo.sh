#!/bin/sh
# make demo: a PostgreSQL kept under ./var/pg (reused on a second run), the
# schema, the sample reports of tests/fixtures, and what was stored.
# Afterwards, try it yourself:
#   PGHOST=$PWD/var/pg PGUSER=tlswatch ./tlswatch ingest < tests/fixtures/rfc-gzip.eml
# DEMO_DIR (default var) puts both elsewhere: tests/e2e/sysconfig.t.
set -u
cd "$(dirname "$0")/../.."
V=${DEMO_DIR:-var}
bail() { echo "demo: $1" >&2; exit 1; }
. tests/lib/pg.sh
# Never the machine's configuration: the demo's own database only.
export TLSWATCH_CONFIG=$PWD/tests/lib/none.conf

pg_start "$V/pg"
./tlswatch db init || exit 1
./tlswatch ingest -v tests/fixtures/*.eml tests/fixtures/*.json tests/fixtures/*.json.gz
# Five weeks of reports up to yesterday for four domains, so that
# `tlswatch digest --since 7d` has something to say (the digest tests'
# generator; on a second run they are all duplicates).
. tests/lib/digest_gen.sh
mkdir -p "$V/demo-reports"
DIGEST_GEN_START=$(date -u -d '35 days ago' +%F) digest_gen "$V/demo-reports"
./tlswatch ingest "$V"/demo-reports/*.json
echo
psql -X -P pager=off -c "
select r.organization_name as reporter, p.policy_domain as domain, p.policy_type as type,
       p.sts_mode as mode, to_char(r.date_start, 'YYYY-MM-DD') as day,
       p.successful_sessions as ok, p.failed_sessions as failed,
       (select count(*) from tlswatch.failures f where f.policy_ref = p.id) as details
from tlswatch.reports r join tlswatch.policies p on p.report_ref = r.id
where r.report_id like 'fixture-%'
order by r.id, p.policy_index"
psql -X -P pager=off -c "
select status, count(*) from tlswatch.messages group by status order by status"
echo
./tlswatch digest --since 7d --domain '*.example'
echo
echo "The cluster stays in $V/pg: PGHOST=$PG_DIR PGUSER=tlswatch psql"
echo "Stop it with: make demo-stop (make clean also removes it)"
