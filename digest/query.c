/*
 * query.c: the database side of the digest: sessions (over the period
 * and the one before it), failures and policies, three parameterised
 * queries, then the reports left out and the last live checks. Session
 * counts per report and domain are tlswatch.domain_sessions' (the largest
 * among that report's policies for the domain: sessions a reporter lists
 * under both an sts and a tlsa policy count once); of the failure
 * details, those failures.counted names (sql/012, decided as the report
 * was stored). Every query names its period on the partition key
 * date_start of each table it reads, so PostgreSQL reads only that
 * period's partitions, and the --domain names and patterns ($3, $4) are
 * applied there too. C adds up the sessions and the failure details, one
 * row each, saturated (common/figure.h); the sums left in SQL stay
 * numeric, never a bigint overflow. Sorting and top N are done in C on
 * the rows returned.
 */
#include <string.h>

#include <libpq-fe.h>

#include "common/db.h"
#include "common/domain.h"
#include "common/figure.h"
#include "common/pgarray.h"
#include "common/tally.h"
#include "digest/digest.h"

#define DAY 86400

/* The --domain filter, a variant of each query: an OR between = ANY and
 * LIKE would keep PostgreSQL from the index policies_domain, which the
 * usual one-domain digest wants. Each variant names both $3 (names) and
 * $4 (LIKE patterns), NULL where unused, so the parameters are the same. */
enum query_filter { FILTER_NONE, FILTER_NAMES, FILTER_NAMES_OR_PATTERNS, FILTER_N };

#define BY_NONE	 " AND $3::text[] IS NULL AND $4::text[] IS NULL"
#define BY_NAMES " AND p.policy_domain = ANY ($3::text[]) AND $4::text[] IS NULL"
#define BY_NAMES_OR_PATTERNS                                                                       \
	" AND (p.policy_domain = ANY ($3::text[]) OR p.policy_domain LIKE ANY ($4::text[]))"
#define VARIANTS(Q)                                                                                \
	{                                                                                          \
		Q(BY_NONE), Q(BY_NAMES), Q(BY_NAMES_OR_PATTERNS)                                   \
	}

/* [digest] authenticated-only: the policies of reports that were
 * authenticated or never judged (stored before verification), a second
 * set of the variants. */
#define COUNTED " AND p.authenticated IS NOT FALSE"
#define TRUST_VARIANTS(Q)                                                                          \
	{                                                                                          \
		VARIANTS(Q),                                                                       \
		{                                                                                  \
			Q(BY_NONE COUNTED), Q(BY_NAMES COUNTED), Q(BY_NAMES_OR_PATTERNS COUNTED)   \
		}                                                                                  \
	}

/* The period [$1, $2) on the policy, and the domains. */
#define POLICIES_OF_PERIOD(by)                                                                     \
	" WHERE p.date_start >= to_timestamp($1::bigint)"                                          \
	" AND p.date_start < to_timestamp($2::bigint)" by

/* $1 previous from, $2 to, $5 from (unix seconds): the sessions per report
 * and domain of both periods (tlswatch.domain_sessions, written with each
 * report: sql/013), whether the report is of this period, its UTC day.
 * One row per report and domain: C adds them up per day and per reporter
 * (query_sessions). Grouped here, in two grouping sets, nearly every row
 * was a group of its own: the hash aggregate took 100 of the query's 137
 * ms for two weeks of 1,000 domains, nearly three times the scan. The
 * table is named p, as policies are in the other queries: the filters
 * name the same columns. */
#define Q_SESSIONS(by)                                                                             \
	"SELECT p.policy_domain, p.organization_name, p.date_start >= to_timestamp($5::bigint),"   \
	" floor(extract(epoch FROM p.date_start) / 86400)::bigint, p.successful_sessions,"         \
	" p.failed_sessions FROM tlswatch.domain_sessions p" POLICIES_OF_PERIOD(by)

