-- 001: the tlswatch schema. A public interface: Grafana dashboards and
-- users' own SQL read these tables, so names follow RFC 8460's fields and
-- never change meaning. No triggers; bigint keys; time columns indexed.
-- The schema itself and tlswatch.schema_version are created by
-- `tlswatch db init` (common/db.c) before this file runs.

COMMENT ON TABLE tlswatch.schema_version IS
    'One row per applied migration (sql/NNN_*.sql embedded in the binary); see tlswatch db status.';

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
COMMENT ON TABLE tlswatch.messages IS 'One row per mail message handed to tlswatch ingest.';
COMMENT ON COLUMN tlswatch.messages.received_at IS 'When tlswatch stored the message (not its Date header).';
COMMENT ON COLUMN tlswatch.messages.message_id IS 'The Message-ID header, as sent.';
COMMENT ON COLUMN tlswatch.messages.report_domain IS 'The TLS-Report-Domain header, as sent.';
COMMENT ON COLUMN tlswatch.messages.report_submitter IS 'The TLS-Report-Submitter header, as sent.';
COMMENT ON COLUMN tlswatch.messages.status IS
    'stored: at least one new report; duplicate: every report was already stored; quarantined: no report, see reason (tlswatch quarantine).';
COMMENT ON COLUMN tlswatch.messages.reason IS
    'Why the message was quarantined, or which parts were skipped beside stored reports.';
COMMENT ON COLUMN tlswatch.messages.raw IS
    'The message bytes: kept for quarantined messages (and for all with keep-raw), NULL otherwise.';

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
    'One row per TLS report (RFC 8460). A re-delivered report (same organization_name and report_id) is stored once; its message is marked duplicate.';
COMMENT ON COLUMN tlswatch.reports.message_ref IS 'The message that first delivered this report.';
COMMENT ON COLUMN tlswatch.reports.organization_name IS 'organization-name: the reporter (Google Inc., Microsoft Corporation, ...).';
COMMENT ON COLUMN tlswatch.reports.report_id IS 'report-id: unique per reporter.';
COMMENT ON COLUMN tlswatch.reports.contact_info IS 'contact-info, NULL when absent.';
COMMENT ON COLUMN tlswatch.reports.date_start IS 'date-range.start-datetime (a missing zone is read as UTC, with a warning).';
COMMENT ON COLUMN tlswatch.reports.date_end IS 'date-range.end-datetime.';
COMMENT ON COLUMN tlswatch.reports.document IS 'The report as the reporter sent it, unknown fields included.';
COMMENT ON COLUMN tlswatch.reports.warnings IS 'One line per leniency applied while reading the report (empty for a clean report).';

-- UNIQUE (report_ref, policy_index) also serves lookups by report_ref.
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
    'One row per policies[] entry of a report. To count sessions per domain use the view tlswatch.domain_sessions: a reporter may list the same sessions under several policies.';
COMMENT ON COLUMN tlswatch.policies.policy_index IS 'Position in the report''s policies array, from 0.';
COMMENT ON COLUMN tlswatch.policies.policy_type IS 'policy-type: sts, tlsa, no-policy-found, or as sent.';
COMMENT ON COLUMN tlswatch.policies.policy_domain IS
    'policy-domain as sent (compare with lower()); the TLS-Report-Domain header when the report omits it.';
COMMENT ON COLUMN tlswatch.policies.policy_string IS 'policy-string, one element per line.';
COMMENT ON COLUMN tlswatch.policies.mx_host IS 'mx-host entries.';
COMMENT ON COLUMN tlswatch.policies.sts_mode IS 'mode: from an MTA-STS policy-string (testing, enforce, none), else NULL.';
COMMENT ON COLUMN tlswatch.policies.sts_max_age IS 'max_age: from an MTA-STS policy-string, in seconds, else NULL.';
COMMENT ON COLUMN tlswatch.policies.successful_sessions IS 'summary.total-successful-session-count.';
COMMENT ON COLUMN tlswatch.policies.failed_sessions IS 'summary.total-failure-session-count.';

-- UNIQUE (policy_ref, detail_index) also serves lookups by policy_ref.
CREATE TABLE tlswatch.failures (
    id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    policy_ref             bigint NOT NULL REFERENCES tlswatch.policies (id),
    detail_index           integer NOT NULL,
    result_type            text NOT NULL,
    sending_mta_ip         inet,
    receiving_mx_hostname  text,
    receiving_mx_helo      text,
    receiving_ip           inet,
    failed_sessions        bigint NOT NULL CHECK (failed_sessions >= 0),
    additional_information text,
    failure_reason_code    text,
    UNIQUE (policy_ref, detail_index)
);
COMMENT ON TABLE tlswatch.failures IS
    'One row per failure-details entry of a policy. Entries may overlap, so they need not add up to policies.failed_sessions.';
COMMENT ON COLUMN tlswatch.failures.detail_index IS 'Position in the policy''s failure-details array, from 0.';
COMMENT ON COLUMN tlswatch.failures.result_type IS
    'result-type: starttls-not-supported, certificate-expired, validation-failure, sts-policy-fetch-error, ... or as sent.';
COMMENT ON COLUMN tlswatch.failures.sending_mta_ip IS
    'sending-mta-ip; NULL when absent or not an IP address (the text stays in reports.document).';
COMMENT ON COLUMN tlswatch.failures.receiving_ip IS
    'receiving-ip; NULL when absent or not an IP address (the text stays in reports.document).';
COMMENT ON COLUMN tlswatch.failures.failed_sessions IS 'failed-session-count.';

-- Microsoft lists the same sessions under an sts and a tlsa policy for one
-- domain, so summing policies counts them twice: take the larger of each.
CREATE VIEW tlswatch.domain_sessions AS
SELECT report_ref,
       lower(policy_domain) AS policy_domain,
       max(successful_sessions) AS successful_sessions,
       max(failed_sessions) AS failed_sessions
FROM tlswatch.policies
GROUP BY report_ref, lower(policy_domain);
COMMENT ON VIEW tlswatch.domain_sessions IS
    'Sessions per report and policy domain (lower-cased). A reporter may list the same sessions under several policies for one domain (Microsoft: sts and tlsa), so each count is the largest of those policies, not their sum. Sum this view over reports for totals; build alerts on it.';
