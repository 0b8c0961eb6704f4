/*
 * store.c: messages into PostgreSQL (see store.h).
 *
 * Pipeline mode, because a message used to cost six round trips, client
 * and server taking turns to wait: its statements now go out together, and
 * in bulk the next message is parsed while the server writes this one, on
 * the other core, a batch of messages sharing one COMMIT (one WAL flush). One message
 * in flight at a time keeps that simple: its results are read before the
 * next is sent, so a refused message is rolled back to its savepoint before
 * anything else happens, nothing ever has to be sent twice, and the server
 * never waits on unread results. A report's failure-details go in as
 * arrays (unnest), parsed by PostgreSQL far faster than jsonb, and built
 * from the report model without a second JSON serialisation. (Past 800
 * lines: the SQL, some 120 of them, lives beside the code that feeds it.)
 */
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>

#include "common/db.h"
#include "common/domain.h"
#include "common/original.h"
#include "common/pgarray.h"
#include "ingest/store.h"

/* The savepoint each message runs behind. */
#define SAVEPOINT "tw_message"

enum statement_id {
	ST_INSERT_MESSAGE,
	ST_LOCK_MESSAGE,
	ST_UPDATE_MESSAGE,
	ST_MARK_DUPLICATE,
	ST_INSERT_REPORT,	      /* with failure-details */
	ST_INSERT_REPORT_NO_FAILURES, /* the same, fewer plan nodes */
	ST_SAVEPOINT,
	ST_RELEASE,
	ST_QUARANTINE_LIST,
	ST_QUARANTINE_GET,
	ST_CONTROL, /* BEGIN, COMMIT...: sent once, not prepared */
};

/* The id of the messages row this session inserted last; a subquery, so
 * that it is computed once and the primary key finds the row. */
#define LAST_MESSAGE "(SELECT currval('tlswatch.messages_id_seq'::regclass))"

/* The report ($1: its message, NULL for the one just inserted) and its
 * policies, $9..$16: one array per column (policy-string and mx-host
 * elements are array literals themselves), element i being policy i;
 * digest is the parameter holding the report's content digest in hex
 * (sql/004). The key goes in first: a report whose key exists inserts
 * nothing at all, or fails if it was stored with other content; of
 * concurrent deliveries the first to commit wins, the others wait for it
 * on the key's unique index, then skip. A new message goes in as stored;
 * when none of its reports was new, store_settle() makes it a duplicate
 * (ST_MARK_DUPLICATE). An authenticated copy of a report stored
 * unauthenticated (the https POST came first, or an unsigned copy) makes
 * it count: the key claim does that (sql/010), since an UPDATE of a
 * partitioned table here would have the whole statement planned again at
 * every execution. */
#define SQL_REPORT_AND_POLICIES(digest, authenticated)                                             \
	"WITH k AS (SELECT WHERE tlswatch.report_key_claim($2, $3, decode(" digest ", 'hex'),"     \
	" " authenticated "::boolean, $5::timestamptz, $6::timestamptz)),"                         \
	" r AS ("                                                                                  \
	"INSERT INTO tlswatch.reports (message_ref, organization_name, report_id, contact_info,"   \
	" date_start, date_end, original, warnings, authenticated)"                                \
	" SELECT coalesce($1::bigint, " LAST_MESSAGE "), $2, $3, $4, $5::timestamptz,"             \
	" $6::timestamptz, $7::bytea, $8::text[], " authenticated "::boolean FROM k"               \
	" RETURNING id, date_start, authenticated),"                                               \
	" p AS ("                                                                                  \
	"INSERT INTO tlswatch.policies (report_ref, date_start, policy_index, policy_type,"        \
	" policy_domain, policy_string, mx_host, sts_mode, sts_max_age, successful_sessions,"      \
	" failed_sessions, authenticated)"                                                         \
	" SELECT r.id, r.date_start, (u.n - 1)::integer, u.type, u.domain, u.strings::text[],"     \
	" u.mx::text[], u.mode, u.max_age, u.successful, u.failed, r.authenticated"                \
	" FROM r, unnest($9::text[], $10::text[], $11::text[], $12::text[], $13::text[],"          \
	" $14::bigint[], $15::bigint[], $16::bigint[])"                                            \
	" WITH ORDINALITY AS u(type, domain, strings, mx, mode, max_age, successful, failed, n)"   \
	" ORDER BY u.n RETURNING id, date_start, policy_index, policy_domain)"

/* The sessions per domain (sql/013), after SQL_REPORT_AND_POLICIES: the
 * largest counts among the report's policies for each domain, with the
 * reporter, the report-id and the end date, so that the queries read that
 * table alone. With failures, the sums of each domain's counted details
 * by result type and MX host (sql/014) from t (SQL_FAILURES); without,
 * those columns stay NULL. */
#define SQL_DOMAIN_SESSIONS(failure_columns, failures_join, failure_sums)                          \
	", s AS ("                                                                                 \
	"INSERT INTO tlswatch.domain_sessions (report_ref, date_start, date_end,"                  \
	" successful_sessions, failed_sessions, authenticated, policy_domain, organization_name,"  \
	" report_id" failure_columns ")"                                                           \
	" SELECT ds.*" failure_sums " FROM (SELECT r.id, r.date_start, $6::timestamptz,"           \
	" max(u.successful), max(u.failed), r.authenticated, u.domain, $2, $3"                     \
	" FROM r, unnest($10::text[], $15::bigint[], $16::bigint[])"                               \
	" AS u(domain, successful, failed)"                                                        \
	" GROUP BY r.id, r.date_start, r.authenticated, u.domain) ds" failures_join ")"