/* $1 from, $2 to: the failure details that count (failures.counted,
 * sql/012: a group a reporter lists under two policies of a report counts
 * once), by result type, MX host and sending IP. One row per detail, not
 * per group: C adds them up anyway (query_failures), and nearly every
 * detail of a week is a group of its own, so a GROUP BY here sorted 65,000
 * rows for nothing (250 ms against 95 at 1,000 domains). */
#define Q_FAILURES(by)                                                                             \
	"SELECT p.policy_domain, f.result_type, coalesce(f.receiving_mx_hostname, ''),"            \
	" coalesce(host(f.sending_mta_ip), ''), f.failed_sessions"                                 \
	" FROM tlswatch.policies p JOIN tlswatch.failures f"                                       \
	" ON f.policy_ref = p.id AND f.date_start = p.date_start" POLICIES_OF_PERIOD(              \
		by) " AND f.counted AND f.date_start >= to_timestamp($1::bigint)"                  \
		    " AND f.date_start < to_timestamp($2::bigint)"

/* $1 from, $2 to: policy types and STS modes seen, by reporter. */
#define Q_POLICIES(by)                                                                             \
	"SELECT p.policy_domain, p.policy_type, coalesce(p.sts_mode, ''), r.organization_name,"    \
	" sum(p.successful_sessions::numeric + p.failed_sessions)"                                 \
	" FROM tlswatch.policies p JOIN tlswatch.reports r"                                        \
	" ON r.id = p.report_ref AND r.date_start = p.date_start" POLICIES_OF_PERIOD(              \
		by) " AND r.date_start >= to_timestamp($1::bigint)"                                \
		    " AND r.date_start < to_timestamp($2::bigint) GROUP BY 1, 2, 3, 4"

/* $1 from, $2 to: the reports not counted (authenticated-only), per
 * domain and reporter. */
#define Q_UNAUTHENTICATED(by)                                                                      \
	"SELECT p.policy_domain, r.organization_name, count(DISTINCT p.report_ref)"                \
	" FROM tlswatch.policies p JOIN tlswatch.reports r"                                        \
	" ON r.id = p.report_ref AND r.date_start = p.date_start" POLICIES_OF_PERIOD(              \
		by) " AND p.authenticated IS FALSE AND r.date_start >= to_timestamp($1::bigint)"   \
		    " AND r.date_start < to_timestamp($2::bigint) GROUP BY 1, 2 ORDER BY 1, 2"

static const char *const q_sessions[2][FILTER_N] = TRUST_VARIANTS(Q_SESSIONS);
static const char *const q_failures[2][FILTER_N] = TRUST_VARIANTS(Q_FAILURES);
static const char *const q_policies[2][FILTER_N] = TRUST_VARIANTS(Q_POLICIES);
static const char *const q_unauthenticated[FILTER_N] = VARIANTS(Q_UNAUTHENTICATED);

/* $1 the digest's domains: the last check saved for each (tlswatch check
 * --save), its failures and the policy-id finding. */
static const char *const q_checks =
	"SELECT DISTINCT ON (c.domain) c.domain, to_char(c.checked_at AT TIME ZONE 'UTC',"
	" 'YYYY-MM-DD'), c.ok,"
	" (SELECT string_agg(f->>'check' || ' ' || coalesce(f->>'subject' || ': ', '')"
	" || (f->>'message'), E'\\n') FROM jsonb_array_elements(c.result->'findings') f"
	" WHERE f->>'level' = 'FAIL'),"
	" (SELECT f->>'message' FROM jsonb_array_elements(c.result->'findings') f"
	" WHERE f->>'check' = 'policy-id' AND f->>'level' = 'ok' LIMIT 1)"
	" FROM tlswatch.checks c WHERE c.domain = ANY ($1::text[])"
	" ORDER BY c.domain, c.checked_at DESC, c.id DESC";

struct query_ctx {
	PGconn *conn;
	const struct digest_period *p, *prev;
	char **globs;
	char *names;	/* $3: the --domain names, or NULL */
	char *patterns; /* $4: the --domain patterns, as LIKE, or NULL */
	enum query_filter filter;
	gboolean counted;  /* [digest] authenticated-only: the COUNTED variants */
	GHashTable *seen;  /* domain → struct digest_domain * (borrowed from the digest) */
	GHashTable *items; /* tally: (list, name) → struct digest_item * */
	struct digest *d;
};

