#!/bin/sh
# make demo: a PostgreSQL kept under ./var/pg (reused on a second run), the
# schema, the sample reports of tests/fixtures, and what was stored.
# Afterwards, try it yourself:
#   PGHOST=$PWD/var/pg PGUSER=tlswatch ./tlswatch ingest < tests/fixtures/rfc-gzip.eml
set -u
cd "$(dirname "$0")/../.."
bail() { echo "demo: $1" >&2; exit 1; }
. tests/lib/pg.sh

pg_start var/pg
./tlswatch db init || exit 1
./tlswatch ingest -v tests/fixtures/*.eml tests/fixtures/*.json tests/fixtures/*.json.gz
echo
psql -X -P pager=off -c "
select r.organization_name as reporter, p.policy_domain as domain, p.policy_type as type,
       p.sts_mode as mode, to_char(r.date_start, 'YYYY-MM-DD') as day,
       p.successful_sessions as ok, p.failed_sessions as failed,
       (select count(*) from tlswatch.failures f where f.policy_ref = p.id) as details
from tlswatch.reports r join tlswatch.policies p on p.report_ref = r.id
order by r.id, p.policy_index"
psql -X -P pager=off -c "
select status, count(*) from tlswatch.messages group by status order by status"
echo "The cluster stays in var/pg: PGHOST=$PWD/var/pg PGUSER=tlswatch psql"
echo "Stop it with: make demo-stop (make clean also removes it)"