/* The failure-details, $17..$26: one array per column, element i being
 * failure-detail i of the report, in order. counted (sql/012): a detail
 * counts unless another policy of the report for the same domain lists
 * more failed sessions (or as many, at a lower index) for its result
 * type, MX host, sending IP and receiving IP; the sums are SQL's, on the
 * values as stored, so that this and the migration's rule agree. c holds
 * the details with that flag, f stores them, t sums the counted ones of
 * each domain by result type and MX host for domain_sessions (sql/014). */
#define FAILURE_GROUP "type, coalesce(mx, ''), coalesce(host(sending_ip), ''), receiving_ip"
#define SQL_FAILURES                                                                               \
	", c AS ("                                                                                 \
	"SELECT d.*, policy = first_value(policy) OVER (PARTITION BY policy_domain,"               \
	" " FAILURE_GROUP " ORDER BY group_sessions DESC, policy) AS counted"                      \
	" FROM (SELECT p.id, p.date_start, p.policy_domain, u.*,"                                  \
	" sum(u.sessions) OVER (PARTITION BY u.policy, " FAILURE_GROUP ") AS group_sessions"       \
	" FROM unnest($17::integer[], $18::integer[], $19::text[], $20::inet[], $21::text[],"      \
	" $22::text[], $23::inet[], $24::bigint[], $25::text[], $26::text[])"                      \
	" WITH ORDINALITY AS u(policy, detail, type, sending_ip, mx, helo, receiving_ip,"          \
	" sessions, info, code, n)"                                                                \
	" JOIN p ON p.policy_index = u.policy) d),"                                                \
	" f AS ("                                                                                  \
	"INSERT INTO tlswatch.failures (policy_ref, detail_index, date_start, result_type,"        \
	" sending_mta_ip, receiving_mx_hostname, receiving_mx_helo, receiving_ip,"                 \
	" failed_sessions, additional_information, failure_reason_code, counted)"                  \
	" SELECT id, detail, date_start, type, sending_ip, mx, helo, receiving_ip, sessions,"      \
	" info, code, counted FROM c ORDER BY n),"                                                 \
	" t AS ("                                                                                  \
	"SELECT policy_domain, array_agg(type ORDER BY type, mx) AS types,"                        \
	" array_agg(mx ORDER BY type, mx) AS mx_hosts,"                                            \
	" array_agg(sessions ORDER BY type, mx) AS sessions"                                       \
	" FROM (SELECT policy_domain, type, mx, sum(sessions) AS sessions FROM c WHERE counted"    \
	" GROUP BY 1, 2, 3) pairs GROUP BY 1)" SQL_DOMAIN_SESSIONS(                                \
		", failure_types, failure_mx_hosts, failure_sessions",                             \
		" LEFT JOIN t ON t.policy_domain = ds.domain",                                     \
		", t.types, t.mx_hosts, t.sessions")

/* Read in binary: text columns arrive as their bytes, raw unescaped. */
#define SQL_QUARANTINED(raw)                                                                       \
	"SELECT id::text, to_char(received_at AT TIME ZONE 'UTC',"                                 \
	" 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), from_addr, subject, coalesce(reason, ''), " raw       \
	" FROM tlswatch.messages WHERE status = 'quarantined'"

#define SQL_INSERT_MESSAGE                                                                         \
	"INSERT INTO tlswatch.messages (message_id, from_addr, subject, report_domain,"            \
	" report_submitter, status, reason, raw, channel, client, user_agent, authenticated,"      \
	" dkim_result, dkim_domain, dkim_selector, auth_note, dkim_signatures)"                    \
	" VALUES ($1, $2, $3, $4, $5, $6, $7, $8::bytea, $9, $10::inet, $11, $12::boolean, $13,"   \
	" $14, $15, $16, $17::jsonb) RETURNING id"

/* A new message none of whose reports was new. Asked the other way round
 * (stored as a duplicate, made stored by its first new report), nearly
 * every message was written twice: status is in the predicate of the
 * index messages_quarantined, so the update could not be HOT and left a
 * dead row and index entries behind (about 250 bytes a message). */
#define SQL_MARK_DUPLICATE "UPDATE tlswatch.messages SET status = 'duplicate' WHERE id = $1::bigint"

#define SQL_LOCK_MESSAGE "SELECT status FROM tlswatch.messages WHERE id = $1::bigint FOR UPDATE"

/* A retried row, in which $2 reports were found. The raw bytes stay while
 * the message stays in quarantine, unless new ones are given; a message
 * that leaves it keeps them only when given (keep-raw). */
#define SQL_UPDATE_MESSAGE                                                                         \
	"UPDATE tlswatch.messages SET status = CASE WHEN $2::int = 0 THEN 'quarantined'"           \
	" WHEN EXISTS (SELECT FROM tlswatch.reports r WHERE r.message_ref = $1::bigint)"           \
	" THEN 'stored' ELSE 'duplicate' END, reason = $3::text,"                                  \
	" raw = CASE WHEN $4::bytea IS NOT NULL OR $2::int > 0 THEN $4::bytea ELSE raw END,"       \
	" authenticated = $5::boolean, dkim_result = $6, dkim_domain = $7, dkim_selector = $8,"    \
	" auth_note = $9, dkim_signatures = $10::jsonb WHERE id = $1::bigint"

