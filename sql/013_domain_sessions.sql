-- 013: domain_sessions becomes a table, written when a report is stored.
--
-- Every figure tlswatch shows starts from the sessions of a report for one
-- domain: the largest count among the report's policies for that domain
-- (Microsoft lists the same sessions under sts and tlsa). The view
-- domain_sessions computed that with a GROUP BY over policies, joined to
-- reports for the reporter and the end date, at every query: the alert
-- pass did it three times over up to 33 days (two thirds of its time), the
-- digest over two periods. The store now writes that row once, in the
-- statement that stores the report (ingest/store.c), with what the
-- queries need beside it: the reporter and the report's id, the end date
-- and whether the report counts (authenticated). The queries read one table, no join and
-- no grouping, and the users' SQL that reads domain_sessions keeps its
-- columns and gets faster.
--
-- Partitioned like the others, by month of date_start, with the same
-- bounds: create_partitions and prune now keep four tables in step.
-- Written only by ingest; report_key_claim (a copy that vouches) and
-- db reverify update its authenticated column with the report's.

SET LOCAL TimeZone = 'UTC';

DROP VIEW tlswatch.domain_sessions;

-- Fixed-width columns first: no alignment padding between them.
CREATE TABLE tlswatch.domain_sessions (
    report_ref          bigint NOT NULL,
    date_start          timestamptz NOT NULL,
    date_end            timestamptz NOT NULL,
    successful_sessions bigint NOT NULL,
    failed_sessions     bigint NOT NULL,
    authenticated       boolean,
    policy_domain       text NOT NULL,
    organization_name   text NOT NULL,
    report_id           text NOT NULL
) PARTITION BY RANGE (date_start);
-- The alert pass reads a window of date_end over every domain; digest
-- --domain and alert-on-ingest a few domains over a period. No key: a
-- row is unique per (report_ref, date_start, policy_domain) because the
-- store groups by it and the report key admits each report once, and an
-- index to enforce it would cost a quarter of the row's bytes for the
-- rare copy that vouches for a report (report_key_claim, db reverify),
-- whose UPDATE reads the one month's partition instead.
CREATE INDEX domain_sessions_date_end ON tlswatch.domain_sessions (date_end);
CREATE INDEX domain_sessions_domain ON tlswatch.domain_sessions (policy_domain, date_start);
COMMENT ON TABLE tlswatch.domain_sessions IS
    'Sessions per report and policy domain. A reporter may list the same sessions under several policies for one domain (Microsoft: sts and tlsa), so each count is the largest of those policies, not their sum. Sum this table over reports for totals; filter on date_start to read only the partitions of a period. Written by ingest with the report (a view over policies before schema version 13).';
COMMENT ON COLUMN tlswatch.domain_sessions.report_ref IS 'reports.id of the report.';
COMMENT ON COLUMN tlswatch.domain_sessions.date_start IS 'The report''s date_start (the partition key).';
COMMENT ON COLUMN tlswatch.domain_sessions.date_end IS 'The report''s date_end.';
COMMENT ON COLUMN tlswatch.domain_sessions.successful_sessions IS
    'The largest total-successful-session-count among the report''s policies for the domain.';
COMMENT ON COLUMN tlswatch.domain_sessions.failed_sessions IS
    'The largest total-failure-session-count among the report''s policies for the domain.';
COMMENT ON COLUMN tlswatch.domain_sessions.authenticated IS 'reports.authenticated of its report.';
COMMENT ON COLUMN tlswatch.domain_sessions.policy_domain IS 'policies.policy_domain (normalised).';
COMMENT ON COLUMN tlswatch.domain_sessions.organization_name IS 'The report''s organization_name.';
COMMENT ON COLUMN tlswatch.domain_sessions.report_id IS 'The report''s report_id.';

-- One partition for each of reports', same name after the table's, same
-- bounds.
DO $$
DECLARE
    part record;