/* Add to the item called name in list, found through q->items: a month
 * of all domains holds hundreds of thousands of (domain, IP) rows. */
static struct digest_item *query_item_add(struct query_ctx *q, struct digest_domain *dd,
					  GPtrArray *list, const char *name, gint64 sessions,
					  gint64 failed, gint64 reports)
{
	struct digest_item *it = tally_find(q->items, list, name);

	if (it == NULL) {
		it = digest_item_new(list, name);
		tally_add(q->items, list, it->name, it);
	}
	digest_item_add(it, sessions, failed, reports, &dd->capped);
	return it;
}

static gboolean query_has_item(struct query_ctx *q, GPtrArray *list, const char *name)
{
	return tally_find(q->items, list, name) != NULL;
}

/* A figure of dd, saturated at the bigint bounds: PostgreSQL sums in
 * numeric. */
static gint64 num(const PGresult *res, int row, int col, struct digest_domain *dd)
{
	return figure_read(PQgetvalue(res, row, col), &dd->capped);
}

/* Run sql with $1 a, $2 b, the domains as $3 and $4, and $5 c when
 * nparams is 5. */
static PGresult *query_run(struct query_ctx *q, const char *sql, gint64 a, gint64 b, gint64 c,
			   int nparams, const char *what, struct error *err)
{
	char sa[24], sb[24], sc[24];
	const char *params[5] = { sa, sb, q->names, q->patterns, sc };
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

/* --domain: plain names to $3, patterns with * or ? to $4. */
static void query_domains(struct query_ctx *q)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new();
	g_autoptr(GPtrArray) patterns = g_ptr_array_new();

	for (guint i = 0; q->globs != NULL && q->globs[i] != NULL; i++)
		g_ptr_array_add(strpbrk(q->globs[i], "*?") ? patterns : names, q->globs[i]);
	g_ptr_array_add(names, NULL);
	g_ptr_array_add(patterns, NULL);
	q->names = domain_names_sql_array((char **)names->pdata);
	q->patterns = domain_patterns_sql_array((char **)patterns->pdata);
	q->filter = q->patterns != NULL ? FILTER_NAMES_OR_PATTERNS
		    : q->names != NULL	? FILTER_NAMES
					: FILTER_NONE;
}

/* The domain called name, new in the digest if it has no row yet. */
static struct digest_domain *query_domain(struct query_ctx *q, const char *name)
{
	struct digest_domain *dd = g_hash_table_lookup(q->seen, name);

	if (dd == NULL) {
		dd = digest_domain_new(name, q->p->days);
		g_ptr_array_add(q->d->domains, dd);
		g_hash_table_insert(q->seen, dd->domain, dd);
	}
	return dd;
}

/* Row i of q_sessions: to its domain's totals (this period or the last)
 * and, this period, to its day and its reporter. */
static void query_session_row(struct query_ctx *q, const PGresult *res, int i)
{
	struct digest_domain *dd = query_domain(q, PQgetvalue(res, i, 0));
	gboolean now = g_str_equal(PQgetvalue(res, i, 2), "t");
	gint64 day = g_ascii_strtoll(PQgetvalue(res, i, 3), NULL, 10) - q->p->from / DAY;
	gint64 ok = num(res, i, 4, dd), failed = num(res, i, 5, dd);

	digest_totals_add(now ? &dd->cur : &dd->prev, ok, failed, 1, &dd->capped);
	if (!now)
		return;
	if (day >= 0 && day < q->p->days) {
		if (dd->day_reports[day] == 0)
			dd->days_with_data++;
		figure_add(&dd->day_ok[day], ok, &dd->capped);
		figure_add(&dd->day_failed[day], failed, &dd->capped);
		figure_add(&dd->day_reports[day], 1, &dd->capped);
	}
	query_item_add(q, dd, dd->reporters, PQgetvalue(res, i, 1), figure_sum(ok, failed), failed,
		       1);
}