/* Prepared on first use; what names the step in error messages. */
static const struct statement {
	const char *name;
	const char *what;
	const char *sql;
} statements[] = {
	[ST_INSERT_MESSAGE] = { "tw_insert_message", "storing the message", SQL_INSERT_MESSAGE },
	[ST_LOCK_MESSAGE] = { "tw_lock_message", "reading the quarantined message",
			      SQL_LOCK_MESSAGE },
	[ST_UPDATE_MESSAGE] = { "tw_update_message", "updating the message", SQL_UPDATE_MESSAGE },
	[ST_MARK_DUPLICATE] = { "tw_mark_duplicate", "marking the message a duplicate",
				SQL_MARK_DUPLICATE },
	[ST_INSERT_REPORT] = { "tw_insert_report", "storing the report",
			       SQL_REPORT_AND_POLICIES("$27", "$28") SQL_FAILURES
			       " SELECT id FROM r" },
	[ST_INSERT_REPORT_NO_FAILURES] = { "tw_insert_report_nf", "storing the report",
					   SQL_REPORT_AND_POLICIES("$17", "$18")
						   SQL_DOMAIN_SESSIONS("", "",
								       "") " SELECT id FROM r" },
	[ST_SAVEPOINT] = { "tw_savepoint", "starting the message", "SAVEPOINT " SAVEPOINT },
	[ST_RELEASE] = { "tw_release", "ending the message", "RELEASE SAVEPOINT " SAVEPOINT },
	[ST_QUARANTINE_LIST] = { "tw_quarantine_list", "listing the quarantine",
				 SQL_QUARANTINED("NULL::bytea") " ORDER BY id" },
	[ST_QUARANTINE_GET] = { "tw_quarantine_get", "reading the quarantine",
				SQL_QUARANTINED("raw") " AND id = $1::bigint" },
	[ST_CONTROL] = { NULL, "writing to the database", NULL },
};

/* A result expected from the pipeline: the statement (or ST_CONTROL),
 * whether it is the Parse that prepares it, and for a report the index of
 * that report in its message (-1 otherwise). */
struct step {
	enum statement_id sid;
	gboolean prepare;
	int report;
};

/* A message sent, until its transaction has ended. */
struct pending {
	store_done_fn done;
	gpointer data;
	GArray *steps; /* struct step, in the order sent */
	guint reports;
	guint inserted; /* reports that were new */
	gboolean retry; /* a quarantined message again, not a new row */
	int refused;	/* the report the database refused, or -1 */
	gint64 id;
	enum message_status status;
	struct error err;
};

struct store {
	PGconn *conn;
	guint prepared;	 /* bit sid: statements[sid] is prepared */
	guint batch_max; /* messages per transaction */
	gboolean in_transaction;
	gboolean in_savepoint;	/* the last message's savepoint is not released */
	struct pending *flight; /* sent, its results not read yet */
	GPtrArray *batch;	/* struct pending *: settled, waiting for COMMIT */
};

const char *message_status_name(enum message_status status)
{
	switch (status) {
	case MESSAGE_STORED:
		return "stored";
	case MESSAGE_DUPLICATE:
		return "duplicate";
	case MESSAGE_QUARANTINED:
		break;
	}
	return "quarantined";
}

/* The schema must exist and be no older than this binary's migrations: one
 * query, not db_schema_version's two catalog lookups (the MTA pays for
 * each on every message). */
static int store_check_schema(PGconn *conn, struct error *err)
{
	PGresult *res =
		PQexec(conn, "SELECT coalesce(max(version), 0) FROM tlswatch.schema_version");
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	int current = 0, latest = db_latest_version();

	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		current = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
	else if (state == NULL || (strcmp(state, "42P01") != 0 && strcmp(state, "3F000") != 0))
		current = db_error(conn, res, err, "checking the database schema");
	PQclear(res);
	if (current < 0)
		return -1;
	if (current == 0)
		return error_set(err, ERR_CONFIG,
				 "database schema not initialised: run `tlswatch db init`");
	if (current < latest)
		return error_set(err, ERR_CONFIG,
				 "database schema is version %d, this tlswatch needs %d:"
				 " run `tlswatch db migrate`",
				 current, latest);
	return 0;
}

int store_open(struct store **out, const char *conninfo, struct error *err)
{
	struct store *st = g_new0(struct store, 1);

	st->batch_max = 1;
	st->batch = g_ptr_array_new();
	st->conn = db_connect(conninfo, err);
	if (st->conn == NULL || store_check_schema(st->conn, err) < 0) {
		store_free(st);
		return -1;
	}
	*out = st;
	return 0;
}

static void pending_free(struct pending *p)
{
	g_array_unref(p->steps);
	error_clear(&p->err);
	g_free(p);
}

/* End the transaction (rolled back) and report err to every message in
 * it. Returns -1. */
