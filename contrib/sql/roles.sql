-- roles.sql: least-privilege roles for tlswatch, run by the DBA after
-- `tlswatch db init` (and again after each `tlswatch db migrate`):
--
--   sudo -u postgres psql -d tlswatch -v ON_ERROR_STOP=1 -f roles.sql
--
-- tlswatch_ingest (LOGIN): what `tlswatch ingest` and `tlswatch quarantine`
--   need: insert messages, reports, policies and failures, read them back
--   (RETURNING, duplicates, the quarantine), update a message's status
--   (quarantine retry), and USAGE on the schema's sequences (the identity
--   columns': ingest reads back the id it inserted with currval). No
--   DELETE, no TRUNCATE, no DDL. Grant it to the mail account's own login
--   role, CREATE ROLE tlswatch LOGIN IN ROLE tlswatch_ingest (peer
--   authentication then needs no password: contrib/postfix/README), or log
--   in as tlswatch_ingest itself (a password, or a pg_ident.conf map).
-- tlswatch_read (NOLOGIN): SELECT on every table and view of the schema,
--   now and later (default privileges); give it to a dashboard's login role:
--   CREATE ROLE grafana LOGIN IN ROLE tlswatch_read;
-- (issue 5, tlswatch alert: its role and outbox grants go here.)
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
REVOKE ALL ON SCHEMA tlswatch FROM tlswatch_ingest, tlswatch_read;
GRANT USAGE ON SCHEMA tlswatch TO tlswatch_ingest, tlswatch_read;

GRANT SELECT ON tlswatch.schema_version TO tlswatch_ingest;
GRANT SELECT, INSERT, UPDATE ON tlswatch.messages TO tlswatch_ingest;
GRANT SELECT, INSERT ON tlswatch.reports, tlswatch.policies TO tlswatch_ingest;
GRANT INSERT ON tlswatch.failures TO tlswatch_ingest;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA tlswatch TO tlswatch_ingest;

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
