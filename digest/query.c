/*
 * query.c: the database side of the digest, four parameterised queries
 * over the period and the one before it. Session counts come from the
 * view tlswatch.domain_sessions, so sessions a reporter lists under both an
 * sts and a tlsa policy count once; failure details get the same treatment
 * (per report and domain, the largest count among that report's policies
 * for one detail). Everything else (which domains, sorting, top N) is done
 * in C on the few rows returned.
 */
#include <string.h>

#include <libpq-fe.h>

#include "common/db.h"
#include "digest/digest.h"

#define DAY 86400

/* $1 previous from, $2 to (unix seconds): sessions per domain and UTC day. */
static const char *const q_days =
	"SELECT ds.policy_domain, floor(extract(epoch FROM r.date_start) / 86400)::bigint,"
	" sum(ds.successful_sessions)::bigint, sum(ds.failed_sessions)::bigint, count(*)"
	" FROM tlswatch.domain_sessions ds JOIN tlswatch.reports r ON r.id = ds.report_ref"
	" WHERE r.date_start >= to_timestamp($1::bigint) AND r.date_start < "
	"to_timestamp($2::bigint)"
	" GROUP BY 1, 2 ORDER BY 1, 2";

/* $1 previous from, $2 to, $3 from: per reporter, this period or the last. */
static const char *const q_reporters =
	"SELECT ds.policy_domain, r.organization_name, r.date_start >= to_timestamp($3::bigint),"
	" count(*), sum(ds.successful_sessions + ds.failed_sessions)::bigint,"
	" sum(ds.failed_sessions)::bigint"
	" FROM tlswatch.domain_sessions ds JOIN tlswatch.reports r ON r.id = ds.report_ref"
	" WHERE r.date_start >= to_timestamp($1::bigint) AND r.date_start < "
	"to_timestamp($2::bigint)"
	" GROUP BY 1, 2, 3";

/* $1 from, $2 to: failed sessions by result type, MX host and sending IP. */
static const char *const q_failures =
	"WITH per_policy AS ("
	" SELECT p.report_ref, lower(p.policy_domain) AS domain, p.policy_type, f.result_type,"
	"  coalesce(f.receiving_mx_hostname, '') AS mx, coalesce(host(f.sending_mta_ip), '') AS ip,"
	"  f.receiving_ip, sum(f.failed_sessions) AS n"
	" FROM tlswatch.failures f JOIN tlswatch.policies p ON p.id = f.policy_ref"
	" JOIN tlswatch.reports r ON r.id = p.report_ref"
	" WHERE r.date_start >= to_timestamp($1::bigint) AND r.date_start < "
	"to_timestamp($2::bigint)"
	" GROUP BY 1, 2, 3, 4, 5, 6, 7),"
	" per_report AS (SELECT report_ref, domain, result_type, mx, ip, receiving_ip, max(n) AS n"
	" FROM per_policy GROUP BY 1, 2, 3, 4, 5, 6)"
	" SELECT domain, result_type, mx, ip, sum(n)::bigint FROM per_report GROUP BY 1, 2, 3, 4";

/* $1 from, $2 to: policy types and STS modes seen, by reporter. */
static const char *const q_policies =
	"SELECT lower(p.policy_domain), p.policy_type, coalesce(p.sts_mode, ''),"
	" r.organization_name, sum(p.successful_sessions + p.failed_sessions)::bigint"
	" FROM tlswatch.policies p JOIN tlswatch.reports r ON r.id = p.report_ref"
	" WHERE r.date_start >= to_timestamp($1::bigint) AND r.date_start < "
	"to_timestamp($2::bigint)"
	" GROUP BY 1, 2, 3, 4";

struct query_ctx {
	PGconn *conn;
	const struct digest_period *p, *prev;
	char **globs;
	GHashTable *seen; /* domain → struct digest_domain * (borrowed from the digest) */
	struct digest *d;
};