static int store_abort(struct store *st, const struct error *err)
{
	g_autoptr(GPtrArray) lost = g_steal_pointer(&st->batch);

	st->batch = g_ptr_array_new();
	if (st->flight != NULL)
		g_ptr_array_add(lost, g_steal_pointer(&st->flight));
	/* Whatever state the pipeline is in, PostgreSQL rolls back what a
	 * closed connection left open; the store is of no further use. */
	g_clear_pointer(&st->conn, PQfinish);
	st->in_transaction = st->in_savepoint = FALSE;
	for (guint i = 0; i < lost->len; i++) {
		struct pending *p = g_ptr_array_index(lost, i);

		p->done(p->data, MESSAGE_QUARANTINED, 0, -1, err);
		pending_free(p);
	}
	return -1;
}

void store_free(struct store *st)
{
	if (st == NULL)
		return;
	if (st->conn != NULL)
		PQfinish(st->conn); /* an open batch is rolled back by the server */
	g_ptr_array_free(st->batch, TRUE);
	g_free(st);
}

PGconn *store_conn(struct store *st)
{
	return st->conn;
}

void store_set_batch(struct store *st, guint messages)
{
	st->batch_max = MAX(messages, 1);
}

/* ---- sending ----------------------------------------------------------- */

/* The parameters of one statement: text (NULL is SQL NULL), except raw,
 * sent as bytes in binary format. keep owns strings made for them. */
struct params {
	int n;
	const char *values[28];
	int lengths[28];
	int formats[28];
	GPtrArray *keep;
};

static void params_add(struct params *p, const char *value)
{
	g_assert(p->n < (int)G_N_ELEMENTS(p->values));
	p->values[p->n++] = value;
}

/* value is freed with p. */
static void params_take(struct params *p, char *value)
{
	g_ptr_array_add(p->keep, value);
	params_add(p, value);
}

static void params_add_raw(struct params *p, GBytes *raw)
{
	gsize len = 0;
	const char *data = raw ? g_bytes_get_data(raw, &len) : NULL;

	if (raw == NULL)
		return params_add(p, NULL);
	p->lengths[p->n] = (int)len;
	p->formats[p->n] = 1;
	params_add(p, data ? data : ""); /* empty, not NULL */
}

/* Queue statement sid with its parameters (NULL for none), preparing it
 * first on this connection. libpq copies the parameters. */