BEGIN
    FOR part IN
        SELECT c.relname, b.lower_bound, b.upper_bound
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        CROSS JOIN LATERAL tlswatch.partition_bounds(c.oid) b
        WHERE i.inhparent = 'tlswatch.reports'::regclass
    LOOP
        PERFORM tlswatch.partition_create('domain_sessions',
                                          'domain_sessions' || substr(part.relname, 8),
                                          part.lower_bound, part.upper_bound, false);
    END LOOP;
END
$$;

INSERT INTO tlswatch.domain_sessions
SELECT p.report_ref, p.date_start, r.date_end, max(p.successful_sessions),
       max(p.failed_sessions), r.authenticated, p.policy_domain, r.organization_name,
       r.report_id
FROM tlswatch.policies p
JOIN tlswatch.reports r ON r.id = p.report_ref AND r.date_start = p.date_start
GROUP BY p.report_ref, p.date_start, p.policy_domain, r.date_end, r.authenticated,
         r.organization_name, r.report_id;

COMMENT ON TABLE tlswatch.policies IS
    'One row per policies[] entry of a report. To count sessions per domain use tlswatch.domain_sessions: a reporter may list the same sessions under several policies.';

-- ---- create_partitions and prune: four tables ------------------------------

CREATE OR REPLACE FUNCTION tlswatch.create_partitions(upto timestamptz)
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
    LOCK TABLE tlswatch.reports, tlswatch.policies, tlswatch.failures, tlswatch.domain_sessions
        IN ACCESS EXCLUSIVE MODE;
    -- Again under the lock: a concurrent call may have done the work.
    SELECT b.lower_bound INTO next_month
    FROM tlswatch.partition_bounds('tlswatch.reports_future'::regclass) b;
    WHILE next_month <= last_month LOOP
        FOREACH t IN ARRAY ARRAY['reports', 'policies', 'failures', 'domain_sessions'] LOOP
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
COMMENT ON FUNCTION tlswatch.create_partitions(timestamptz) IS
    'Create the monthly partitions of reports, policies, failures and domain_sessions up to the month of the argument; returns the names of the reports partitions created.';

-- As in 003, with domain_sessions among the tables.
CREATE OR REPLACE FUNCTION tlswatch.prune(cutoff timestamptz, dry_run boolean)
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
        LOCK TABLE tlswatch.reports, tlswatch.policies, tlswatch.failures,
            tlswatch.domain_sessions IN ACCESS EXCLUSIVE MODE;
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

    FOREACH t IN ARRAY ARRAY['reports', 'policies', 'failures', 'domain_sessions'] LOOP
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

-- ---- a copy that vouches makes the domain's sessions count too -------------

CREATE OR REPLACE FUNCTION tlswatch.report_key_claim(org text, id text, digest bytea,
                                                     vouched boolean, report_start timestamptz,
                                                     report_end timestamptz)
RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    stored bytea;
    report bigint;
BEGIN
    INSERT INTO tlswatch.report_keys (organization_name, report_id, content)
    VALUES (org, id, digest) ON CONFLICT DO NOTHING;
    IF FOUND THEN
        RETURN true;
    END IF;
    SELECT k.content INTO stored FROM tlswatch.report_keys k
    WHERE k.organization_name = org AND k.report_id = id;
    IF stored IS DISTINCT FROM digest AND stored IS NOT NULL AND digest IS NOT NULL THEN
        RAISE unique_violation USING
            MESSAGE = format('report %s of %s was stored before with different content',
                             id, org);
    END IF;
    IF vouched THEN
        UPDATE tlswatch.reports r SET authenticated = true
        -- reports has an id column of its own: the argument is named in full.
        WHERE r.organization_name = org AND r.report_id = report_key_claim.id
          AND r.date_start = report_start AND r.date_end = report_end
          AND r.authenticated IS FALSE
        RETURNING r.id INTO report;
        IF report IS NOT NULL THEN
            UPDATE tlswatch.policies p SET authenticated = true
            WHERE p.report_ref = report AND p.date_start = report_start;
            UPDATE tlswatch.domain_sessions d SET authenticated = true
            WHERE d.report_ref = report AND d.date_start = report_start;
        END IF;
    END IF;
    RETURN false;
END $$;
