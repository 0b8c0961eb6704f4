-- 008: tlswatch fetch reads report mail from IMAP mailboxes. Per account
-- ([imap NAME]) it keeps the mailbox's UIDVALIDITY and the last UID it
-- handled, so that a run reads only what is new; a new UIDVALIDITY (the
-- mailbox was re-created) starts again from the first message, and the
-- duplicate keys make that safe.
CREATE TABLE tlswatch.imap_state (
    account     text PRIMARY KEY,
    uidvalidity bigint NOT NULL CHECK (uidvalidity > 0),
    last_uid    bigint NOT NULL CHECK (last_uid >= 0),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE tlswatch.imap_state IS
    'tlswatch fetch: per [imap NAME] account, the mailbox''s UIDVALIDITY and the highest UID committed and handled on the server.';

ALTER TABLE tlswatch.messages DROP CONSTRAINT messages_channel_check,
    ADD CONSTRAINT messages_channel_check
    CHECK (channel IN ('pipe', 'file', 'lmtp', 'http', 'https', 'imap'));
COMMENT ON COLUMN tlswatch.messages.channel IS
    'How it arrived: pipe (ingest on stdin), file (ingest PATH), lmtp, http or https (tlswatch serve), imap (tlswatch fetch). NULL before schema version 6.';
