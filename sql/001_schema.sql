-- 001: the tlswatch schema. A public interface: Grafana dashboards and
-- users' own SQL read these tables, so names follow RFC 8460's fields and
-- never change meaning. No triggers; bigint keys; time columns indexed.

CREATE TABLE tlswatch.messages (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at      timestamptz NOT NULL DEFAULT now(),
    message_id       text,
    from_addr        text,
    subject          text,
    report_domain    text,
    report_submitter text,
    status           text NOT NULL CHECK (status IN ('stored', 'duplicate', 'quarantined')),
    reason           text,
    raw              bytea
);
CREATE INDEX messages_received_at ON tlswatch.messages (received_at);
CREATE INDEX messages_quarantined ON tlswatch.messages (id) WHERE status = 'quarantined';
COMMENT ON TABLE tlswatch.messages IS 'One row per message received by tlswatch ingest.';
COMMENT ON COLUMN tlswatch.messages.status IS
    'stored: at least one new report; duplicate: every report was already stored; quarantined: no report, see reason';
COMMENT ON COLUMN tlswatch.messages.reason IS
    'Why the message was quarantined, or which parts were skipped beside stored reports.';
COMMENT ON COLUMN tlswatch.messages.raw IS
    'The message bytes: always for quarantined messages (header only when over max-message-size), for all with keep-raw.';

CREATE TABLE tlswatch.reports (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_ref       bigint NOT NULL REFERENCES tlswatch.messages (id),
    organization_name text NOT NULL,
    report_id         text NOT NULL,
    contact_info      text,
    date_start        timestamptz NOT NULL,
    date_end          timestamptz NOT NULL,
    document          jsonb NOT NULL,
    warnings          text[] NOT NULL DEFAULT '{}',
    UNIQUE (organization_name, report_id)
);
CREATE INDEX reports_message_ref ON tlswatch.reports (message_ref);
CREATE INDEX reports_date_start ON tlswatch.reports (date_start);
CREATE INDEX reports_date_end ON tlswatch.reports (date_end);
COMMENT ON TABLE tlswatch.reports IS
    'One row per TLS report (RFC 8460); a re-delivered report (same organization_name and report_id) is stored once.';
COMMENT ON COLUMN tlswatch.reports.document IS 'The report as the reporter sent it, unknown fields included.';
COMMENT ON COLUMN tlswatch.reports.warnings IS 'One line per leniency applied while reading the report.';

CREATE TABLE tlswatch.policies (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    report_ref          bigint NOT NULL REFERENCES tlswatch.reports (id),
    policy_index        integer NOT NULL,
    policy_type         text NOT NULL,
    policy_domain       text NOT NULL,
    policy_string       text[] NOT NULL,
    mx_host             text[] NOT NULL,
    sts_mode            text,
    sts_max_age         bigint,
    successful_sessions bigint NOT NULL CHECK (successful_sessions >= 0),
    failed_sessions     bigint NOT NULL CHECK (failed_sessions >= 0),
    UNIQUE (report_ref, policy_index)
);
CREATE INDEX policies_policy_domain ON tlswatch.policies (policy_domain);
COMMENT ON TABLE tlswatch.policies IS
    'One row per policies[] entry of a report. Sum sessions over tlswatch.domain_sessions, not here.';
COMMENT ON COLUMN tlswatch.policies.policy_index IS 'Position in the report''s policies array, from 0.';
COMMENT ON COLUMN tlswatch.policies.sts_mode IS 'mode: from an MTA-STS policy-string (testing, enforce, none).';
COMMENT ON COLUMN tlswatch.policies.sts_max_age IS 'max_age: from an MTA-STS policy-string, in seconds.';

CREATE TABLE tlswatch.failures (
    id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    policy_ref             bigint NOT NULL REFERENCES tlswatch.policies (id),
    result_type            text NOT NULL,
    sending_mta_ip         inet,
    receiving_mx_hostname  text,
    receiving_mx_helo      text,
    receiving_ip           inet,
    failed_sessions        bigint NOT NULL CHECK (failed_sessions >= 0),
    additional_information text,
    failure_reason_code    text
);
CREATE INDEX failures_policy_ref ON tlswatch.failures (policy_ref);
COMMENT ON TABLE tlswatch.failures IS
    'failure-details as sent; they may overlap, so they need not add up to policies.failed_sessions.';
COMMENT ON COLUMN tlswatch.failures.sending_mta_ip IS 'NULL when absent or not an IP address (the text stays in reports.document).';

-- Microsoft reports the same sessions under an sts and a tlsa policy for
-- one domain: summing policies counts them twice. Take the larger.
CREATE VIEW tlswatch.domain_sessions AS
SELECT report_ref,
       lower(policy_domain) AS policy_domain,
       max(successful_sessions) AS successful_sessions,
       max(failed_sessions) AS failed_sessions
FROM tlswatch.policies
GROUP BY report_ref, lower(policy_domain);
COMMENT ON VIEW tlswatch.domain_sessions IS
    'Sessions per report and policy domain, each session counted once even when a reporter lists it under several policy types (sts and tlsa): the larger count is taken, not the sum. Build alerts and sums on this view.';
