-- 011: a report's JSON kept compressed, in reports.original.
--
-- reports.document held each report again as jsonb, 915 of the 1,064
-- bytes of an average row: most of what a window query read from the
-- reports heap was JSON it never looked at, and PostgreSQL compresses no
-- row under about 2 KB, so it stayed that size. ingest now writes the
-- JSON as received, deflated against a dictionary of RFC 8460's
-- vocabulary (common/original.c): about 240 bytes for the same report,
-- the bytes the reporter sent rather than jsonb's reading of them.
-- `tlswatch db report ID` prints it. Every figure of a report is in
-- policies and failures, as before.
--
-- Rows stored before keep their document (rewriting a year of reports in
-- one migration would hold deliveries for as long); prune takes them away
-- with their months.

ALTER TABLE tlswatch.reports ADD COLUMN original bytea;
ALTER TABLE tlswatch.reports ALTER COLUMN document DROP NOT NULL;
COMMENT ON COLUMN tlswatch.reports.original IS
    'The report''s JSON exactly as received (after gzip or zip), zlib-compressed (RFC 1950) against tlswatch''s dictionary: read it with tlswatch db report ID. NULL in rows stored before schema version 11, which have document instead.';
COMMENT ON COLUMN tlswatch.reports.document IS
    'The report as the reporter sent it, as jsonb, in rows stored before schema version 11; NULL since (see original).';
COMMENT ON COLUMN tlswatch.policies.policy_domain IS
    'policy-domain, normalised: ASCII lower-case, without trailing dots (the spelling sent is in the report''s JSON: reports.original); the TLS-Report-Domain header when the report omits it.';
COMMENT ON COLUMN tlswatch.failures.sending_mta_ip IS
    'sending-mta-ip; NULL when absent or not an IP address (the text stays in the report''s JSON: reports.original).';
COMMENT ON COLUMN tlswatch.failures.receiving_ip IS
    'receiving-ip; NULL when absent or not an IP address (the text stays in the report''s JSON: reports.original).';