static int store_send(struct store *st, struct pending *p, enum statement_id sid, const char *sql,
		      const struct params *params)
{
	const struct statement *s = &statements[sid];
	int n = params ? params->n : 0, ok;

	if (sid != ST_CONTROL && !(st->prepared & (1u << sid))) {
		if (!PQsendPrepare(st->conn, s->name, s->sql, 0, NULL))
			return -1;
		st->prepared |= 1u << sid;
		g_array_append_val(p->steps, ((struct step){ sid, TRUE, -1 }));
	}
	if (sid == ST_CONTROL)
		ok = PQsendQueryParams(st->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
	else
		ok = PQsendQueryPrepared(st->conn, s->name, n, params ? params->values : NULL,
					 params ? params->lengths : NULL,
					 params ? params->formats : NULL, 0);
	if (!ok)
		return -1;
	g_array_append_val(p->steps, ((struct step){ sid, FALSE, -1 }));
	return 0;
}

static int store_control(struct store *st, struct pending *p, const char *sql)
{
	return store_send(st, p, ST_CONTROL, sql, NULL);
}

/* Header fields are whatever the sender wrote: make them valid UTF-8 so a
 * stray byte cannot make the quarantine itself fail. */
static char *store_text(const char *s)
{
	return s ? g_utf8_make_valid(s, -1) : NULL;
}

/* Whole seconds, UTC, as report_to_json() writes them. */
static char *store_datetime(GDateTime *dt)
{
	g_autoptr(GDateTime) utc = g_date_time_to_utc(dt);

	return g_strdup_printf("%04d-%02d-%02dT%02d:%02d:%02dZ", g_date_time_get_year(utc),
			       g_date_time_get_month(utc), g_date_time_get_day_of_month(utc),
			       g_date_time_get_hour(utc), g_date_time_get_minute(utc),
			       g_date_time_get_second(utc));
}

/* $9..$16 of tw_insert_report: the policies, one array literal per column. */
static void store_policy_arrays(struct params *params, const struct report *r)
{
	enum { TYPE, DOMAIN, STRINGS, MX, MODE, MAX_AGE, SUCCESSFUL, FAILED, COLUMNS };
	GString *col[COLUMNS];

	for (int c = 0; c < COLUMNS; c++)
		col[c] = g_string_new(NULL);
	for (guint i = 0; i < r->policies->len; i++) {
		const struct policy *p = &g_array_index(r->policies, struct policy, i);
		g_autofree char *strings = pg_array_of_strings(p->strings);
		g_autofree char *mx = pg_array_of_strings(p->mx_hosts);
		g_autofree char *max_age =
			p->sts_max_age >= 0 ? g_strdup_printf("%" G_GINT64_FORMAT, p->sts_max_age)
					    : NULL;

		g_autofree char *type = g_ascii_strdown(p->type, -1);
		g_autofree char *domain = domain_normalise(p->domain);

		pg_array_add(col[TYPE], type);
		pg_array_add(col[DOMAIN], domain);
		pg_array_add(col[STRINGS], strings);
		pg_array_add(col[MX], mx);
		pg_array_add(col[MODE], p->sts_mode);
		pg_array_add(col[MAX_AGE], max_age);
		pg_array_add_int(col[SUCCESSFUL], p->successful_sessions);
		pg_array_add_int(col[FAILED], p->failed_sessions);
	}
	for (int c = 0; c < COLUMNS; c++)
		params_take(params, pg_array_end(col[c]));
}

/* $17..$26 of tw_insert_report: the failure-details of every policy, one
 * array literal per column. */
static void store_failure_arrays(struct params *params, const struct report *r)
{
	enum { POLICY, DETAIL, TYPE, SENDING, MX, HELO, RECEIVING, SESSIONS, INFO, CODE, COLUMNS };
	GString *col[COLUMNS];

	for (int c = 0; c < COLUMNS; c++)
		col[c] = g_string_new(NULL);
	for (guint i = 0; i < r->policies->len; i++) {
		const struct policy *p = &g_array_index(r->policies, struct policy, i);

		for (guint j = 0; j < p->failures->len; j++) {
			const struct failure_detail *f =
				&g_array_index(p->failures, struct failure_detail, j);
			g_autofree char *type = g_ascii_strdown(f->result_type, -1);

			pg_array_add_int(col[POLICY], i);
			pg_array_add_int(col[DETAIL], j);
			pg_array_add(col[TYPE], type);
			pg_array_add(col[SENDING], f->sending_mta_ip);
			pg_array_add(col[MX], f->receiving_mx_hostname);
			pg_array_add(col[HELO], f->receiving_mx_helo);
			pg_array_add(col[RECEIVING], f->receiving_ip);
			pg_array_add_int(col[SESSIONS], f->failed_sessions);
			pg_array_add(col[INFO], f->additional_information);
			pg_array_add(col[CODE], f->failure_reason_code);
		}
	}
	for (int c = 0; c < COLUMNS; c++)
		params_take(params, pg_array_end(col[c]));
}

/* reports.original: the JSON as received, deflated (common/original.h);
 * the parsed document printed when there is none (a report given as a
 * struct, not bytes). NULL when out of memory. A new GBytes. */
static GBytes *store_original(const struct report *r, GBytes *json)
{
	g_autofree char *text = NULL;
	json_t *norm;

	if (json != NULL)
		return original_deflate(g_bytes_get_data(json, NULL), g_bytes_get_size(json));
	if (r->document != NULL) {
		text = json_dumps(r->document, JSON_COMPACT);
	} else if ((norm = report_to_json(r)) != NULL) {
		text = json_dumps(norm, JSON_COMPACT);
		json_decref(norm);
	}
	return text ? original_deflate(text, strlen(text)) : NULL;
}

/* The digest of a report's content that tells a re-delivery (the same)
 * from a conflicting re-send (sql/004): SHA-256 in hex over the values of
 * params, each with its length, except those listed in skip (-1 ends the
 * list). What counts is what the report says about sessions: dates,
 * policies, figures, failure-details; not the message, the JSON text, our
 * warnings or the reporter's free text (contact-info, additional-
 * information, failure-reason-code), which the copies of the RFC's
 * example in the wild reword without changing a figure. Changing what
 * goes in would turn every later re-delivery of a stored report into a
 * conflict: the leading "v1" says which recipe made a digest. A new
 * string (g_free). */
static char *store_content_digest(const struct params *params, const int *skip)
{
	g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);

	g_checksum_update(sum, (const guchar *)"v1", 2);
	for (int i = 0; i < params->n; i++) {
		const char *v = params->values[i];
		char len[24];
		gboolean skipped = FALSE;

		for (const int *k = skip; *k >= 0; k++)
			skipped = skipped || *k == i;
		if (skipped)
			continue;
		g_snprintf(len, sizeof(len), "%" G_GSSIZE_FORMAT ":", v ? (gssize)strlen(v) : -1);
		g_checksum_update(sum, (const guchar *)len, -1);
		if (v != NULL)
			g_checksum_update(sum, (const guchar *)v, -1);
	}
	return g_strdup(g_checksum_get_string(sum));
}

/* messages.authenticated and reports.authenticated: NULL when not judged. */
static const char *store_boolean(int value)
{
	return value == 0 ? NULL : value > 0 ? "true" : "false";
}

/* The trust columns of rec, in the order the message statements take. */
static void store_trust_params(struct params *params, const struct message_record *rec)
{
	params_add(params, store_boolean(rec->authenticated));
	params_take(params, store_text(rec->dkim_result));
	params_take(params, store_text(rec->dkim_domain));
	params_take(params, store_text(rec->dkim_selector));
	params_take(params, store_text(rec->auth_note));
	params_take(params, store_text(rec->dkim_signatures));
}

/* Report number index of its message, its policies and failures, for the
 * message message_ref (0: the one just inserted); json is the report as
 * received, or NULL. */
static int store_send_report(struct store *st, struct pending *p, gint64 message_ref, int index,
			     const struct report *r, GBytes *json, int authenticated,
			     struct error *err)
{
	/* $1 message, $4 contact, $7 JSON, $8 warnings, $25 additional-
	 * information, $26 failure-reason-code. */
	static const int not_content[] = { 0, 3, 6, 7, 24, 25, -1 };
	struct params params = { .keep = g_ptr_array_new_with_free_func(g_free) };
	g_autoptr(GBytes) original = store_original(r, json);
	enum statement_id sid = ST_INSERT_REPORT_NO_FAILURES;
	int rc = -1;

