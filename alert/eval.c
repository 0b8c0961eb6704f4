/*
 * eval.c: a rule's figures over its window, from the database. Sessions
 * per report and domain are tlswatch.domain_sessions' (sql/013: the
 * largest count among that report's policies for the domain, so sts +
 * tlsa listed together count once, written as the report was stored),
 * and so are its failed sessions by result type and MX host (sql/014:
 * sums of the details failures.counted says count, sql/012). The
 * window is report time: date_end in (now - window, now], so --now
 * replays exactly. Each query reads only the reports of its window (the
 * date_end index of each partition, and date_start between the window's
 * first start and now leaves out the other partitions) and only the
 * domains asked for ($3: names, $4: LIKE patterns, NULL for all), so its
 * cost is the window's, not the history's. Grouping and thresholds are
 * done in C, while the server runs the next rule's queries: they all go
 * out together (eval_pipeline).
 */
#include <string.h>

#include "alert/alert.h"
#include "common/db.h"
#include "common/domain.h"
#include "common/figure.h"
#include "common/log.h"
#include "common/tally.h"

/* Every query but q_since reads tlswatch.domain_sessions d alone: the
 * window on the report, the domains asked for, and with $6 ([alert]
 * authenticated-only) only the reports of authenticated messages and
 * those never judged (stored before verification). The window is on
 * date_end, the partitions on date_start: $5, the earliest start among
 * the reports of the rule's window (eval_send_since), bounds the table
 * from below, a value known when the query is planned, so PostgreSQL
 * plans and reads only the partitions from there to now. */
#define SESSIONS_WINDOW_AND_DOMAINS                                                                \
	" WHERE d.date_end > to_timestamp($1::bigint)"                                             \
	" AND d.date_end <= to_timestamp($2::bigint)"                                              \
	" AND d.date_start >= to_timestamp($5::bigint)"                                            \
	" AND d.date_start <= to_timestamp($2::bigint)"                                            \
	" AND ($3::text[] IS NULL OR d.policy_domain = ANY ($3::text[]))"                          \
	" AND ($4::text[] IS NULL OR d.policy_domain LIKE ANY ($4::text[]))"                       \
	" AND (NOT $6::boolean OR d.authenticated IS NOT FALSE)"

/* $1 from, $2 to, $3 ALERT_REPORT_SPAN: the earliest start of a report
 * that ends in the window, $2 when none does. A report is taken to cover
 * at most ALERT_REPORT_SPAN (RFC 8460 reports cover a day): that bound on
 * date_start lets the planner leave out every older partition, where
 * without it planning alone read one more partition for each month of
 * history. The bound is
 * in seconds, not an interval: to_timestamp(bigint) is immutable and
 * folds into a constant the planner prunes with, but timestamptz minus an
 * interval is only stable and would not. */
#define ALERT_REPORT_SPAN 2678400 /* seconds: 31 days */
static const char *const q_since =
	"SELECT coalesce(floor(extract(epoch FROM min(date_start)))::bigint, $2::bigint)"
	" FROM tlswatch.reports WHERE date_end > to_timestamp($1::bigint)"
	" AND date_end <= to_timestamp($2::bigint) AND date_start <= to_timestamp($2::bigint)"
	" AND date_start > to_timestamp($1::bigint - $3::bigint)";

/* One row per report and domain. C reads the counts saturated. */
static const char *const q_reports =
	"SELECT d.policy_domain, d.organization_name, d.report_id,"
	" d.successful_sessions, d.failed_sessions"
	" FROM tlswatch.domain_sessions d" SESSIONS_WINDOW_AND_DOMAINS " ORDER BY d.report_ref, 1";

/* The failed sessions of each report and domain by result type and MX
 * host, one row per pair: the sums of the counted failure details
 * (failures.counted, sql/012) that the store writes beside the sessions
 * (sql/014), so a week of every domain is read from one table, no join,
 * in under half the rows of the details themselves. C adds them up
 * (eval_add_failure). */
static const char *const q_failures =
	"SELECT d.policy_domain, d.organization_name, u.type, coalesce(u.mx, '(not reported)'),"
	" u.n FROM tlswatch.domain_sessions d,"
	" unnest(d.failure_types, d.failure_mx_hosts, d.failure_sessions) AS u(type, mx, "
	"n)" SESSIONS_WINDOW_AND_DOMAINS " AND d.failure_types IS NOT NULL";

