-- 002: the alert outbox. tlswatch alert (and ingest, after a commit) writes
-- one row per firing and webhook in the same transaction that checks the
-- rule's cooldown, then delivers pending rows, each under a row lock
-- (FOR UPDATE SKIP LOCKED), so concurrent runs never send a row twice and a
-- receiver that is down loses nothing: the row waits for the next run.

CREATE TABLE tlswatch.alerts (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rule            text NOT NULL,
    domain          text NOT NULL,
    group_key       text NOT NULL DEFAULT '',
    event           text NOT NULL CHECK (event IN ('firing', 'resolved')),
    webhook         text NOT NULL,
    window_start    timestamptz NOT NULL,
    window_end      timestamptz NOT NULL,
    fired_at        timestamptz NOT NULL,
    figures         jsonb NOT NULL,
    payload         text NOT NULL,
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz
);
CREATE INDEX alerts_pending ON tlswatch.alerts (next_attempt_at) WHERE state = 'pending';
CREATE INDEX alerts_rule_domain ON tlswatch.alerts (rule, domain, group_key, fired_at);
CREATE INDEX alerts_created_at ON tlswatch.alerts (created_at);
COMMENT ON TABLE tlswatch.alerts IS
    'The alert outbox: one row per firing (or resolution) of a [rule NAME] and per webhook it notifies.';
COMMENT ON COLUMN tlswatch.alerts.group_key IS 'The reporter or MX host with group-by (and for silence rules), else empty.';
COMMENT ON COLUMN tlswatch.alerts.window_start IS 'The window of report time (date_end) evaluated: (window_start, window_end].';
COMMENT ON COLUMN tlswatch.alerts.fired_at IS 'The evaluation time (tlswatch alert --now, else the clock); cooldowns are measured on it.';
COMMENT ON COLUMN tlswatch.alerts.figures IS 'Every figure of the firing: the generic webhook object.';
COMMENT ON COLUMN tlswatch.alerts.payload IS 'The body posted to the webhook, in its format.';
COMMENT ON COLUMN tlswatch.alerts.state IS
    'pending: to be sent at next_attempt_at; sent: the receiver answered 2xx; failed: rejected (4xx other than 429) or out of attempts, see last_error.';
COMMENT ON COLUMN tlswatch.alerts.last_error IS 'Why the last attempt failed (never the webhook URL).';