	/* json_dumps' strings go to g_free too: GLib >= 2.46 allocates with
	 * malloc. */
	params_take(&params,
		    message_ref ? g_strdup_printf("%" G_GINT64_FORMAT, message_ref) : NULL);
	params_add(&params, r->organization_name);
	params_add(&params, r->report_id);
	params_add(&params, r->contact_info);
	params_take(&params, store_datetime(r->date_start));
	params_take(&params, store_datetime(r->date_end));
	params_add_raw(&params, original);
	params_take(&params, pg_array_of_strings(r->warnings));
	store_policy_arrays(&params, r);
	for (guint i = 0; i < r->policies->len && sid != ST_INSERT_REPORT; i++) {
		if (g_array_index(r->policies, struct policy, i).failures->len > 0)
			sid = ST_INSERT_REPORT;
	}
	if (sid == ST_INSERT_REPORT)
		store_failure_arrays(&params, r);
	params_take(&params, store_content_digest(&params, not_content));
	params_add(&params, store_boolean(authenticated));
	/* Not the data's fault (jansson fails only without memory): retry,
	 * never drop. */
	if (original == NULL) {
		error_set(err, ERR_TEMP, "cannot compress the report's JSON: out of memory");
	} else if (store_send(st, p, sid, NULL, &params) == 0) {
		g_array_index(p->steps, struct step, p->steps->len - 1).report = index;
		rc = 0;
	} else {
		db_error(st->conn, NULL, err, statements[sid].what);
	}
	g_ptr_array_free(params.keep, TRUE);
	return rc;
}

/* The statements of one message, behind its savepoint, then a Sync. */
static int store_send_message(struct store *st, struct pending *p, const struct message_record *rec,
			      struct error *err)
{
	struct params params = { .keep = g_ptr_array_new_with_free_func(g_free) };
	int rc = -1;

	/* The last message's savepoint is released only now: until its
	 * results were read, it could still have had to be rolled back. */
	if ((!st->in_transaction && store_control(st, p, "BEGIN") < 0) ||
	    (st->in_savepoint && store_send(st, p, ST_RELEASE, NULL, NULL) < 0) ||
	    store_send(st, p, ST_SAVEPOINT, NULL, NULL) < 0)
		goto fail;
	st->in_transaction = st->in_savepoint = TRUE;
	if (rec->retry_id > 0) {
		params_take(&params, g_strdup_printf("%" G_GINT64_FORMAT, rec->retry_id));
		if (store_send(st, p, ST_LOCK_MESSAGE, NULL, &params) < 0)
			goto fail;
	} else {
		params_take(&params, store_text(rec->message_id));
		params_take(&params, store_text(rec->from_addr));
		params_take(&params, store_text(rec->subject));
		params_take(&params, store_text(rec->report_domain));
		params_take(&params, store_text(rec->report_submitter));
		/* With reports, stored unless none of them is new. */
		params_add(&params,
			   message_status_name(p->reports ? MESSAGE_STORED : MESSAGE_QUARANTINED));
		params_take(&params, store_text(rec->reason));
		params_add_raw(&params, rec->raw);
		params_take(&params, store_text(rec->channel));
		params_take(&params, store_text(rec->client));
		params_take(&params, store_text(rec->user_agent));
		store_trust_params(&params, rec);
		if (store_send(st, p, ST_INSERT_MESSAGE, NULL, &params) < 0)
			goto fail;
	}
	for (guint i = 0; rec->reports != NULL && i < p->reports; i++) {
		if (store_send_report(st, p, rec->retry_id, (int)i,
				      g_ptr_array_index(rec->reports, i),
				      rec->documents ? g_ptr_array_index(rec->documents, i) : NULL,
				      rec->authenticated, err) < 0)
			goto done;
	}
	if (rec->retry_id > 0) {
		params.n = 1; /* the id again */
		params_take(&params, g_strdup_printf("%u", p->reports));
		params_take(&params, store_text(rec->reason));
		params_add_raw(&params, rec->raw);
		store_trust_params(&params, rec);
		if (store_send(st, p, ST_UPDATE_MESSAGE, NULL, &params) < 0)
			goto fail;
	}
	/* No COMMIT yet, even for a message alone: once sent, the server would
	 * run it after our exit (a watchdog, a kill) and store what we had
	 * told the MTA to deliver again. */
	if (!PQpipelineSync(st->conn))
		goto fail;
	rc = 0;
	goto done;
fail:
	db_error(st->conn, NULL, err, "sending the message");
done:
	g_ptr_array_free(params.keep, TRUE);
	return rc;
}

/* ---- results ----------------------------------------------------------- */

/* The next result of the pipeline, with the NULL that ends it consumed;
 * NULL when the connection is gone. The caller clears it. */
static PGresult *store_next(PGconn *conn)
{
	PGresult *res = PQgetResult(conn);

	if (res != NULL && PQresultStatus(res) != PGRES_PIPELINE_SYNC)
		PQclear(PQgetResult(conn));
	return res;
}

/* Read the results of a segment up to its Sync: steps (NULL: a single
 * control statement), the first failure into err, what the statements
 * returned into p (may be NULL). Returns -1 when the connection failed. */
