-- 006: where a message came from. tlswatch serve receives reports over
-- LMTP and as HTTPS POSTs (RFC 8460, 3), beside the pipe and files; a POST
-- has no mail header, so its client address and User-Agent are what is
-- known of its sender. NULL in rows stored before this version.
ALTER TABLE tlswatch.messages
    ADD COLUMN channel text CHECK (channel IN ('pipe', 'file', 'lmtp', 'http', 'https')),
    ADD COLUMN client inet,
    ADD COLUMN user_agent text;
COMMENT ON COLUMN tlswatch.messages.channel IS
    'How it arrived: pipe (ingest on stdin), file (ingest PATH), lmtp, http or https (tlswatch serve). NULL before schema version 6.';
COMMENT ON COLUMN tlswatch.messages.client IS
    'The address that POSTed it (http, https); NULL otherwise.';
COMMENT ON COLUMN tlswatch.messages.user_agent IS
    'The User-Agent header of the POST (http, https), as sent; NULL otherwise.';
