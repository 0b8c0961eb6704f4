-- floor-lmtp.sql: what PostgreSQL alone does per LMTP delivery, for
-- pgbench (make bench, the "lmtp floor" row): the transaction
-- ingest/store.c commits for a message of one report with one policy and
-- no failure-details, with the same statements (prepared: pgbench -M
-- prepared, as serve's kept connection has them), and nothing else: no
-- socket, no MIME, no JSON. Each transaction is a new report.
\set n random(1, 4000000000000)
BEGIN;
INSERT INTO tlswatch.messages (message_id, from_addr, subject, report_domain, report_submitter,
    status, reason, raw, channel, client, user_agent, authenticated, dkim_result, dkim_domain,
    dkim_selector, auth_note, dkim_signatures)
VALUES ('floor-' || :n || '@example.net', 'noreply-smtp-tls-reporting@google.com',
    'Report Domain: floor.example Submitter: google.com Report-ID: <' || :n || '>',
    'floor.example', 'google.com', 'stored', NULL, NULL, 'lmtp', NULL, NULL, false, 'none',
    NULL, NULL, 'unauthenticated: no DKIM signature', NULL)
RETURNING id;
WITH k AS (SELECT WHERE tlswatch.report_key_claim('Google Inc.', 'floor-' || :n,
        decode(md5(:n::text) || md5(:n::text), 'hex'), false,
        date_trunc('day', now()) - interval '1 day', date_trunc('day', now()) - interval '1 second')),
 r AS (INSERT INTO tlswatch.reports (message_ref, organization_name, report_id, contact_info,
        date_start, date_end, original, warnings, authenticated)
    SELECT currval('tlswatch.messages_id_seq'::regclass), 'Google Inc.', 'floor-' || :n,
        'smtp-tls-reporting@google.com', date_trunc('day', now()) - interval '1 day',
        date_trunc('day', now()) - interval '1 second',
        -- the report's JSON compressed, about as many bytes as serve's
        decode(repeat(md5(:n::text), 14), 'hex'),
        '{}'::text[], false FROM k
    RETURNING id, date_start, authenticated),
 p AS (INSERT INTO tlswatch.policies (report_ref, date_start, policy_index, policy_type,
        policy_domain, policy_string, mx_host, sts_mode, sts_max_age, successful_sessions,
        failed_sessions, authenticated)
    SELECT r.id, r.date_start, 0, 'sts', 'floor.example',
        '{"version: STSv1","mode: testing","mx: mx1.floor.example","mx: mx2.floor.example","max_age: 604800"}',
        '{mx1.floor.example,mx2.floor.example}', 'testing', 604800, 1234, 0, r.authenticated
    FROM r RETURNING id)
SELECT id FROM r;
COMMIT;