static int store_read(struct store *st, struct pending *p, const GArray *steps, struct error *err)
{
	guint n = steps ? steps->len : 1;
	PGresult *res;

	for (guint i = 0; i <= n; i++) {
		struct step s = steps && i < n ? g_array_index(steps, struct step, i)
					       : (struct step){ ST_CONTROL, FALSE, -1 };
		ExecStatusType status;

		res = store_next(st->conn);
		if (res == NULL)
			return db_error(st->conn, NULL, err, statements[s.sid].what);
		status = PQresultStatus(res);
		if (i == n) /* the Sync */
			status = status == PGRES_PIPELINE_SYNC ? PGRES_COMMAND_OK
							       : PGRES_FATAL_ERROR;
		/* A Parse that failed or was skipped prepared nothing. */
		if (s.prepare && status != PGRES_COMMAND_OK)
			st->prepared &= ~(1u << s.sid);
		if (status == PGRES_FATAL_ERROR && err->cls == ERR_NONE) {
			db_error(st->conn, res, err, statements[s.sid].what);
			if (p != NULL)
				p->refused = s.report;
		} else if (status == PGRES_TUPLES_OK && !s.prepare && p != NULL) {
			if (s.sid == ST_INSERT_MESSAGE)
				p->id = g_ascii_strtoll(PQgetvalue(res, 0, 0), NULL, 10);
			else if (s.sid == ST_INSERT_REPORT || s.sid == ST_INSERT_REPORT_NO_FAILURES)
				p->inserted += (guint)PQntuples(res);
			else if (s.sid == ST_LOCK_MESSAGE &&
				 (PQntuples(res) != 1 ||
				  !g_str_equal(PQgetvalue(res, 0, 0), "quarantined")) &&
				 err->cls == ERR_NONE)
				error_set(err, ERR_USAGE,
					  "message %" G_GINT64_FORMAT " is not in quarantine",
					  p->id);
		}
		PQclear(res);
		if (PQstatus(st->conn) != CONNECTION_OK)
			return db_error(st->conn, NULL, err, statements[s.sid].what);
	}
	return 0;
}

/* Send one control statement and wait for it. */
static int store_control_now(struct store *st, const char *sql, struct error *err)
{
	if (!PQsendQueryParams(st->conn, sql, 0, NULL, NULL, NULL, NULL, 0) ||
	    !PQpipelineSync(st->conn))
		return db_error(st->conn, NULL, err, sql);
	return store_read(st, NULL, NULL, err) < 0 || err->cls != ERR_NONE ? -1 : 0;
}

/* Make p's new row a duplicate (SQL_MARK_DUPLICATE), still behind its
 * savepoint: nothing else has been sent since. */
static int store_mark_duplicate(struct store *st, struct pending *p, struct error *err)
{
	struct params params = { .keep = g_ptr_array_new_with_free_func(g_free) };
	int rc = -1;

	g_array_set_size(p->steps, 0);
	params_take(&params, g_strdup_printf("%" G_GINT64_FORMAT, p->id));
	if (store_send(st, p, ST_MARK_DUPLICATE, NULL, &params) < 0 || !PQpipelineSync(st->conn)) {
		db_error(st->conn, NULL, err, statements[ST_MARK_DUPLICATE].what);
		goto fail;
	}
	if (store_read(st, NULL, p->steps, err) < 0 || err->cls != ERR_NONE)
		goto fail;
	rc = 0;
fail:
	g_ptr_array_free(params.keep, TRUE);
	return rc;
}

/* Read the results of the message in flight. A message the data or the
 * retried row condemns is rolled back to its savepoint and told so;
 * anything else ends the transaction. Returns -1 when the transaction was
 * lost. */
static int store_settle(struct store *st, struct error *err)
{
	struct pending *p = g_steal_pointer(&st->flight);

	if (store_read(st, p, p->steps, &p->err) < 0 ||
	    (p->err.cls != ERR_NONE && p->err.cls != ERR_INPUT && p->err.cls != ERR_USAGE)) {
		error_set(err, p->err.cls, "%s", p->err.msg);
		st->flight = p;
		return store_abort(st, err);
	}
	if (p->err.cls == ERR_NONE) {
		p->status = p->reports == 0 ? MESSAGE_QUARANTINED
			    : p->inserted   ? MESSAGE_STORED
					    : MESSAGE_DUPLICATE;
		if (p->status == MESSAGE_DUPLICATE && !p->retry &&
		    store_mark_duplicate(st, p, err) < 0) {
			st->flight = p;
			return store_abort(st, err);
		}
		g_ptr_array_add(st->batch, p);
		return 0;
	}
	if (store_control_now(st, "ROLLBACK TO SAVEPOINT " SAVEPOINT, err) < 0 ||
	    store_control_now(st, "RELEASE SAVEPOINT " SAVEPOINT, err) < 0) {
		st->flight = p;
		return store_abort(st, err);
	}
	st->in_savepoint = FALSE;
	p->done(p->data, MESSAGE_QUARANTINED, 0, p->refused, &p->err);
	pending_free(p);
	return 0;
}

int store_commit(struct store *st, struct error *err)
{
	g_autoptr(GPtrArray) done = NULL;

	while (st->flight != NULL) {
		if (store_settle(st, err) < 0)
			return -1;
	}
	if (st->in_transaction && store_control_now(st, "COMMIT", err) < 0)
		return store_abort(st, err);
	st->in_transaction = st->in_savepoint = FALSE;
	if (st->conn != NULL)
		PQexitPipelineMode(st->conn);
	/* Nothing counts as stored before COMMIT has returned. */
	done = g_steal_pointer(&st->batch);
	st->batch = g_ptr_array_new();
	for (guint i = 0; i < done->len; i++) {
		struct pending *p = g_ptr_array_index(done, i);

		p->done(p->data, p->status, p->id, -1, NULL);
		pending_free(p);
	}
	return 0;
}

