-- 010: the key claim also makes an authenticated copy count.
--
-- Until now the statement that stores a report (ingest/store.c) held two
-- UPDATEs of its own for the rare copy that vouches for a report stored
-- unauthenticated (an HTTPS POST first, then the signed mail). Those two
-- UPDATEs of partitioned tables made PostgreSQL plan the whole statement
-- again at every execution: a custom plan, with every partition of
-- reports and policies considered, cost 2.2 ms a report, two thirds of
-- the database's time per delivery. In here they run, and are planned,
-- only when a copy arrives authenticated for a report that is not.

DROP FUNCTION tlswatch.report_key_claim(text, text, bytea);

-- Claim the key of a report about to be stored: true when it is new,
-- false for a duplicate, an error (unique_violation, SQLSTATE 23505) when
-- the key was stored with other content. A duplicate that is
-- authenticated (vouched) makes the stored report and its policies
-- authenticated, when they were stored unauthenticated (false, not NULL:
-- NULL was never judged): the copy vouches for the same content, since a
-- different content is refused above. Invoker's rights: whoever may
-- insert into report_keys and set reports.authenticated may call it.
CREATE FUNCTION tlswatch.report_key_claim(org text, id text, digest bytea, vouched boolean,
                                          report_start timestamptz, report_end timestamptz)
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
        END IF;
    END IF;
    RETURN false;
END $$;
