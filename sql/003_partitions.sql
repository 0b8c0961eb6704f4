-- 003: reports, policies and failures partitioned by month of the report's
-- start date; one normalised spelling per domain and enumeration; smaller
-- rows. Converts a version-2 database in place, every row kept.
--
-- Why partitions: a digest or an alert pass reads days or weeks of a
-- history that grows by a month every month. With the report's start date
-- on every row of all three tables, a query that names its window touches
-- only that window's partitions, and retention drops whole months (DROP
-- TABLE, no DELETE, no bloat, no VACUUM).
--
-- Ranges stay contiguous from -infinity to +infinity, so an insert always
-- finds a partition, whatever date a reporter writes:
--   reports_past    (MINVALUE .. first month): a report dated in 1999
--   reports_YYYY_MM one per month, created ahead of time
--   reports_future  (after the last month .. MAXVALUE): a report dated 2031
-- tlswatch.create_partitions() moves the upper catch-all forward (and
-- the rows that now have a month of their own into it); `tlswatch db
-- migrate`, `db prune` and each `tlswatch alert` pass call it, so the
-- coming months exist long before the first report for them.
--
-- Why report_keys: a UNIQUE constraint on a partitioned table must contain
-- the partition key, so (organization_name, report_id) on reports would
-- quietly become unique per month. The key lives in its own unpartitioned
-- table instead, inserted first in the same statement: exactly one of
-- concurrent deliveries of a report wins, as before.

-- Months begin at 00:00 UTC whatever the server's or the session's time
-- zone (interval arithmetic and date_trunc follow TimeZone): every
-- function below sets it, and so does this migration for its own steps.
SET LOCAL TimeZone = 'UTC';