int store_submit(struct store *st, const struct message_record *rec, store_done_fn done,
		 gpointer data, struct error *err)
{
	struct pending *p = g_new0(struct pending, 1);

	p->done = done;
	p->refused = -1;
	p->steps = g_array_new(FALSE, FALSE, sizeof(struct step));
	if (st->conn == NULL) {
		error_set(err, ERR_TEMP, "the database connection was lost");
		goto lost;
	}
	p->data = data;
	p->reports = rec->reports ? rec->reports->len : 0;
	p->id = rec->retry_id;
	p->retry = rec->retry_id > 0;
	/* The last message first: its outcome may add a quarantine to send. */
	while (st->flight != NULL) {
		if (store_settle(st, err) < 0)
			goto lost;
	}
	if (st->batch->len >= st->batch_max && store_commit(st, err) < 0)
		goto lost;
	if (PQpipelineStatus(st->conn) == PQ_PIPELINE_OFF && !PQenterPipelineMode(st->conn)) {
		db_error(st->conn, NULL, err, "entering pipeline mode");
		goto lost;
	}
	st->flight = p;
	if (store_send_message(st, p, rec, err) < 0)
		return store_abort(st, err);
	return st->batch_max == 1 ? store_commit(st, err) : 0;
lost:
	done(data, MESSAGE_QUARANTINED, 0, -1, err);
	pending_free(p);
	return -1;
}

/* ---- the synchronous interface ------------------------------------------ */

struct outcome {
	enum message_status status;
	gint64 id;
	struct error err;
};

static void outcome_set(gpointer data, enum message_status status, gint64 id, int refused,
			const struct error *err)
{
	struct outcome *o = data;

	o->status = status;
	o->id = id;
	if (err != NULL)
		error_set(&o->err, err->cls, "%s", err->msg);
}

int store_message(struct store *st, const struct message_record *rec, enum message_status *status,
		  gint64 *id, struct error *err)
{
	struct outcome o = { MESSAGE_QUARANTINED, 0, ERROR_INIT };

	if (store_submit(st, rec, outcome_set, &o, err) < 0 || store_commit(st, err) < 0) {
		error_clear(&o.err);
		return -1;
	}
	if (o.err.cls != ERR_NONE) {
		error_set(err, o.err.cls, "%s", o.err.msg);
		error_clear(&o.err);
		return -1;
	}
	*status = o.status;
	*id = o.id;
	return 0;
}

/* ---- the quarantine ------------------------------------------------------ */

void quarantined_free(struct quarantined *q)
{
	if (q == NULL)
		return;
	g_free(q->received_at);
	g_free(q->from_addr);
	g_free(q->subject);
	g_free(q->reason);
	if (q->raw != NULL)
		g_bytes_unref(q->raw);
	g_free(q);
}

/* Row i of a tw_quarantine_* result, read in binary format. */
static struct quarantined *quarantined_from_row(const PGresult *res, int i)
{
	struct quarantined *q = g_new0(struct quarantined, 1);

	q->id = g_ascii_strtoll(PQgetvalue(res, i, 0), NULL, 10);
	q->received_at = g_strdup(PQgetvalue(res, i, 1));
	q->from_addr = PQgetisnull(res, i, 2) ? NULL : g_strdup(PQgetvalue(res, i, 2));
	q->subject = PQgetisnull(res, i, 3) ? NULL : g_strdup(PQgetvalue(res, i, 3));
	q->reason = g_strdup(PQgetvalue(res, i, 4));
	if (!PQgetisnull(res, i, 5))
		q->raw = g_bytes_new(PQgetvalue(res, i, 5), (gsize)PQgetlength(res, i, 5));
	return q;
}

/* Run a quarantine query (outside any batch), results in binary. */
static PGresult *store_query(struct store *st, enum statement_id sid, const char *param,
			     struct error *err)
{
	const char *values[1] = { param };
	PGresult *res = PQexecParams(st->conn, statements[sid].sql, param ? 1 : 0, NULL, values,
				     NULL, NULL, 1);

	if (PQresultStatus(res) == PGRES_TUPLES_OK)
		return res;
	db_error(st->conn, res, err, statements[sid].what);
	PQclear(res);
	return NULL;
}

int store_quarantine_list(struct store *st, GPtrArray **out, struct error *err)
{
	PGresult *res = store_query(st, ST_QUARANTINE_LIST, NULL, err);
	GPtrArray *list;

	if (res == NULL)
		return -1;
	list = g_ptr_array_new_with_free_func((GDestroyNotify)quarantined_free);
	for (int i = 0; i < PQntuples(res); i++)
		g_ptr_array_add(list, quarantined_from_row(res, i));
	PQclear(res);
	*out = list;
	return 0;
}

int store_quarantine_get(struct store *st, gint64 id, struct quarantined **out, struct error *err)
{
	g_autofree char *idtext = g_strdup_printf("%" G_GINT64_FORMAT, id);
	PGresult *res = store_query(st, ST_QUARANTINE_GET, idtext, err);
	int rc = 0;

	if (res == NULL)
		return -1;
	if (PQntuples(res) != 1)
		rc = error_set(err, ERR_USAGE, "no quarantined message with id %s", idtext);
	else
		*out = quarantined_from_row(res, 0);
	PQclear(res);
	return rc;
}