/* The end of each reporter's last report per domain. Unsorted: the
 * firings are sorted in C (eval_collect), and sorting 5,000 groups here by
 * collation cost a tenth of the query. */
static const char *const q_last =
	"SELECT d.policy_domain, d.organization_name,"
	" floor(extract(epoch FROM max(d.date_end)))::bigint"
	" FROM tlswatch.domain_sessions d" SESSIONS_WINDOW_AND_DOMAINS " GROUP BY 1, 2";

struct eval {
	const struct alert_rule *r;
	gint64 from, to;     /* the rule's window */
	gint64 read_from;    /* $1: reports ending after it are read */
	gint64 since;	     /* $5: no report read starts before (eval_since) */
	char *names;	     /* $3: the domains just stored (on ingest), or NULL */
	char *patterns;	     /* $4: the rule's domains = patterns, or NULL */
	GHashTable *domains; /* domain -> struct alert_firing * (whole domain) */
	GHashTable *groups;  /* "domain\n group" -> struct alert_firing * */
	GPtrArray *order;    /* keys of groups (owned here), in creation order */
	GString *key;	     /* eval_group's scratch */
	GHashTable *items;   /* tally: (list, name) → struct alert_item * */
};

static gint64 num(const PGresult *res, int row, int col)
{
	return g_ascii_strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/* Queue sql over (e->read_from, e->to] in the pipeline. */
static gboolean eval_send(const struct eval *e, PGconn *conn, const char *sql)
{
	char a[24], b[24], c[24];
	const char *params[6] = { a,	       b, e->names,
				  e->patterns, c, e->r->authenticated_only ? "true" : "false" };

	g_snprintf(a, sizeof(a), "%" G_GINT64_FORMAT, e->read_from);
	g_snprintf(b, sizeof(b), "%" G_GINT64_FORMAT, e->to);
	g_snprintf(c, sizeof(c), "%" G_GINT64_FORMAT, e->since);
	return PQsendQueryParams(conn, sql, 6, NULL, params, NULL, NULL, 0) == 1;
}

/* The rows of the next query in the pipeline, the NULL that ends them
 * consumed; NULL with err set when it failed. The caller clears it. */
static PGresult *eval_receive(PGconn *conn, struct error *err)
{
	PGresult *res = PQgetResult(conn);

	if (res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK) {
		PQclear(PQgetResult(conn));
		return res;
	}
	db_error(conn, res, err, "alert evaluation");
	PQclear(res);
	return NULL;
}

/* The Sync that ends a segment of the pipeline. */
static int eval_receive_sync(PGconn *conn, struct error *err)
{
	PGresult *res = PQgetResult(conn);
	int rc = 0;

	if (res == NULL || PQresultStatus(res) != PGRES_PIPELINE_SYNC)
		rc = db_error(conn, res, err, "alert evaluation");
	PQclear(res);
	return rc;
}

static gboolean eval_type_counted(const struct alert_rule *r, const char *type)
{
	if (r->result_types == NULL)
		return TRUE;
	for (guint i = 0; r->result_types[i] != NULL; i++) {
		if (g_ascii_strcasecmp(r->result_types[i], type) == 0)
			return TRUE;
	}
	return FALSE;
}

static struct alert_firing *eval_domain(struct eval *e, const char *domain)
{
	struct alert_firing *f = g_hash_table_lookup(e->domains, domain);

	if (f == NULL) {
		f = alert_firing_new(e->r, domain, NULL, e->from, e->to);
		g_hash_table_insert(e->domains, f->domain, f);
	}
	return f;
}

/* The key is built in e->key, copied only for a new group: a pass adds
 * tens of thousands of rows to a few thousand groups. */
static struct alert_firing *eval_group(struct eval *e, const char *domain, const char *group)
{
	struct alert_firing *f;
	char *key;

	g_string_assign(e->key, domain);
	g_string_append_c(e->key, '\n');
	g_string_append(e->key, group);
	f = g_hash_table_lookup(e->groups, e->key->str);
	if (f != NULL)
		return f;
	f = alert_firing_new(e->r, domain, group, e->from, e->to);
	key = g_strndup(e->key->str, e->key->len);
	g_hash_table_insert(e->groups, key, f);
	g_ptr_array_add(e->order, key);
	return f;
}

/* alert_items_add, through the tally: a pass over every domain adds to
 * thousands of items. */
static void eval_item_add(struct eval *e, struct alert_firing *f, GPtrArray *items,
			  const char *name, gint64 failed, gint64 sessions)
{
	struct alert_item *it = tally_find(e->items, items, name);

	if (it == NULL) {
		it = alert_item_new(items, name);
		tally_add(e->items, items, it->name, it);
	}
	alert_item_add(it, failed, sessions, &f->capped);
}

static void eval_add_report(struct eval *e, struct alert_firing *f, const PGresult *res, int i)
{
	gint64 ok = figure_read(PQgetvalue(res, i, 3), &f->capped);
	gint64 failed = figure_read(PQgetvalue(res, i, 4), &f->capped);

	figure_add(&f->successful, ok, &f->capped);
	figure_add(&f->failed_all, failed, &f->capped);
	f->reports++;
	if (e->r->result_types == NULL)
		figure_add(&f->failed, failed, &f->capped);
	eval_item_add(e, f, f->reporters, PQgetvalue(res, i, 1), failed, figure_sum(ok, failed));
	if (failed > 0)
		g_ptr_array_add(f->report_ids, g_strdup_printf("%s/%s", PQgetvalue(res, i, 1),
							       PQgetvalue(res, i, 2)));
}

static void eval_add_failure(struct eval *e, struct alert_firing *f, const PGresult *res, int i,
			     gboolean count)
{
	gint64 n = figure_read(PQgetvalue(res, i, 4), &f->capped);

	eval_item_add(e, f, f->result_types, PQgetvalue(res, i, 2), n, 0);
	eval_item_add(e, f, f->mx_hosts, PQgetvalue(res, i, 3), n, 0);
	if (count)
		figure_add(&f->failed, n, &f->capped);
}

/* e->since ($5 of every query): the earliest start among the reports that
 * end in the rule's window. A pass over every domain asks the database,
 * once per rule, so a 24-hour rule plans and reads a day or two of
 * partitions even when another rule looks back a month. On ingest the
 * index on the domain finds the few rows of the domains just stored
 * wherever they are: the bound is the longest span of a report instead
 * (eval_init), which q_since assumes anyway, and a delivery saves a round
 * trip. */
static gboolean eval_send_since(const struct eval *e, PGconn *conn)
{
	char a[24], b[24], c[24];
	const char *params[3] = { a, b, c };

	g_snprintf(a, sizeof(a), "%" G_GINT64_FORMAT, e->read_from);
	g_snprintf(b, sizeof(b), "%" G_GINT64_FORMAT, e->to);
	g_snprintf(c, sizeof(c), "%" G_GINT64_FORMAT, (gint64)ALERT_REPORT_SPAN);
	return PQsendQueryParams(conn, q_since, 3, NULL, params, NULL, NULL, 0) == 1;
}

static int eval_receive_since(struct eval *e, PGconn *conn, struct error *err)
{
	PGresult *res;

	if ((res = eval_receive(conn, err)) == NULL)
		return -1;
	e->since = PQntuples(res) == 1 ? num(res, 0, 0) : e->to;
	PQclear(res);
	return 0;
}

static int eval_receive_threshold(struct eval *e, PGconn *conn, struct error *err)
{
	PGresult *res;

	if ((res = eval_receive(conn, err)) == NULL)
		return -1;
	for (int i = 0; i < PQntuples(res); i++) {
		const char *domain = PQgetvalue(res, i, 0);

		eval_add_report(e, eval_domain(e, domain), res, i);
		if (e->r->group_by == ALERT_GROUP_REPORTER)
			eval_add_report(e, eval_group(e, domain, PQgetvalue(res, i, 1)), res, i);
	}
	PQclear(res);
	if ((res = eval_receive(conn, err)) == NULL)
		return -1;
	for (int i = 0; i < PQntuples(res); i++) {
		const char *domain = PQgetvalue(res, i, 0);
		gboolean typed = e->r->result_types != NULL;

		if (!eval_type_counted(e->r, PQgetvalue(res, i, 2)))
			continue;
		eval_add_failure(e, eval_domain(e, domain), res, i, typed);
		if (e->r->group_by == ALERT_GROUP_REPORTER)
			eval_add_failure(e, eval_group(e, domain, PQgetvalue(res, i, 1)), res, i,
					 typed);
		else if (e->r->group_by == ALERT_GROUP_MX)
			eval_add_failure(e, eval_group(e, domain, PQgetvalue(res, i, 3)), res, i,
					 TRUE);
	}
	PQclear(res);
	return 0;
}

/* An MX group gets its domain's session totals: reports count sessions per
 * policy, not per MX host, so the rate is over all the domain's sessions. */
static void eval_mx_totals(struct eval *e, struct alert_firing *f)
{
	const struct alert_firing *d = g_hash_table_lookup(e->domains, f->domain);

	if (d == NULL)
		return;
	f->successful = d->successful;
	f->failed_all = d->failed_all;
	f->reports = d->reports;
	f->capped |= d->capped;
	for (guint i = 0; i < d->reporters->len; i++) {
		const struct alert_item *it = g_ptr_array_index(d->reporters, i);

		eval_item_add(e, f, f->reporters, it->name, it->failed, it->sessions);
	}
	for (guint i = 0; i < d->report_ids->len; i++)
		g_ptr_array_add(f->report_ids, g_strdup(g_ptr_array_index(d->report_ids, i)));
}

static int eval_receive_silence(struct eval *e, PGconn *conn, struct error *err)
{
	PGresult *res;

	if ((res = eval_receive(conn, err)) == NULL)
		return -1;
	for (int i = 0; i < PQntuples(res); i++) {
		struct alert_firing *f =
			eval_group(e, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
		f->last_report = num(res, i, 2);
		f->from = e->to - e->r->silent_for;
	}
	PQclear(res);
	return 0;
}

/* A rule's queries: a threshold's reports then failures, a silence's
 * last reports. */
static gboolean eval_send_rows(struct eval *e, PGconn *conn)
{
	if (e->r->kind == ALERT_KIND_SILENCE)
		return eval_send(e, conn, q_last);
	return eval_send(e, conn, q_reports) && eval_send(e, conn, q_failures);
}

static int eval_receive_rows(struct eval *e, PGconn *conn, struct error *err)
{
	if (e->r->kind == ALERT_KIND_SILENCE)
		return eval_receive_silence(e, conn, err);
	return eval_receive_threshold(e, conn, err);
}

static gint eval_cmp(gconstpointer a, gconstpointer b)
{
	const struct alert_firing *x = *(struct alert_firing *const *)a;
	const struct alert_firing *y = *(struct alert_firing *const *)b;
	int c = strcmp(x->domain, y->domain);

	return c != 0 ? c : g_strcmp0(x->group, y->group);
}

/* Move the firings out of the tables into out, finished and sorted. */
static void eval_collect(struct eval *e, GPtrArray *out)
{
	GHashTableIter it;
	gpointer v;

	if (e->r->kind == ALERT_KIND_THRESHOLD && e->r->group_by == ALERT_GROUP_NONE) {
		g_hash_table_iter_init(&it, e->domains);
		while (g_hash_table_iter_next(&it, NULL, &v)) {
			g_ptr_array_add(out, v);
			g_hash_table_iter_steal(&it);
		}
	}
	for (guint i = 0; i < e->order->len; i++) {
		struct alert_firing *f = g_hash_table_lookup(e->groups, e->order->pdata[i]);

		if (e->r->group_by == ALERT_GROUP_MX)
			eval_mx_totals(e, f);
		g_ptr_array_add(out, f);
	}
	g_hash_table_steal_all(e->groups);
	for (guint i = 0; i < out->len; i++) {
		struct alert_firing *f = g_ptr_array_index(out, i);

		alert_items_sort(f->result_types);
		alert_items_sort(f->mx_hosts);
		alert_items_sort(f->reporters);
		alert_firing_check(f);
		if (f->capped)
			log_warning("rule %s, %s: figures stopped at %" G_GINT64_FORMAT
				    ": a report claims more sessions than exist",
				    e->r->name, f->domain, G_MAXINT64);
	}
	g_ptr_array_sort(out, eval_cmp);
}

static void eval_init(struct eval *e, const struct alert_rule *rule, gint64 now, char **only)
{
	e->r = rule;
	e->from = now - rule->window;
	e->to = now;
	e->read_from = rule->kind == ALERT_KIND_SILENCE
			       ? now - rule->silent_for - ALERT_SILENCE_LOOKBACK
			       : e->from;
	e->since = e->read_from - ALERT_REPORT_SPAN;
	e->domains = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
					   (GDestroyNotify)alert_firing_free);
	e->groups = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
					  (GDestroyNotify)alert_firing_free);
	e->order = g_ptr_array_new_with_free_func(g_free);
	e->key = g_string_new(NULL);
	e->items = tally_new();
	e->names = domain_names_sql_array(only);
	e->patterns = domain_patterns_sql_array(rule->domains);
}

