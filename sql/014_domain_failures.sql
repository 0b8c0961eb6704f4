-- 014: each domain_sessions row carries its report's failures for the
-- domain, summed by result type and MX host.
--
-- An alert rule needs, per report and domain, the failed sessions by
-- result type and by MX host. It read them from failures, joined to
-- policies for the domain and to reports for the window and the
-- reporter: a week of 1,000 domains is 58,000 detail rows reached
-- through 16,000 index probes, a third of an alert pass, and a
-- three-way join to plan at each delivery when the rules run on ingest.
-- Summed by (result type, MX host) the same figures take under half the
-- rows, and beside the sessions they need no join: the alert reads one
-- table. Three arrays, element i of each one (type, MX) pair, cost a row
-- with failures about 64 bytes per pair (130 bytes a report at
-- bench-scale's mix, where a fifth of the reports list failures; no row
-- header, no index), and nothing in a report without. The details
-- themselves stay in failures, for the digest (which shows sending IPs)
-- and users' SQL.
--
-- Only counted details (sql/012) are summed; an MX host not reported is
-- a NULL element. Sums are numeric: a reporter may claim 2^63 - 1
-- sessions twice, and the reader saturates (common/figure.h).

ALTER TABLE tlswatch.domain_sessions
    ADD COLUMN failure_types text[],
    ADD COLUMN failure_mx_hosts text[],
    ADD COLUMN failure_sessions numeric[];
COMMENT ON COLUMN tlswatch.domain_sessions.failure_types IS
    'The result types of the report''s counted failure details for the domain (failures.counted), one element per (result type, MX host) pair, sorted; NULL when it lists none.';
COMMENT ON COLUMN tlswatch.domain_sessions.failure_mx_hosts IS
    'The receiving MX host of each pair in failure_types (NULL element: not reported).';
COMMENT ON COLUMN tlswatch.domain_sessions.failure_sessions IS
    'The failed sessions of each pair in failure_types: the sum of its counted details.';

-- The rows stored so far, as ingest/store.c's SQL_FAILURES sums them.
WITH pairs AS (
    SELECT p.report_ref, p.date_start, p.policy_domain, f.result_type,
           f.receiving_mx_hostname AS mx, sum(f.failed_sessions) AS n
    FROM tlswatch.policies p
    JOIN tlswatch.failures f ON f.policy_ref = p.id AND f.date_start = p.date_start
    WHERE f.counted
    GROUP BY 1, 2, 3, 4, 5
), summed AS (
    SELECT report_ref, date_start, policy_domain,
           array_agg(result_type ORDER BY result_type, mx) AS types,
           array_agg(mx ORDER BY result_type, mx) AS mx_hosts,
           array_agg(n ORDER BY result_type, mx) AS sessions
    FROM pairs GROUP BY 1, 2, 3
)
UPDATE tlswatch.domain_sessions d
SET failure_types = s.types, failure_mx_hosts = s.mx_hosts, failure_sessions = s.sessions
FROM summed s
WHERE d.report_ref = s.report_ref AND d.date_start = s.date_start
  AND d.policy_domain = s.policy_domain;