-- The monthly partitions of all three tables, named by their month.
CREATE FUNCTION tlswatch.partition_suffix(month timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE STRICT
SET search_path = pg_catalog
SET TimeZone = 'UTC'
AS $$ SELECT to_char(month AT TIME ZONE 'UTC', 'YYYY_MM') $$;

-- The bounds of a range partition of one of our tables: lower and upper as
-- timestamptz, NULL for MINVALUE / MAXVALUE.
CREATE FUNCTION tlswatch.partition_bounds(part regclass, OUT lower_bound timestamptz,
                                          OUT upper_bound timestamptz)
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog
SET TimeZone = 'UTC'
AS $$
DECLARE
    expr text := (SELECT pg_get_expr(c.relpartbound, c.oid) FROM pg_class c WHERE c.oid = part);
    m text[];
BEGIN
    -- FOR VALUES FROM ('2026-11-01 00:00:00+00') TO (MAXVALUE)
    m := regexp_match(expr, '^FOR VALUES FROM \((.*)\) TO \((.*)\)$');
    IF m IS NULL THEN
        RAISE EXCEPTION 'tlswatch: % is not a range partition (%)', part, expr;
    END IF;
    IF m[1] <> 'MINVALUE' THEN
        lower_bound := trim(both '''' from m[1])::timestamptz;
    END IF;
    IF m[2] <> 'MAXVALUE' THEN
        upper_bound := trim(both '''' from m[2])::timestamptz;
    END IF;
END
$$;

-- One table's partition for [lower, upper) (NULL: unbounded), created or
-- attached, with a comment that says which.
CREATE FUNCTION tlswatch.partition_create(parent text, part text, lower_bound timestamptz,
                                          upper_bound timestamptz, attach boolean)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog
SET TimeZone = 'UTC'
AS $$
DECLARE
    bounds text;
BEGIN
    bounds := format('FROM (%s) TO (%s)',
                     coalesce(quote_literal(lower_bound), 'MINVALUE'),
                     coalesce(quote_literal(upper_bound), 'MAXVALUE'));
    IF attach THEN
        EXECUTE format('ALTER TABLE tlswatch.%I ATTACH PARTITION tlswatch.%I FOR VALUES %s',
                       parent, part, bounds);
    ELSE
        EXECUTE format('CREATE TABLE tlswatch.%I PARTITION OF tlswatch.%I FOR VALUES %s',
                       part, parent, bounds);
    END IF;
    EXECUTE format('COMMENT ON TABLE tlswatch.%I IS %L', part,
                   format('Partition of tlswatch.%s: date_start %s.', parent, bounds));
END
$$;

-- Make sure every month up to and including the one of `upto` has its own
-- partitions in all three tables. Returns the partitions created. Cheap
-- when there is nothing to do (one catalog lookup); otherwise it locks the
-- three tables for a moment, in the order ingest writes them.
CREATE FUNCTION tlswatch.create_partitions(upto timestamptz)
RETURNS SETOF text
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog
SET TimeZone = 'UTC'
AS $$
DECLARE
    t text;
    next_month timestamptz;
    last_month timestamptz := date_trunc('month', upto, 'UTC');
BEGIN
    SELECT b.lower_bound INTO next_month
    FROM tlswatch.partition_bounds('tlswatch.reports_future'::regclass) b;
    IF next_month > last_month THEN
        RETURN;
    END IF;
    LOCK TABLE tlswatch.reports, tlswatch.policies, tlswatch.failures IN ACCESS EXCLUSIVE MODE;
    -- Again under the lock: a concurrent call may have done the work.
    SELECT b.lower_bound INTO next_month
    FROM tlswatch.partition_bounds('tlswatch.reports_future'::regclass) b;
    WHILE next_month <= last_month LOOP
        FOREACH t IN ARRAY ARRAY['reports', 'policies', 'failures'] LOOP
            EXECUTE format('ALTER TABLE tlswatch.%I DETACH PARTITION tlswatch.%I',
                           t, t || '_future');
            PERFORM tlswatch.partition_create(t, t || '_' || tlswatch.partition_suffix(next_month),
                                              next_month, next_month + interval '1 month', false);
            -- Rows dated ahead of time (a reporter's clock, a typo) move
            -- into the month that now exists for them.
            EXECUTE format('WITH moved AS (DELETE FROM tlswatch.%I WHERE date_start < $1 RETURNING *)'
                           ' INSERT INTO tlswatch.%I OVERRIDING SYSTEM VALUE SELECT * FROM moved',
                           t || '_future', t)
                USING next_month + interval '1 month';
            PERFORM tlswatch.partition_create(t, t || '_future',
                                              next_month + interval '1 month', NULL, true);
        END LOOP;
        RETURN NEXT 'reports_' || tlswatch.partition_suffix(next_month);
        next_month := next_month + interval '1 month';
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION tlswatch.create_partitions(timestamptz) FROM PUBLIC;
COMMENT ON FUNCTION tlswatch.create_partitions(timestamptz) IS
    'Create the monthly partitions of reports, policies and failures up to the month of the argument; returns the names of the reports partitions created.';

-- Retention: remove every report whose date_start is before the last
-- month boundary at or before `cutoff` (whole months: their partitions are
-- dropped), or before `cutoff` itself among the odd old reports of the
-- *_past partitions (row by row: they are few). With them go their dedup
-- keys, the messages received before `cutoff` that no longer deliver any
-- report (duplicates and quarantined ones included), and the alert
-- outbox's history (sent or failed rows created before `cutoff`). Returns
-- one row per thing removed: what, and how many rows. With dry_run,
-- counts and changes nothing. The partitions stay contiguous: *_past takes
-- over the range of the months dropped.
CREATE FUNCTION tlswatch.prune(cutoff timestamptz, dry_run boolean)
RETURNS TABLE (what text, removed bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog
SET TimeZone = 'UTC'
AS $$
DECLARE
    first_month timestamptz;
    boundary timestamptz;
    part record;
    t text;
    n bigint;
BEGIN
    SELECT b.upper_bound INTO first_month
    FROM tlswatch.partition_bounds('tlswatch.reports_past'::regclass) b;
    boundary := CASE WHEN cutoff >= first_month THEN date_trunc('month', cutoff, 'UTC')
                     ELSE cutoff END;
    IF NOT dry_run THEN
        LOCK TABLE tlswatch.reports, tlswatch.policies, tlswatch.failures IN ACCESS EXCLUSIVE MODE;
    END IF;

    -- The keys first: they are found through the reports about to go.
    IF dry_run THEN
        SELECT count(*) INTO n FROM tlswatch.reports WHERE date_start < boundary;
    ELSE
        DELETE FROM tlswatch.report_keys k USING tlswatch.reports r
        WHERE r.date_start < boundary
          AND k.organization_name = r.organization_name AND k.report_id = r.report_id;
        GET DIAGNOSTICS n = ROW_COUNT;
    END IF;
    what := 'report_keys'; removed := n; RETURN NEXT;

    FOREACH t IN ARRAY ARRAY['reports', 'policies', 'failures'] LOOP
        -- The odd old rows, one by one.
        IF dry_run THEN
            EXECUTE format('SELECT count(*) FROM tlswatch.%I WHERE date_start < $1', t || '_past')
                INTO n USING boundary;
        ELSE
            EXECUTE format('DELETE FROM tlswatch.%I WHERE date_start < $1', t || '_past')
                USING boundary;
            GET DIAGNOSTICS n = ROW_COUNT;
        END IF;
        what := t || '_past'; removed := n; RETURN NEXT;
        -- Whole months.
        FOR part IN
            SELECT c.oid::regclass AS rel, c.relname
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            CROSS JOIN LATERAL tlswatch.partition_bounds(c.oid) b
            WHERE i.inhparent = ('tlswatch.' || t)::regclass
              AND b.lower_bound IS NOT NULL AND b.upper_bound <= boundary
            ORDER BY b.lower_bound
        LOOP
            EXECUTE format('SELECT count(*) FROM %s', part.rel) INTO n;
            IF NOT dry_run THEN
                EXECUTE format('ALTER TABLE tlswatch.%I DETACH PARTITION %s', t, part.rel);
                EXECUTE format('DROP TABLE %s', part.rel);
            END IF;
            what := part.relname::text; removed := n; RETURN NEXT;
        END LOOP;
        -- *_past now reaches up to the first month kept.
        IF NOT dry_run AND boundary > first_month THEN
            EXECUTE format('ALTER TABLE tlswatch.%I DETACH PARTITION tlswatch.%I', t, t || '_past');
            PERFORM tlswatch.partition_create(t, t || '_past', NULL, boundary, true);
        END IF;
    END LOOP;

    IF dry_run THEN
        SELECT count(*) INTO n FROM tlswatch.messages m
        WHERE m.received_at < cutoff
          AND NOT EXISTS (SELECT FROM tlswatch.reports r
                          WHERE r.message_ref = m.id AND r.date_start >= boundary);
    ELSE
        DELETE FROM tlswatch.messages m
        WHERE m.received_at < cutoff
          AND NOT EXISTS (SELECT FROM tlswatch.reports r WHERE r.message_ref = m.id);
        GET DIAGNOSTICS n = ROW_COUNT;
    END IF;
    what := 'messages'; removed := n; RETURN NEXT;

    IF dry_run THEN
        SELECT count(*) INTO n FROM tlswatch.alerts
        WHERE created_at < cutoff AND state <> 'pending';
    ELSE
        DELETE FROM tlswatch.alerts WHERE created_at < cutoff AND state <> 'pending';
        GET DIAGNOSTICS n = ROW_COUNT;
    END IF;
    what := 'alerts'; removed := n; RETURN NEXT;
END
$$;
REVOKE ALL ON FUNCTION tlswatch.prune(timestamptz, boolean) FROM PUBLIC;
COMMENT ON FUNCTION tlswatch.prune(timestamptz, boolean) IS
    'tlswatch db prune: remove the reports (whole months), keys, messages and alert history older than the cutoff; with dry_run only count.';

-- ---- the version-2 tables step aside -------------------------------------

DROP VIEW tlswatch.domain_sessions;
ALTER TABLE tlswatch.failures RENAME TO failures_v2;
ALTER TABLE tlswatch.policies RENAME TO policies_v2;
ALTER TABLE tlswatch.reports RENAME TO reports_v2;
ALTER SEQUENCE tlswatch.failures_id_seq RENAME TO failures_v2_id_seq;
ALTER SEQUENCE tlswatch.policies_id_seq RENAME TO policies_v2_id_seq;
ALTER SEQUENCE tlswatch.reports_id_seq RENAME TO reports_v2_id_seq;
-- Their index names are wanted by the new tables; the copy needs only
-- the primary keys.
DROP INDEX tlswatch.reports_message_ref, tlswatch.reports_date_start, tlswatch.reports_date_end,
    tlswatch.policies_policy_domain;
ALTER INDEX tlswatch.reports_pkey RENAME TO reports_v2_pkey;
ALTER INDEX tlswatch.policies_pkey RENAME TO policies_v2_pkey;
ALTER INDEX tlswatch.failures_pkey RENAME TO failures_v2_pkey;

-- ---- the new tables -------------------------------------------------------

CREATE TABLE tlswatch.report_keys (
    organization_name text NOT NULL,
    report_id         text NOT NULL,
    PRIMARY KEY (organization_name, report_id)
);
COMMENT ON TABLE tlswatch.report_keys IS
    'One row per stored report: what makes a re-delivered report a duplicate. Kept apart from the partitioned reports table so that the key is unique over all months; tlswatch db prune removes the keys with their reports.';

CREATE TABLE tlswatch.reports (
    id                bigint GENERATED ALWAYS AS IDENTITY,
    message_ref       bigint NOT NULL REFERENCES tlswatch.messages (id),
    organization_name text NOT NULL,
    report_id         text NOT NULL,
    contact_info      text,
    date_start        timestamptz NOT NULL,
    date_end          timestamptz NOT NULL,
    document          jsonb NOT NULL,
    warnings          text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (id, date_start)
) PARTITION BY RANGE (date_start);
CREATE INDEX reports_message_ref ON tlswatch.reports (message_ref);
CREATE INDEX reports_date_end ON tlswatch.reports (date_end);
COMMENT ON TABLE tlswatch.reports IS
    'One row per TLS report (RFC 8460), partitioned by month of date_start. A re-delivered report (same organization_name and report_id, see report_keys) is stored once; its message is marked duplicate.';
COMMENT ON COLUMN tlswatch.reports.message_ref IS 'The message that first delivered this report.';
COMMENT ON COLUMN tlswatch.reports.organization_name IS 'organization-name: the reporter (Google Inc., Microsoft Corporation, ...).';
COMMENT ON COLUMN tlswatch.reports.report_id IS 'report-id: unique per reporter.';
COMMENT ON COLUMN tlswatch.reports.contact_info IS 'contact-info, NULL when absent.';
COMMENT ON COLUMN tlswatch.reports.date_start IS
    'date-range.start-datetime (a missing zone is read as UTC, with a warning); the partition key of reports, policies and failures.';
COMMENT ON COLUMN tlswatch.reports.date_end IS 'date-range.end-datetime.';
COMMENT ON COLUMN tlswatch.reports.document IS
    'The report as the reporter sent it, unknown fields and original spellings included.';
COMMENT ON COLUMN tlswatch.reports.warnings IS 'One line per leniency applied while reading the report (empty for a clean report).';

-- No index on id alone: policies are found from their report, failures
-- from their policy (the primary keys), and by domain (policies_domain).
-- Fixed-width columns first: no alignment padding between them.
CREATE TABLE tlswatch.policies (
    id                  bigint GENERATED ALWAYS AS IDENTITY,
    report_ref          bigint NOT NULL,
    date_start          timestamptz NOT NULL,
    successful_sessions bigint NOT NULL CHECK (successful_sessions >= 0),
    failed_sessions     bigint NOT NULL CHECK (failed_sessions >= 0),
    sts_max_age         bigint,
    policy_index        integer NOT NULL,
    policy_type         text NOT NULL,
    policy_domain       text NOT NULL,
    sts_mode            text,
    policy_string       text[] NOT NULL,
    mx_host             text[] NOT NULL,
    PRIMARY KEY (report_ref, policy_index, date_start)
) PARTITION BY RANGE (date_start);
CREATE INDEX policies_domain ON tlswatch.policies (policy_domain, date_start);
COMMENT ON TABLE tlswatch.policies IS
    'One row per policies[] entry of a report. To count sessions per domain use the view tlswatch.domain_sessions: a reporter may list the same sessions under several policies.';
COMMENT ON COLUMN tlswatch.policies.report_ref IS 'reports.id of the report.';
COMMENT ON COLUMN tlswatch.policies.date_start IS 'The report''s date_start (the partition key).';
COMMENT ON COLUMN tlswatch.policies.policy_index IS 'Position in the report''s policies array, from 0.';
COMMENT ON COLUMN tlswatch.policies.policy_type IS
    'policy-type, lower-cased: sts, tlsa, no-policy-found, or as sent.';
COMMENT ON COLUMN tlswatch.policies.policy_domain IS
    'policy-domain, normalised: ASCII lower-case, without trailing dots (the spelling sent is in reports.document); the TLS-Report-Domain header when the report omits it.';
COMMENT ON COLUMN tlswatch.policies.policy_string IS 'policy-string, one element per line.';
COMMENT ON COLUMN tlswatch.policies.mx_host IS 'mx-host entries.';
COMMENT ON COLUMN tlswatch.policies.sts_mode IS 'mode: from an MTA-STS policy-string, lower-cased (testing, enforce, none), else NULL.';
COMMENT ON COLUMN tlswatch.policies.sts_max_age IS 'max_age: from an MTA-STS policy-string, in seconds, else NULL.';
COMMENT ON COLUMN tlswatch.policies.successful_sessions IS 'summary.total-successful-session-count.';
COMMENT ON COLUMN tlswatch.policies.failed_sessions IS 'summary.total-failure-session-count.';

CREATE TABLE tlswatch.failures (
    policy_ref             bigint NOT NULL,
    date_start             timestamptz NOT NULL,
    failed_sessions        bigint NOT NULL CHECK (failed_sessions >= 0),
    detail_index           integer NOT NULL,
    result_type            text NOT NULL,
    sending_mta_ip         inet,
    receiving_mx_hostname  text,
    receiving_mx_helo      text,
    receiving_ip           inet,
    additional_information text,
    failure_reason_code    text,
    PRIMARY KEY (policy_ref, detail_index, date_start)
) PARTITION BY RANGE (date_start);
COMMENT ON TABLE tlswatch.failures IS
    'One row per failure-details entry of a policy. Entries may overlap, so they need not add up to policies.failed_sessions.';
COMMENT ON COLUMN tlswatch.failures.policy_ref IS 'policies.id of the policy.';
COMMENT ON COLUMN tlswatch.failures.detail_index IS 'Position in the policy''s failure-details array, from 0.';
COMMENT ON COLUMN tlswatch.failures.date_start IS 'The report''s date_start (the partition key).';
COMMENT ON COLUMN tlswatch.failures.result_type IS
    'result-type, lower-cased: starttls-not-supported, certificate-expired, validation-failure, sts-policy-fetch-error, ... or as sent.';
COMMENT ON COLUMN tlswatch.failures.sending_mta_ip IS
    'sending-mta-ip; NULL when absent or not an IP address (the text stays in reports.document).';
COMMENT ON COLUMN tlswatch.failures.receiving_ip IS
    'receiving-ip; NULL when absent or not an IP address (the text stays in reports.document).';
COMMENT ON COLUMN tlswatch.failures.failed_sessions IS 'failed-session-count.';

-- ---- the first partitions ---------------------------------------------------

-- Two years back, so that a history imported later (tlswatch ingest of a
-- folder of old reports) lands in months of its own, not all in *_past;
-- anything older goes to *_past. Three months ahead.
DO $$
DECLARE
    this_month timestamptz := date_trunc('month', now(), 'UTC');
    first_month timestamptz := this_month - interval '24 months';
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['reports', 'policies', 'failures'] LOOP
        PERFORM tlswatch.partition_create(t, t || '_past', NULL, first_month, false);
        PERFORM tlswatch.partition_create(t, t || '_future', first_month, NULL, false);
    END LOOP;
    PERFORM tlswatch.create_partitions(this_month + interval '3 months');
END
$$;

-- ---- the rows, ids kept -----------------------------------------------------

-- ASCII only, whatever the database's collation: DNS names compare
-- case-insensitively in ASCII alone (RFC 4343), as ingest now writes them.
CREATE FUNCTION pg_temp.ascii_lower(s text) RETURNS text LANGUAGE sql IMMUTABLE
AS $$ SELECT translate(s, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') $$;

INSERT INTO tlswatch.report_keys (organization_name, report_id)
SELECT organization_name, report_id FROM tlswatch.reports_v2;

INSERT INTO tlswatch.reports OVERRIDING SYSTEM VALUE
SELECT id, message_ref, organization_name, report_id, contact_info, date_start, date_end,
       document, warnings
FROM tlswatch.reports_v2;

INSERT INTO tlswatch.policies (id, report_ref, date_start, successful_sessions, failed_sessions,
                               sts_max_age, policy_index, policy_type, policy_domain, sts_mode,
                               policy_string, mx_host) OVERRIDING SYSTEM VALUE
SELECT p.id, p.report_ref, r.date_start, p.successful_sessions, p.failed_sessions, p.sts_max_age,
       p.policy_index, pg_temp.ascii_lower(p.policy_type),
       rtrim(pg_temp.ascii_lower(p.policy_domain), '.'), pg_temp.ascii_lower(p.sts_mode),
       p.policy_string, p.mx_host
FROM tlswatch.policies_v2 p JOIN tlswatch.reports_v2 r ON r.id = p.report_ref;

INSERT INTO tlswatch.failures (policy_ref, date_start, failed_sessions, detail_index, result_type,
                               sending_mta_ip, receiving_mx_hostname, receiving_mx_helo,
                               receiving_ip, additional_information, failure_reason_code)
SELECT f.policy_ref, r.date_start, f.failed_sessions, f.detail_index,
       pg_temp.ascii_lower(f.result_type), f.sending_mta_ip, f.receiving_mx_hostname,
       f.receiving_mx_helo, f.receiving_ip, f.additional_information, f.failure_reason_code
FROM tlswatch.failures_v2 f JOIN tlswatch.policies_v2 p ON p.id = f.policy_ref
JOIN tlswatch.reports_v2 r ON r.id = p.report_ref;

-- The identities go on from where version 2 stopped.
SELECT setval(pg_get_serial_sequence('tlswatch.reports', 'id'),
              (SELECT coalesce(max(id), 0) + 1 FROM tlswatch.reports_v2), false);
SELECT setval(pg_get_serial_sequence('tlswatch.policies', 'id'),
              (SELECT coalesce(max(id), 0) + 1 FROM tlswatch.policies_v2), false);

DROP TABLE tlswatch.failures_v2, tlswatch.policies_v2, tlswatch.reports_v2;

-- ---- the alert state --------------------------------------------------------

-- Each alert pass asks, per rule, which domains and groups are in
-- cooldown and which firings are open. Asked of tlswatch.alerts, that is
-- an aggregate over every row the rule ever wrote; this table holds the
-- answer, one row per rule, domain and group, written in the transaction
-- that writes the outbox rows (under the same advisory lock).
CREATE TABLE tlswatch.alert_state (
    rule          text NOT NULL,
    domain        text NOT NULL,
    group_key     text NOT NULL,
    last_event    text NOT NULL CHECK (last_event IN ('firing', 'resolved')),
    last_event_at timestamptz NOT NULL,
    last_fired_at timestamptz,
    PRIMARY KEY (rule, domain, group_key)
);
COMMENT ON TABLE tlswatch.alert_state IS
    'Per rule, domain and group: the last event in tlswatch.alerts and when it last fired (cooldowns, open firings).';
COMMENT ON COLUMN tlswatch.alert_state.last_event IS 'firing: open, until a resolved event (notify-resolved).';
COMMENT ON COLUMN tlswatch.alert_state.last_event_at IS 'fired_at of that event.';
COMMENT ON COLUMN tlswatch.alert_state.last_fired_at IS 'The latest fired_at of a firing: the cooldown runs from it.';

INSERT INTO tlswatch.alert_state
SELECT DISTINCT ON (rule, domain, group_key) rule, domain, group_key, event, fired_at,
       max(fired_at) FILTER (WHERE event = 'firing') OVER (PARTITION BY rule, domain, group_key)
FROM tlswatch.alerts
ORDER BY rule, domain, group_key, fired_at DESC, id DESC;

-- ---- the public view ------------------------------------------------------

-- Microsoft lists the same sessions under an sts and a tlsa policy for one
-- domain, so summing policies counts them twice: take the larger of each.
-- date_start is a grouping column, so a filter on it reaches the
-- partitions: WHERE date_start >= now() - interval '7 days' reads a week.
CREATE VIEW tlswatch.domain_sessions AS
SELECT report_ref,
       policy_domain,
       max(successful_sessions) AS successful_sessions,
       max(failed_sessions) AS failed_sessions,
       date_start
FROM tlswatch.policies
GROUP BY report_ref, date_start, policy_domain;
COMMENT ON VIEW tlswatch.domain_sessions IS
    'Sessions per report and policy domain. A reporter may list the same sessions under several policies for one domain (Microsoft: sts and tlsa), so each count is the largest of those policies, not their sum. Sum this view over reports for totals; filter on date_start to read only the partitions of a period.';