static void eval_clear(struct eval *e)
{
	g_ptr_array_unref(e->order);
	g_string_free(e->key, TRUE);
	g_hash_table_unref(e->items);
	g_free(e->names);
	g_free(e->patterns);
	g_hash_table_unref(e->domains);
	g_hash_table_unref(e->groups);
}

/* Every rule's queries in one pipeline, in two segments: the bounds
 * (q_since, when ask: a pass), then the rows. Each segment goes out whole
 * before its first result is read, so that the server runs the next
 * query while we add up the rows of the last. A segment can be large (on
 * ingest $3 names up to a thousand domains, in each query): while the
 * socket will not take more, libpq reads what the server sends, so
 * neither side waits on the other for ever. The rows of all the rules
 * are read in one implicit transaction, one snapshot; a query that fails
 * fails the pass. On failure, err names the rule; the caller ends the
 * pipeline (db_pipeline_end). */
static int eval_pipeline(struct eval *e, guint n, gboolean ask, PGconn *conn, struct error *err)
{
	guint i;

	if (!PQenterPipelineMode(conn))
		return db_error(conn, NULL, err, "alert evaluation");
	for (i = 0; ask && i < n; i++) {
		if (!eval_send_since(&e[i], conn))
			return db_error(conn, NULL, err, "alert evaluation");
	}
	if (ask && !PQpipelineSync(conn))
		return db_error(conn, NULL, err, "alert evaluation");
	for (i = 0; ask && i < n; i++) {
		if (eval_receive_since(&e[i], conn, err) < 0)
			return error_prefix(err, "rule %s", e[i].r->name);
	}
	if (ask && eval_receive_sync(conn, err) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (!eval_send_rows(&e[i], conn))
			return db_error(conn, NULL, err, "alert evaluation");
	}
	if (!PQpipelineSync(conn))
		return db_error(conn, NULL, err, "alert evaluation");
	for (i = 0; i < n; i++) {
		if (eval_receive_rows(&e[i], conn, err) < 0)
			return error_prefix(err, "rule %s", e[i].r->name);
	}
	return eval_receive_sync(conn, err);
}

int alert_evaluate(PGconn *conn, const GPtrArray *rules, gint64 now, char **only, GPtrArray **out,
		   struct error *err)
{
	struct eval *e = g_new0(struct eval, rules->len);
	GPtrArray *lists = g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref);
	int rc;

	for (guint i = 0; i < rules->len; i++)
		eval_init(&e[i], g_ptr_array_index(rules, i), now, only);
	/* Ingest's store leaves its own pipeline before this runs. */
	if (rules->len == 0) {
		rc = 0;
	} else if (PQpipelineStatus(conn) != PQ_PIPELINE_OFF) {
		rc = error_set(err, ERR_TEMP, "alert evaluation: the connection is busy");
	} else {
		rc = eval_pipeline(e, rules->len, only == NULL, conn, err);
		db_pipeline_end(conn);
	}
	for (guint i = 0; i < rules->len; i++) {
		GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify)alert_firing_free);

		if (rc == 0)
			eval_collect(&e[i], list);
		g_ptr_array_add(lists, list);
		eval_clear(&e[i]);
	}
	g_free(e);
	if (rc < 0) {
		g_ptr_array_unref(lists);
		return -1;
	}
	*out = lists;
	return 0;
}
