/*
 * gauges.c: the figures of /metrics that the database holds, read at
 * each scrape by the metrics worker: the alert outbox, and what the
 * reports of the last 24 hours say per policy domain. They come from the
 * database, not from counters in serve, because reports also arrive by
 * the pipe, fetch and imports, and because they must survive a restart.
 *
 * Every label set is bounded: policy_domain is one of the [serve]
 * metrics-domains domains with the most sessions, or "(other)" for the
 * rest together (no domain name holds parentheses); result_type is a
 * name of the RFC 8460 registry, or "other". Reports judged
 * unauthenticated are left out, as alert and digest leave them out by
 * default: a forged report must not make a label, nor move a figure.
 */
#include "common/db.h"
#include "serve/serve.h"

/* The window: reports whose date-range ends in the last 24 hours (and
 * start in the 32 days before: a report spans at most 31 days, see
 * report.c). The earliest start among those reports bounds date_start in
 * domain_sessions, so that PostgreSQL reads only the months' partitions
 * that hold their rows. Counted when authenticated or never judged. */
#define GAUGES_ENDED " date_end > now() - interval '1 day' AND date_end <= now()"
#define GAUGES_WINDOW                                                                              \
	"WITH r AS (SELECT date_start FROM tlswatch.reports WHERE" GAUGES_ENDED                    \
	" AND date_start > now() - interval '32 days' AND date_start <= now()),"                   \
	" d AS (SELECT policy_domain, successful_sessions AS s, failed_sessions AS f,"             \
	" failure_types, failure_sessions FROM tlswatch.domain_sessions WHERE" GAUGES_ENDED        \
	" AND date_start >= (SELECT min(date_start) FROM r) AND date_start <= now()"               \
	" AND authenticated IS NOT FALSE),"

/* The rest from tlswatch.domain_sessions alone: the sessions per report and domain
 * (the largest of its policies for that domain: Microsoft lists the same
 * sessions under sts and tlsa), and its failed sessions by result type
 * and MX host (sums of the details failures.counted names: sql/012, 014),
 * summed here per result type. Rows: metric, policy_domain label, second
 * label, value. (q_: the name tests/integration/plans.t finds it by.) */
static const char *const q_reports = GAUGES_WINDOW
	" top AS (SELECT policy_domain FROM d GROUP BY 1"
	" ORDER BY sum(s) + sum(f) DESC, 1 LIMIT $1),"
	" dl AS (SELECT coalesce(t.policy_domain, '(other)') AS label, d.s, d.f"
	" FROM d LEFT JOIN top t USING (policy_domain)),"
	" ft AS (SELECT d.policy_domain,"
	" CASE WHEN u.type IN ('starttls-not-supported', 'certificate-host-mismatch',"
	" 'certificate-expired', 'certificate-not-trusted', 'validation-failure',"
	" 'tlsa-invalid', 'dnssec-invalid', 'dane-required', 'sts-policy-fetch-error',"
	" 'sts-policy-invalid', 'sts-webpki-invalid') THEN u.type ELSE 'other' END AS type, u.n"
	" FROM d, unnest(d.failure_types, d.failure_sessions) AS u(type, n))"
	" SELECT 'reports', label, '', count(*)::numeric FROM dl GROUP BY 2"
	" UNION ALL SELECT 'successful', label, '', sum(s) FROM dl GROUP BY 2"
	" UNION ALL SELECT 'failed', label, '', sum(f) FROM dl GROUP BY 2"
	" UNION ALL SELECT 'type', coalesce(t.policy_domain, '(other)'), ft.type, sum(ft.n)"
	" FROM ft LEFT JOIN top t USING (policy_domain) GROUP BY 2, 3"
	" ORDER BY 1, 2, 3";

static const char *const q_outbox =
	"SELECT (SELECT count(*) FROM tlswatch.alerts WHERE state = 'pending'),"
	" (SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0)::bigint"
	" FROM tlswatch.alerts WHERE state = 'pending'),"
	" (SELECT count(*) FROM tlswatch.alerts"
	" WHERE created_at > now() - interval '1 day' AND state = 'failed')";