/* Row i of q_sessions, once every row of this period is in: a reporter of
 * the last period that sent nothing in this one is missing, once. */
static void query_missing_row(struct query_ctx *q, const PGresult *res, int i)
{
	struct digest_domain *dd = g_hash_table_lookup(q->seen, PQgetvalue(res, i, 0));
	const char *org = PQgetvalue(res, i, 1);
	char *name;

	if (g_str_equal(PQgetvalue(res, i, 2), "t") || query_has_item(q, dd->reporters, org) ||
	    query_has_item(q, dd->missing, org))
		return;
	name = g_strdup(org);
	g_ptr_array_add(dd->missing, name);
	tally_add(q->items, dd->missing, name, name);
}

static int query_sessions(struct query_ctx *q, struct error *err)
{
	PGresult *res = query_run(q, q_sessions[q->counted][q->filter], q->prev->from, q->p->to,
				  q->p->from, 5, "digest sessions", err);

	if (res == NULL)
		return -1;
	for (int i = 0; i < PQntuples(res); i++)
		query_session_row(q, res, i);
	for (int i = 0; i < PQntuples(res); i++)
		query_missing_row(q, res, i);
	PQclear(res);
	return 0;
}

static int query_failures(struct query_ctx *q, struct error *err)
{
	PGresult *res = query_run(q, q_failures[q->counted][q->filter], q->p->from, q->p->to, 0, 4,
				  "digest failures", err);

	if (res == NULL)
		return -1;
	for (int i = 0; i < PQntuples(res); i++) {
		struct digest_domain *dd = g_hash_table_lookup(q->seen, PQgetvalue(res, i, 0));
		const char *type = PQgetvalue(res, i, 1), *mx = PQgetvalue(res, i, 2);
		const char *ip = PQgetvalue(res, i, 3);
		gint64 n;

		if (dd == NULL)
			continue;
		n = num(res, i, 4, dd);
		query_item_add(q, dd, dd->result_types, type, n, 0, 0);
		query_item_add(q, dd, dd->mx_hosts, *mx ? mx : "(not reported)", n, 0, 0);
		query_item_add(q, dd, dd->ips, *ip ? ip : "(not reported)", n, 0, 0);
		if (digest_blocking_type(type)) {
			query_item_add(q, dd, dd->blocking_types, type, n, 0, 0);
			query_item_add(q, dd, dd->blocking_mx, *mx ? mx : "(not reported)", n, 0,
				       0);
		}
	}
	PQclear(res);
	return 0;
}

static int query_policies(struct query_ctx *q, struct error *err)
{
	PGresult *res = query_run(q, q_policies[q->counted][q->filter], q->p->from, q->p->to, 0, 4,
				  "digest policies", err);

	if (res == NULL)
		return -1;
	for (int i = 0; i < PQntuples(res); i++) {
		struct digest_domain *dd = g_hash_table_lookup(q->seen, PQgetvalue(res, i, 0));
		const char *type = PQgetvalue(res, i, 1), *mode = PQgetvalue(res, i, 2);
		const char *org = PQgetvalue(res, i, 3);

		if (dd == NULL)
			continue;
		query_item_add(q, dd, dd->policy_types, type, num(res, i, 4, dd), 0, 0);
		if (*mode)
			query_item_add(q, dd, dd->sts_modes, mode, num(res, i, 4, dd), 0, 0);
		/* Rows are per (type, mode, org): one org may come twice. */
		if (g_str_equal(type, "no-policy-found") &&
		    !g_ptr_array_find_with_equal_func(dd->no_policy, org, g_str_equal, NULL))
			g_ptr_array_add(dd->no_policy, g_strdup(org));
	}
	PQclear(res);
	return 0;
}

/* The digest's domains by name, those --domain named without reports
 * included (after query_finish). A new table the caller unrefs. */
