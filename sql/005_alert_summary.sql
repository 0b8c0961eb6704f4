-- 005: a rule that fires more than [alert] max-alerts-per-rule alerts in
-- one pass sends that many and one summary naming how many more it held
-- back: a forged report naming 10,000 MX hosts must not post 10,000
-- messages to a chat channel. The held-back firings are recorded in
-- alert_state as if sent (their cooldown runs, they resolve later), but
-- have no row here; the summary has one row per webhook, event 'summary',
-- and no alert_state.
ALTER TABLE tlswatch.alerts DROP CONSTRAINT alerts_event_check,
    ADD CONSTRAINT alerts_event_check CHECK (event IN ('firing', 'resolved', 'summary'));
COMMENT ON COLUMN tlswatch.alerts.event IS
    'firing, resolved, or summary: the alerts of this rule held back in one pass past [alert] max-alerts-per-rule (domain: the first of them).';
