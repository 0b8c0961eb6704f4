#!/bin/sh
# The database layer against a real PostgreSQL: tests/unit/test_store
# (migrations, rows stored, duplicates, quarantine, retry, error classes,
# eight concurrent deliveries) under a server of our own, the schema as
# users see it (psql), and store_open with the server stopped.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

T=tests/unit/test_store
[ -x "$T" ] || bail "$T is not built (make units)"
pg_start

# A GTest binary's TAP cannot nest in ours: one line for it, its output as
# comments when it fails.
out=$("$T" 2>&1); rc=$?
is "$rc" 0 "test_store: $(printf '%s\n' "$out" | grep -c '^ok') cases pass, $(printf '%s\n' "$out" | grep -c '# SKIP') skipped"
[ "$rc" -eq 0 ] || diag "$out"
like "$out" "^1\.\.[1-9]" "test_store ran its plan"
# Here is where its database cases must run: a skip would pass silently.
is "$(printf '%s\n' "$out" | grep -c '# SKIP')" 0 "test_store: no case skipped (PGHOST is set)"
is "$(printf '%s\n' "$out" | grep -c '^ok')" "$(printf '%s\n' "$out" | sed -n 's/^1\.\.//p')" \
	"test_store: every planned case passed"

# The schema as Grafana users see it: a freshly migrated, empty database.
out=$("$T" -p /store/migrate 2>&1) || { diag "$out"; bail "migration failed"; }
is "$(q "select string_agg(version::text, ',' order by version) from tlswatch.schema_version")" 1,2,3,4,5,6,7,8,9,10,11,12,13,14 \
	"schema_version lists migrations 1 to 14"
is "$(q "select string_agg(c.relname, ',' order by c.relname) from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'tlswatch' and c.relkind in ('r', 'p', 'v') and not c.relispartition")" \
	"alert_state,alerts,checks,domain_sessions,failures,imap_state,messages,policies,report_keys,reports,schema_version" "the tables"
is "$(q "select string_agg(table_name, ',' order by table_name) from information_schema.columns where table_schema = 'tlswatch' and column_name = 'id' and data_type = 'bigint' and is_identity = 'YES'")" \
	"alerts,checks,messages,policies,reports" "every id is a bigint identity (failures are keyed by their policy)"
# A new database: partitions from two years back to three months ahead,
# and the catch-alls on either side, in each of the four tables.
months=$(for m in $(seq -24 3); do date -u -d "$(date -u +%Y-%m-15) $m month" +%Y_%m; done)
for t in reports policies failures domain_sessions; do
	want=$( (echo "${t}_future"; echo "${t}_past"; for m in $months; do echo "${t}_$m"; done) | sort | paste -sd,)
	is "$(q "select string_agg(c.relname, ',' order by c.relname) from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'tlswatch.$t'::regclass")" \
		"$want" "$t: partitions $(echo "$months" | head -n 1) to $(echo "$months" | tail -n 1), past and future"
done
is "$(q "select count(*) from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'tlswatch' and not t.tgisinternal")" 0 \
	"no triggers"
is "$(q "select string_agg(c.relname, ',' order by c.relname) from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'tlswatch' and c.relkind in ('r', 'p', 'v') and obj_description(c.oid, 'pg_class') is null")" "" \
	"every table has a comment"
is "$(q "select string_agg(indexdef, E'\n' order by indexname) from pg_indexes i join pg_class c on c.relname = i.tablename and c.relnamespace = 'tlswatch'::regnamespace where schemaname = 'tlswatch' and not c.relispartition")" \
"CREATE UNIQUE INDEX alert_state_pkey ON tlswatch.alert_state USING btree (rule, domain, group_key)
CREATE INDEX alerts_created_at ON tlswatch.alerts USING btree (created_at)
CREATE INDEX alerts_pending ON tlswatch.alerts USING btree (next_attempt_at) WHERE (state = 'pending'::text)
CREATE UNIQUE INDEX alerts_pkey ON tlswatch.alerts USING btree (id)
CREATE INDEX alerts_rule_domain ON tlswatch.alerts USING btree (rule, domain, group_key, fired_at)
CREATE INDEX checks_domain ON tlswatch.checks USING btree (domain, checked_at)
CREATE UNIQUE INDEX checks_pkey ON tlswatch.checks USING btree (id)
CREATE INDEX domain_sessions_date_end ON ONLY tlswatch.domain_sessions USING btree (date_end)
CREATE INDEX domain_sessions_domain ON ONLY tlswatch.domain_sessions USING btree (policy_domain, date_start)
CREATE UNIQUE INDEX failures_pkey ON ONLY tlswatch.failures USING btree (policy_ref, detail_index, date_start)
CREATE UNIQUE INDEX imap_state_pkey ON tlswatch.imap_state USING btree (account)
CREATE UNIQUE INDEX messages_pkey ON tlswatch.messages USING btree (id)
CREATE INDEX messages_quarantined ON tlswatch.messages USING btree (id) WHERE (status = 'quarantined'::text)
CREATE INDEX messages_received_at ON tlswatch.messages USING btree (received_at)
CREATE INDEX messages_temperror ON tlswatch.messages USING btree (id) WHERE (dkim_result = 'temperror'::text)
CREATE INDEX policies_domain ON ONLY tlswatch.policies USING btree (policy_domain, date_start)
CREATE UNIQUE INDEX policies_pkey ON ONLY tlswatch.policies USING btree (report_ref, policy_index, date_start)
CREATE UNIQUE INDEX report_keys_pkey ON tlswatch.report_keys USING btree (organization_name, report_id)
CREATE INDEX reports_date_end ON ONLY tlswatch.reports USING btree (date_end, date_start)
CREATE INDEX reports_message_ref ON ONLY tlswatch.reports USING btree (message_ref)
CREATE UNIQUE INDEX reports_pkey ON ONLY tlswatch.reports USING btree (id, date_start)
CREATE UNIQUE INDEX schema_version_pkey ON tlswatch.schema_version USING btree (version)" \
	"the indexes"
like "$(q "insert into tlswatch.messages (status) values ('lost')" 2>&1)" "violates check constraint" \
	"messages.status is checked"
like "$(q "select obj_description('tlswatch.domain_sessions'::regclass)")" "not their sum" \
	"domain_sessions says why it takes the max"

# The server stopped: connecting is a temporary error (the MTA retries).
pg_stop_server
out=$(TLSWATCH_TEST_SERVER_DOWN=1 "$T" 2>&1); rc=$?
is "$rc" 0 "server down: store_open fails with ERR_TEMP"
[ "$rc" -eq 0 ] || diag "$out"
like "$out" "cannot connect to database: " "server down: the message names the database"
pg_start_server || bail "PostgreSQL did not start again"
is "$(q "select 1")" 1 "the server is back"

done_testing