static GHashTable *query_by_name(const struct query_ctx *q)
{
	GHashTable *by_name = g_hash_table_new(g_str_hash, g_str_equal);

	for (guint i = 0; i < q->d->domains->len; i++) {
		struct digest_domain *dd = g_ptr_array_index(q->d->domains, i);

		g_hash_table_insert(by_name, dd->domain, dd);
	}
	return by_name;
}

/* With authenticated-only, the reports left out, per domain of the
 * digest: never a domain of their own (a forger could fill the digest
 * with them), at most top senders named (all counted). */
static int query_unauthenticated(struct query_ctx *q, guint top, struct error *err)
{
	g_autoptr(GHashTable) by_name = NULL;
	PGresult *res;

	if (!q->counted)
		return 0;
	by_name = query_by_name(q);
	res = query_run(q, q_unauthenticated[q->filter], q->p->from, q->p->to, 0, 4,
			"digest unauthenticated reports", err);
	if (res == NULL)
		return -1;
	for (int i = 0; i < PQntuples(res); i++) {
		struct digest_domain *dd = g_hash_table_lookup(by_name, PQgetvalue(res, i, 0));

		if (dd == NULL)
			continue;
		figure_add(&dd->unauthenticated, num(res, i, 2, dd), &dd->capped);
		dd->unauthenticated_sender_count++;
		if (top == 0 || dd->unauthenticated_senders->len < top)
			g_ptr_array_add(dd->unauthenticated_senders,
					g_strdup(PQgetvalue(res, i, 1)));
	}
	PQclear(res);
	return 0;
}

/* The last live check of each domain of the digest, those --domain named
 * without reports included. */
static int query_checks(struct query_ctx *q, struct error *err)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new();
	g_autoptr(GHashTable) by_name = query_by_name(q);
	g_autofree char *array = NULL;
	const char *params[1];
	PGresult *res;

	for (guint i = 0; i < q->d->domains->len; i++)
		g_ptr_array_add(
			names,
			((struct digest_domain *)g_ptr_array_index(q->d->domains, i))->domain);
	if (names->len == 0)
		return 0;
	array = pg_array_of_strings(names);
	params[0] = array;
	res = PQexecParams(q->conn, q_checks, 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		db_error(q->conn, res, err, "digest live checks");
		PQclear(res);
		return -1;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		struct digest_domain *dd = g_hash_table_lookup(by_name, PQgetvalue(res, i, 0));
		g_auto(GStrv) failures = NULL;

		if (dd == NULL)
			continue;
		dd->check_date = g_strdup(PQgetvalue(res, i, 1));
		dd->check_ok = g_str_equal(PQgetvalue(res, i, 2), "t");
		failures =
			PQgetisnull(res, i, 3) ? NULL : g_strsplit(PQgetvalue(res, i, 3), "\n", -1);
		for (gsize j = 0; failures != NULL && failures[j] != NULL; j++)
			g_ptr_array_add(dd->check_failures, g_strdup(failures[j]));
		if (!PQgetisnull(res, i, 4))
			dd->check_id_change = g_strdup(PQgetvalue(res, i, 4));
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
		g_autofree char *lower = domain_normalise(q->globs[i]);
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
		 char **globs, const struct digest_config *c, struct digest **out,
		 struct error *err)
{
	struct query_ctx q = {
		.conn = conn, .p = p, .prev = prev, .globs = globs, .counted = c->authenticated_only
	};
	int rc = -1;

	query_domains(&q);
	q.items = tally_new();
	q.d = digest_new();
	q.d->period = *p;
	q.d->prev = *prev;
	q.seen = g_hash_table_new(g_str_hash, g_str_equal);
	if (query_sessions(&q, err) < 0 || query_failures(&q, err) < 0 ||
	    query_policies(&q, err) < 0)
		goto fail;
	query_finish(&q, c->top);
	if (query_unauthenticated(&q, c->top, err) < 0 || query_checks(&q, err) < 0)
		goto fail;
	*out = g_steal_pointer(&q.d);
	rc = 0;
fail:
	g_hash_table_destroy(q.seen);
	g_hash_table_destroy(q.items);
	g_free(q.names);
	g_free(q.patterns);
	digest_free(q.d);
	return rc;
}
