-- 007: who vouches for a message (ingest/trust.h). Anyone can mail a rua
-- address or POST to an https one: a report counts toward alerts and
-- readiness only when it is authenticated, by a DKIM signature aligned
-- with its reporter or by [ingest] trusted-reporters. NULL in rows stored
-- before this version, or with [ingest] dkim = off: not judged.
ALTER TABLE tlswatch.messages
    ADD COLUMN authenticated boolean,
    ADD COLUMN dkim_result text CHECK (dkim_result IN
        ('pass', 'fail', 'none', 'neutral', 'policy', 'temperror', 'permerror')),
    ADD COLUMN dkim_domain text,
    ADD COLUMN dkim_selector text,
    ADD COLUMN auth_note text,
    ADD COLUMN dkim_signatures jsonb;
COMMENT ON COLUMN tlswatch.messages.authenticated IS
    'true: a passing DKIM signature aligned with the reporter (TLS-Report-Submitter, else From), or a trusted reporter; false: not; NULL: not judged (dkim = off, or stored before schema version 7).';
COMMENT ON COLUMN tlswatch.messages.dkim_result IS
    'The RFC 8601 result of the signature that decided (pass, fail, none, neutral, policy, temperror, permerror); none: no signature.';
COMMENT ON COLUMN tlswatch.messages.dkim_domain IS 'd= of that signature.';
COMMENT ON COLUMN tlswatch.messages.dkim_selector IS 's= of that signature.';
COMMENT ON COLUMN tlswatch.messages.auth_note IS
    'Why it is or is not authenticated, in words: "dkim pass d=google.com, aligned with google.com", "unauthenticated (https) from 192.0.2.1".';
COMMENT ON COLUMN tlswatch.messages.dkim_signatures IS
    'Every signature: [{"result", "domain", "selector", "error", "body-length" (an l= tag), "tlsrpt-key" (the key allows the tlsrpt service)}]; NULL when no evidence was gathered.';

-- Copied from the message that first delivered the report, onto the
-- report and its policies, so that the queries of alert and digest filter
-- the rows they already read (the digest reads policies alone).
ALTER TABLE tlswatch.reports ADD COLUMN authenticated boolean;
COMMENT ON COLUMN tlswatch.reports.authenticated IS
    'messages.authenticated of the message that first delivered it.';
ALTER TABLE tlswatch.policies ADD COLUMN authenticated boolean;
COMMENT ON COLUMN tlswatch.policies.authenticated IS
    'reports.authenticated of its report.';

-- tlswatch db reverify finds what a DNS failure left unjudged without
-- reading the whole table.
CREATE INDEX messages_temperror ON tlswatch.messages (id) WHERE dkim_result = 'temperror';