/* v as a label value of the text format: backslash, double quote and
 * line feed escaped. */
static void gauges_label(GString *t, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			g_string_append_c(t, '\\');
		if (*v == '\n')
			g_string_append(t, "\\n");
		else
			g_string_append_c(t, *v);
	}
}

static void gauges_help(GString *t, const char *name, const char *help)
{
	g_string_append_printf(t, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

static int gauges_outbox(PGconn *conn, GString *t, struct error *err)
{
	PGresult *res = PQexec(conn, q_outbox);

	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		db_error(conn, res, err, "reading the alert outbox");
		PQclear(res);
		return -1;
	}
	gauges_help(t, "tlswatch_outbox_pending", "Alerts waiting to be delivered.");
	g_string_append_printf(t, "tlswatch_outbox_pending %s\n", PQgetvalue(res, 0, 0));
	gauges_help(t, "tlswatch_outbox_oldest_pending_seconds",
		    "Age of the oldest alert waiting to be delivered (0: none).");
	g_string_append_printf(t, "tlswatch_outbox_oldest_pending_seconds %s\n",
			       PQgetvalue(res, 0, 1));
	gauges_help(t, "tlswatch_outbox_failed_24h",
		    "Alerts given up in the last 24 hours (rejected, or out of attempts).");
	g_string_append_printf(t, "tlswatch_outbox_failed_24h %s\n", PQgetvalue(res, 0, 2));
	PQclear(res);
	return 0;
}

/* The rows of q_reports whose metric is kind, as samples of
 * name with the second label second (NULL: none). */
static void gauges_samples(GString *t, PGresult *res, const char *kind, const char *name,
			   const char *second)
{
	for (int i = 0; i < PQntuples(res); i++) {
		if (!g_str_equal(PQgetvalue(res, i, 0), kind))
			continue;
		g_string_append_printf(t, "%s{policy_domain=\"", name);
		gauges_label(t, PQgetvalue(res, i, 1));
		if (second != NULL) {
			g_string_append_printf(t, "\",%s=\"", second);
			gauges_label(t, PQgetvalue(res, i, 2));
		}
		g_string_append_printf(t, "\"} %s\n", PQgetvalue(res, i, 3));
	}
}

static int gauges_reports(PGconn *conn, guint domains, GString *t, struct error *err)
{
	g_autofree char *limit = g_strdup_printf("%u", domains);
	const char *params[] = { limit };
	PGresult *res = PQexecParams(conn, q_reports, 1, NULL, params, NULL, NULL, 0);

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		db_error(conn, res, err, "reading the last day's reports");
		PQclear(res);
		return -1;
	}
	gauges_help(t, "tlswatch_reports_24h",
		    "Reports whose date-range ended in the last 24 hours, by policy domain.");
	gauges_samples(t, res, "reports", "tlswatch_reports_24h", NULL);
	gauges_help(t, "tlswatch_successful_sessions_24h",
		    "Successful sessions in those reports, by policy domain.");
	gauges_samples(t, res, "successful", "tlswatch_successful_sessions_24h", NULL);
	gauges_help(t, "tlswatch_failed_sessions_24h",
		    "Failed sessions in those reports, by policy domain.");
	gauges_samples(t, res, "failed", "tlswatch_failed_sessions_24h", NULL);
	gauges_help(t, "tlswatch_failure_details_24h",
		    "Failed sessions in their failure-details, by policy domain and result type.");
	gauges_samples(t, res, "type", "tlswatch_failure_details_24h", "result_type");
	PQclear(res);
	return 0;
}

char *serve_gauges_text(PGconn *conn, guint domains, struct error *err)
{
	g_autoptr(GString) t = g_string_new(NULL);

	if (gauges_outbox(conn, t, err) < 0 || gauges_reports(conn, domains, t, err) < 0)
		return NULL;
	return g_string_free(g_steal_pointer(&t), FALSE);
}
