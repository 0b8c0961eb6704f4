-- roles.sql: least-privilege roles for tlswatch, run by the DBA after
-- `tlswatch db init` (and again after each `tlswatch db migrate`):
--
--   runuser -u postgres -- psql -d tlswatch -v ON_ERROR_STOP=1 -f roles.sql
--
-- tlswatch_ingest (LOGIN): what `tlswatch ingest` and `tlswatch quarantine`
--   need: insert messages, reports, policies and failures, read them back
--   (RETURNING, duplicates, the quarantine), insert and read the dedup key
--   of each report (report_keys: the key goes in first, ON CONFLICT DO
--   NOTHING, and a key already there makes the message a duplicate),
--   update a message's status (quarantine retry), and USAGE on the
--   schema's sequences (the identity columns': ingest reads back the id it
--   inserted with currval). No DELETE, no TRUNCATE, no DDL. Grant it to the
--   mail account's own login role, CREATE ROLE tlswatch LOGIN IN ROLE
--   tlswatch_ingest (peer authentication then needs no password:
--   contrib/postfix/README), or log in as tlswatch_ingest itself (a
--   password, or a pg_ident.conf map).
--   It may also EXECUTE tlswatch.create_partitions(timestamptz): each
--   `tlswatch alert` pass creates the monthly partitions of the coming
--   three months with it, and the alert pass runs as the same account as
--   ingest (contrib/systemd/tlswatch-alert.service, contrib/cron). The
--   function is SECURITY DEFINER (it runs as the schema owner, and can
--   only add months and move the rows dated in them there) and revoked
--   from PUBLIC, so this grant is the only way to it.
--   The same account runs `tlswatch alert` (the pass, --list, --test, and
--   alert-on-ingest, which runs inside ingest) and `tlswatch digest`: it
--   reads failures and domain_sessions, and writes the alert
--   state and outbox (alert_state, alerts: insert, and update a row's
--   delivery state; never delete).
-- tlswatch_read (NOLOGIN): SELECT on every table and view of the schema,
--   now and later (default privileges); give it to a dashboard's login role:
--   CREATE ROLE grafana LOGIN IN ROLE tlswatch_read;
--
-- Retention (`tlswatch db prune`, contrib/systemd/tlswatch-prune.*) has no
-- role here, on purpose: it drops whole monthly partitions, and in
-- PostgreSQL only a table's owner may DROP or DETACH it; no GRANT gives
-- that. So prune runs as the schema owner, the role that ran `tlswatch db
-- init`: postgres when you followed README (`runuser -u postgres -- tlswatch db
-- init`), hence User=postgres in tlswatch-prune.service and the postgres
-- account in contrib/cron/tlswatch. The delivery account is refused
-- ("permission denied for function prune", exit 78), which is the point:
-- the account that reads mail from the internet never deletes.
--
-- Idempotent; sets no password. The schema owner (the role that ran
-- `db init`) keeps its rights.

\set ON_ERROR_STOP on

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tlswatch_ingest') THEN
        CREATE ROLE tlswatch_ingest LOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tlswatch_read') THEN
        CREATE ROLE tlswatch_read NOLOGIN;
    END IF;
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO tlswatch_ingest, tlswatch_read',
                   current_database());
END
$$;

-- Start from nothing, so that running this again also takes back what an
-- older version of the script granted.
REVOKE ALL ON ALL TABLES IN SCHEMA tlswatch FROM tlswatch_ingest, tlswatch_read;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA tlswatch FROM tlswatch_ingest, tlswatch_read;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA tlswatch FROM tlswatch_ingest, tlswatch_read;
REVOKE ALL ON SCHEMA tlswatch FROM tlswatch_ingest, tlswatch_read;
GRANT USAGE ON SCHEMA tlswatch TO tlswatch_ingest, tlswatch_read;

GRANT SELECT ON tlswatch.schema_version TO tlswatch_ingest;
GRANT SELECT, INSERT, UPDATE ON tlswatch.messages TO tlswatch_ingest;
GRANT SELECT, INSERT ON tlswatch.reports, tlswatch.policies TO tlswatch_ingest;
-- tlswatch db reverify: the verdict of a second DKIM check, nothing else.
GRANT UPDATE (authenticated) ON tlswatch.reports, tlswatch.policies TO tlswatch_ingest;
GRANT SELECT, INSERT ON tlswatch.failures TO tlswatch_ingest;
-- The sessions per report and domain, written with the report (schema
-- version 13); a copy that vouches, or db reverify, sets authenticated.
GRANT SELECT, INSERT, UPDATE (authenticated) ON tlswatch.domain_sessions TO tlswatch_ingest;
-- alert: the state per rule and domain (INSERT ... ON CONFLICT DO UPDATE)
-- and the outbox (a row per notification, its delivery state updated).
GRANT SELECT, INSERT, UPDATE ON tlswatch.alert_state, tlswatch.alerts TO tlswatch_ingest;
-- The dedup key, claimed before the report by report_key_claim (invoker's
-- rights: INSERT ... ON CONFLICT DO NOTHING, then a look at the stored
-- content digest).
GRANT SELECT, INSERT ON tlswatch.report_keys TO tlswatch_ingest;
-- tlswatch fetch: where each mailbox was left.
GRANT SELECT, INSERT, UPDATE ON tlswatch.imap_state TO tlswatch_ingest;
-- tlswatch check --save.
GRANT SELECT, INSERT ON tlswatch.checks TO tlswatch_ingest;
GRANT EXECUTE ON FUNCTION tlswatch.report_key_claim(text, text, bytea, boolean, timestamptz, timestamptz) TO tlswatch_ingest;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA tlswatch TO tlswatch_ingest;
-- The alert pass (same account as ingest) keeps the next three months'
-- partitions ready. SECURITY DEFINER: runs as the schema owner; without
-- this grant the pass only warns, and reports for months not created yet
-- wait in the *_future partitions until db migrate or db prune creates them.
GRANT EXECUTE ON FUNCTION tlswatch.create_partitions(timestamptz) TO tlswatch_ingest;

GRANT SELECT ON ALL TABLES IN SCHEMA tlswatch TO tlswatch_read;

-- Tables and views that later migrations create (as the schema owner) are
-- readable by dashboards too; ingest gets new grants only in this file.
DO $$
BEGIN
    EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA tlswatch'
                   ' GRANT SELECT ON TABLES TO tlswatch_read',
                   (SELECT r.rolname FROM pg_namespace n
                    JOIN pg_roles r ON r.oid = n.nspowner WHERE n.nspname = 'tlswatch'));
END
$$;