static gint64 num(const PGresult *res, int row, int col)
{
	return g_ascii_strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static PGresult *query_run(struct query_ctx *q, const char *sql, gint64 a, gint64 b, gint64 c,
			   int nparams, const char *what, struct error *err)
{
	char sa[24], sb[24], sc[24];
	const char *params[3] = { sa, sb, sc };
	PGresult *res;

	g_snprintf(sa, sizeof(sa), "%" G_GINT64_FORMAT, a);
	g_snprintf(sb, sizeof(sb), "%" G_GINT64_FORMAT, b);
	g_snprintf(sc, sizeof(sc), "%" G_GINT64_FORMAT, c);
	res = PQexecParams(q->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		db_error(q->conn, res, err, what);
		PQclear(res);
		return NULL;
	}
	return res;
}

static gboolean query_wanted(struct query_ctx *q, const char *domain)
{
	if (q->globs == NULL || q->globs[0] == NULL)
		return TRUE;
	for (guint i = 0; q->globs[i] != NULL; i++) {
		g_autofree char *lower = g_ascii_strdown(q->globs[i], -1);

		if (g_pattern_match_simple(lower, domain))
			return TRUE;
	}
	return FALSE;
}

static int query_days(struct query_ctx *q, struct error *err)
{
	PGresult *res = query_run(q, q_days, q->prev->from, q->p->to, 0, 2, "digest days", err);
	gint64 first = q->p->from / DAY;

	if (res == NULL)
		return -1;
	for (int i = 0; i < PQntuples(res); i++) {
		const char *name = PQgetvalue(res, i, 0);
		struct digest_domain *dd = g_hash_table_lookup(q->seen, name);
		gint64 day = num(res, i, 1) - first;
		struct digest_totals *t;

		if (dd == NULL && !query_wanted(q, name))
			continue;
		if (dd == NULL) {
			dd = digest_domain_new(name, q->p->days);
			g_ptr_array_add(q->d->domains, dd);
			g_hash_table_insert(q->seen, dd->domain, dd);
		}
		t = day >= 0 ? &dd->cur : &dd->prev;
		t->successful += num(res, i, 2);
		t->failed += num(res, i, 3);
		t->reports += num(res, i, 4);
		if (day >= 0 && day < q->p->days) {
			dd->day_ok[day] += num(res, i, 2);
			dd->day_failed[day] += num(res, i, 3);
			dd->day_reports[day] += num(res, i, 4);
			dd->days_with_data++;
		}
	}
	PQclear(res);
	return 0;
}

static gboolean str_in(GPtrArray *a, const char *s)
{
	for (guint i = 0; i < a->len; i++)
		if (g_str_equal(g_ptr_array_index(a, i), s))
			return TRUE;
	return FALSE;
}

static int query_reporters(struct query_ctx *q, struct error *err)
{
	PGresult *res = query_run(q, q_reporters, q->prev->from, q->p->to, q->p->from, 3,
				  "digest reporters", err);

	if (res == NULL)
		return -1;
	for (int i = 0; i < PQntuples(res); i++) {
		struct digest_domain *dd = g_hash_table_lookup(q->seen, PQgetvalue(res, i, 0));
		const char *org = PQgetvalue(res, i, 1);

		if (dd == NULL)
			continue;
		if (g_str_equal(PQgetvalue(res, i, 2), "t"))
			digest_items_add(dd->reporters, org, num(res, i, 4), num(res, i, 5),
					 num(res, i, 3));
	}
	for (int i = 0; i < PQntuples(res); i++) {
		struct digest_domain *dd = g_hash_table_lookup(q->seen, PQgetvalue(res, i, 0));
		const char *org = PQgetvalue(res, i, 1);
		gboolean now = FALSE;

		if (dd == NULL || g_str_equal(PQgetvalue(res, i, 2), "t"))
			continue;
		for (guint j = 0; j < dd->reporters->len && !now; j++)
			now = g_str_equal(((struct digest_item *)dd->reporters->pdata[j])->name,
					  org);
		if (!now && !str_in(dd->missing, org))
			g_ptr_array_add(dd->missing, g_strdup(org));
	}
	PQclear(res);
	return 0;
}

static int query_failures(struct query_ctx *q, struct error *err)
{
	PGresult *res =
		query_run(q, q_failures, q->p->from, q->p->to, 0, 2, "digest failures", err);

	if (res == NULL)
		return -1;
	for (int i = 0; i < PQntuples(res); i++) {
		struct digest_domain *dd = g_hash_table_lookup(q->seen, PQgetvalue(res, i, 0));
		const char *type = PQgetvalue(res, i, 1), *mx = PQgetvalue(res, i, 2);
		const char *ip = PQgetvalue(res, i, 3);
		gint64 n = num(res, i, 4);

		if (dd == NULL)
			continue;
		digest_items_add(dd->result_types, type, n, 0, 0);
		digest_items_add(dd->mx_hosts, *mx ? mx : "(not reported)", n, 0, 0);
		digest_items_add(dd->ips, *ip ? ip : "(not reported)", n, 0, 0);
		if (digest_blocking_type(type)) {
			digest_items_add(dd->blocking_types, type, n, 0, 0);
			digest_items_add(dd->blocking_mx, *mx ? mx : "(not reported)", n, 0, 0);
		}
	}
	PQclear(res);
	return 0;
}

static int query_policies(struct query_ctx *q, struct error *err)
{
	PGresult *res =
		query_run(q, q_policies, q->p->from, q->p->to, 0, 2, "digest policies", err);

	if (res == NULL)
		return -1;
	for (int i = 0; i < PQntuples(res); i++) {
		struct digest_domain *dd = g_hash_table_lookup(q->seen, PQgetvalue(res, i, 0));
		const char *type = PQgetvalue(res, i, 1), *mode = PQgetvalue(res, i, 2);
		const char *org = PQgetvalue(res, i, 3);

		if (dd == NULL)
			continue;
		digest_items_add(dd->policy_types, type, num(res, i, 4), 0, 0);
		if (*mode)
			digest_items_add(dd->sts_modes, mode, num(res, i, 4), 0, 0);
		if (g_str_equal(type, "no-policy-found") && !str_in(dd->no_policy, org))
			g_ptr_array_add(dd->no_policy, g_strdup(org));
	}
	PQclear(res);
	return 0;
}

static void query_trim(GPtrArray *list, guint top)
{
	digest_items_sort(list);
	if (top > 0 && list->len > top)
		g_ptr_array_set_size(list, top);
}

static gint query_domain_cmp(gconstpointer a, gconstpointer b)
{
	const struct digest_domain *x = *(struct digest_domain *const *)a;
	const struct digest_domain *y = *(struct digest_domain *const *)b;

	return g_strcmp0(x->domain, y->domain);
}

/* A --domain that matched nothing: a plain name still gets its "no data"
 * entry (the postmaster asked about it), a pattern is only reported. */
static void query_unmatched(struct query_ctx *q)
{
	for (guint i = 0; q->globs != NULL && q->globs[i] != NULL; i++) {
		g_autofree char *lower = g_ascii_strdown(q->globs[i], -1);
		gboolean hit = FALSE;

		for (guint j = 0; j < q->d->domains->len && !hit; j++) {
			struct digest_domain *dd = g_ptr_array_index(q->d->domains, j);

			hit = g_pattern_match_simple(lower, dd->domain);
		}
		if (hit)
			continue;
		if (strpbrk(lower, "*?") == NULL)
			g_ptr_array_add(q->d->domains, digest_domain_new(lower, q->p->days));
		else
			g_ptr_array_add(q->d->unmatched, g_strdup(q->globs[i]));
	}
}

static gint str_ptr_cmp(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

static void query_finish(struct query_ctx *q, guint top)
{
	query_unmatched(q);
	g_ptr_array_sort(q->d->domains, query_domain_cmp);
	for (guint i = 0; i < q->d->domains->len; i++) {
		struct digest_domain *dd = g_ptr_array_index(q->d->domains, i);

		query_trim(dd->result_types, 0);
		query_trim(dd->mx_hosts, top);
		query_trim(dd->ips, top);
		query_trim(dd->blocking_types, 0);
		query_trim(dd->blocking_mx, 0);
		query_trim(dd->policy_types, 0);
		query_trim(dd->sts_modes, 0);
		query_trim(dd->reporters, 0);
		g_ptr_array_sort(dd->no_policy, str_ptr_cmp);
		g_ptr_array_sort(dd->missing, str_ptr_cmp);
	}
}

int digest_query(void *conn, const struct digest_period *p, const struct digest_period *prev,
		 char **globs, guint top, struct digest **out, struct error *err)
{
	struct query_ctx q = { .conn = conn, .p = p, .prev = prev, .globs = globs };
	int rc = -1;

	q.d = digest_new();
	q.d->period = *p;
	q.d->prev = *prev;
	q.seen = g_hash_table_new(g_str_hash, g_str_equal);
	if (query_days(&q, err) < 0 || query_reporters(&q, err) < 0 ||
	    query_failures(&q, err) < 0 || query_policies(&q, err) < 0)
		goto fail;
	query_finish(&q, top);
	*out = g_steal_pointer(&q.d);
	rc = 0;
fail:
	g_hash_table_destroy(q.seen);
	digest_free(q.d);
	return rc;
}
