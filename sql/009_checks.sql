-- 009: tlswatch check --save keeps each live check of a domain's MTA-STS
-- and TLS-RPT deployment: the policy as served, its id, and every
-- finding, so that a policy changed under the same id is caught and the
-- digest can add the live state to its verdict.
CREATE TABLE tlswatch.checks (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    domain      text NOT NULL,
    checked_at  timestamptz NOT NULL,
    ok          boolean NOT NULL,
    failures    integer NOT NULL CHECK (failures >= 0),
    warnings    integer NOT NULL CHECK (warnings >= 0),
    sts_id      text,
    policy_text text,
    result      jsonb NOT NULL
);
CREATE INDEX checks_domain ON tlswatch.checks (domain, checked_at);
COMMENT ON TABLE tlswatch.checks IS
    'One row per tlswatch check --save of a domain: ok when no check failed; sts_id and policy_text as published then; result, the whole check as tlswatch check --format json prints it.';
