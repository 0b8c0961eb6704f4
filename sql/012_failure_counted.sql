-- 012: failures.counted, which failure-details count in the figures.
--
-- A reporter may list the same sessions under two policies of one report
-- for one domain (Microsoft: sts and tlsa). Digest, alert and /metrics
-- counted each failure group once by taking, per report, the largest of
-- the policies' sums: three levels of grouping over every failure row of
-- the window at every query, most of the time of a 7-day digest or alert
-- pass. That choice is made once now, when the report is stored
-- (ingest/store.c): a detail counts unless another policy of the same
-- report and domain lists more failed sessions (or as many, with a lower
-- index) for the same result type, MX host, sending IP and receiving IP.
-- The queries then sum the counted rows, one level. Every detail of a
-- report that names a domain in one policy counts, which is why the
-- default is true: rows written by hand (tests, users' imports) count,
-- and the migration only has to find the few rows that do not.

ALTER TABLE tlswatch.failures ADD COLUMN counted boolean NOT NULL DEFAULT true;
COMMENT ON COLUMN tlswatch.failures.counted IS
    'Whether the detail counts in tlswatch''s figures: false when another policy of the same report and policy domain lists more failed sessions (or as many, at a lower policy_index) for the same result_type, receiving_mx_hostname, sending_mta_ip and receiving_ip (a reporter listing the same sessions under sts and tlsa). Sum failed_sessions WHERE counted to count as tlswatch does.';

-- The same rule as ingest/store.c's SQL_FAILURES, over the rows stored so
-- far; only reports that name a domain in two policies can hold a row
-- that does not count.
WITH shared AS (
    SELECT p.report_ref, p.date_start, p.policy_domain
    FROM tlswatch.policies p
    GROUP BY 1, 2, 3 HAVING count(*) > 1
), sums AS (
    SELECT f.policy_ref, f.detail_index, f.date_start, p.report_ref, p.policy_domain,
           p.policy_index, f.result_type, coalesce(f.receiving_mx_hostname, '') AS mx,
           coalesce(host(f.sending_mta_ip), '') AS ip, f.receiving_ip,
           sum(f.failed_sessions) OVER (PARTITION BY f.policy_ref, f.date_start, f.result_type,
               coalesce(f.receiving_mx_hostname, ''), coalesce(host(f.sending_mta_ip), ''),
               f.receiving_ip) AS n
    FROM shared s
    JOIN tlswatch.policies p ON p.report_ref = s.report_ref AND p.date_start = s.date_start
        AND p.policy_domain = s.policy_domain
    JOIN tlswatch.failures f ON f.policy_ref = p.id AND f.date_start = p.date_start
), winners AS (
    SELECT policy_ref, detail_index, date_start,
           policy_index = first_value(policy_index) OVER (PARTITION BY report_ref, date_start,
               policy_domain, result_type, mx, ip, receiving_ip ORDER BY n DESC, policy_index)
               AS counted
    FROM sums
)
UPDATE tlswatch.failures f SET counted = false
FROM winners w
WHERE NOT w.counted AND f.policy_ref = w.policy_ref AND f.detail_index = w.detail_index
    AND f.date_start = w.date_start;
