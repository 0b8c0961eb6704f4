/*
 * store.c: one message into PostgreSQL in one transaction (see store.h).
 *
 * A report's policies and failure-details go in as one statement fed the
 * normalised JSON, unpacked by jsonb functions in SQL: one round trip per
 * report whatever its size, and no SQL text ever built from input. The
 * UNIQUE (organization_name, report_id) key with ON CONFLICT DO NOTHING
 * settles duplicates, concurrent deliveries included: no lock of ours.
 */
#include <stdlib.h>
#include <string.h>

#include "common/db.h"
#include "ingest/store.h"

struct store {
	PGconn *conn;
};

enum statement_id {
	ST_INSERT_MESSAGE,
	ST_LOCK_MESSAGE,
	ST_UPDATE_MESSAGE,
	ST_INSERT_REPORT,
	ST_INSERT_POLICIES,
	ST_QUARANTINE_LIST,
	ST_QUARANTINE_GET,
};

/* Prepared once per connection; what names the step in error messages. */
static const struct statement {
	const char *name;
	const char *what;
	const char *sql;
} statements[] = {
	[ST_INSERT_MESSAGE] = { "tw_insert_message", "storing the message",
				"INSERT INTO tlswatch.messages (message_id, from_addr, subject,"
				" report_domain, report_submitter, status, reason, raw)"
				" VALUES ($1, $2, $3, $4, $5, $6, $7, $8::bytea) RETURNING id" },
	[ST_LOCK_MESSAGE] = { "tw_lock_message", "reading the quarantined message",
			      "SELECT status FROM tlswatch.messages WHERE id = $1::bigint FOR "
			      "UPDATE" },
	/* The raw bytes stay while the message stays in quarantine, unless
	 * new ones are given; a message that leaves it keeps them only when
	 * given (keep-raw). */
	[ST_UPDATE_MESSAGE] = { "tw_update_message", "updating the message",
				"UPDATE tlswatch.messages SET status = $2::text, reason = $3::text,"
				" raw = CASE WHEN $4::bytea IS NOT NULL OR $2::text <> "
				"'quarantined'"
				" THEN $4::bytea ELSE raw END"
				" WHERE id = $1::bigint" },
	[ST_INSERT_REPORT] = { "tw_insert_report", "storing the report",
			       "INSERT INTO tlswatch.reports (message_ref, organization_name,"
			       " report_id, contact_info, date_start, date_end, document, warnings)"
			       " VALUES ($1::bigint, $2, $3, $4, $5::timestamptz, $6::timestamptz,"
			       " $7::jsonb, ARRAY(SELECT w FROM "
			       "jsonb_array_elements_text($8::jsonb)"
			       " WITH ORDINALITY AS a(w, n) ORDER BY n))"
			       " ON CONFLICT (organization_name, report_id) DO NOTHING RETURNING "
			       "id" },
	/* $2 is report_to_json()'s "policies" array. */
	[ST_INSERT_POLICIES] = { "tw_insert_policies", "storing the report's policies",
				 "WITH e AS MATERIALIZED ("
				 " SELECT (a.ord - 1)::integer AS idx, a.v"
				 " FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS a(v, "
				 "ord)),"
				 " p AS ("
				 " INSERT INTO tlswatch.policies (report_ref, policy_index, "
				 "policy_type,"
				 " policy_domain, policy_string, mx_host, sts_mode, sts_max_age,"
				 " successful_sessions, failed_sessions)"
				 " SELECT $1::bigint, e.idx, e.v->'policy'->>'policy-type',"
				 " e.v->'policy'->>'policy-domain',"
				 " ARRAY(SELECT s FROM "
				 "jsonb_array_elements_text(e.v->'policy'->'policy-string')"
				 " WITH ORDINALITY AS l(s, n) ORDER BY n),"
				 " ARRAY(SELECT s FROM "
				 "jsonb_array_elements_text(e.v->'policy'->'mx-host')"
				 " WITH ORDINALITY AS m(s, n) ORDER BY n),"
				 " e.v->'policy'->>'sts-mode', "
				 "(e.v->'policy'->>'sts-max-age')::bigint,"
				 " (e.v->'summary'->>'total-successful-session-count')::bigint,"
				 " (e.v->'summary'->>'total-failure-session-count')::bigint"
				 " FROM e ORDER BY e.idx"
				 " RETURNING id, policy_index)"
				 " INSERT INTO tlswatch.failures (policy_ref, detail_index, "
				 "result_type,"
				 " sending_mta_ip, receiving_mx_hostname, receiving_mx_helo, "
				 "receiving_ip,"
				 " failed_sessions, additional_information, failure_reason_code)"
				 " SELECT p.id, (f.ord - 1)::integer, f.v->>'result-type',"
				 " (f.v->>'sending-mta-ip')::inet, f.v->>'receiving-mx-hostname',"
				 " f.v->>'receiving-mx-helo', (f.v->>'receiving-ip')::inet,"
				 " (f.v->>'failed-session-count')::bigint, "
				 "f.v->>'additional-information',"
				 " f.v->>'failure-reason-code'"
				 " FROM p JOIN e ON e.idx = p.policy_index"
				 " CROSS JOIN LATERAL jsonb_array_elements(e.v->'failure-details')"
				 " WITH ORDINALITY AS f(v, ord)"
				 " ORDER BY p.policy_index, f.ord" },
	/* Read in binary: text columns arrive as their bytes, raw unescaped. */
	[ST_QUARANTINE_LIST] = { "tw_quarantine_list", "listing the quarantine",
				 "SELECT id::text, to_char(received_at AT TIME ZONE 'UTC',"
				 " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), from_addr, subject,"
				 " coalesce(reason, ''), NULL::bytea FROM tlswatch.messages"
				 " WHERE status = 'quarantined' ORDER BY id" },
	[ST_QUARANTINE_GET] = { "tw_quarantine_get", "reading the quarantine",
				"SELECT id::text, to_char(received_at AT TIME ZONE 'UTC',"
				" 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), from_addr, subject,"
				" coalesce(reason, ''), raw FROM tlswatch.messages"
				" WHERE status = 'quarantined' AND id = $1::bigint" },
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

/* The schema must exist and be no older than this binary's migrations. */
static int store_check_schema(PGconn *conn, struct error *err)
{
	PGresult *res = PQexec(conn, "SELECT to_regclass('tlswatch.messages') IS NOT NULL");
	gboolean exists;
	int current = 0, latest = 0;

	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		db_error(conn, res, err, "checking the database schema");
		PQclear(res);
		return -1;
	}
	exists = g_str_equal(PQgetvalue(res, 0, 0), "t");
	PQclear(res);
	if (!exists)
		return error_set(err, ERR_CONFIG,
				 "database schema not initialised: run `tlswatch db init`");
	if (db_schema_version(conn, &current, &latest, err) < 0)
		return -1;
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
	PGresult *res = NULL;

	st->conn = db_connect(conninfo, err);
	if (st->conn == NULL || store_check_schema(st->conn, err) < 0)
		goto fail;
	for (gsize i = 0; i < G_N_ELEMENTS(statements); i++) {
		res = PQprepare(st->conn, statements[i].name, statements[i].sql, 0, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			db_error(st->conn, res, err, "preparing statements");
			goto fail;
		}
		g_clear_pointer(&res, PQclear);
	}
	*out = st;
	return 0;
fail:
	PQclear(res);
	store_free(st);
	return -1;
}

void store_free(struct store *st)
{
	if (st == NULL)
		return;
	if (st->conn != NULL)
		PQfinish(st->conn);
	g_free(st);
}

PGconn *store_conn(struct store *st)
{
	return st->conn;
}

/* Run a prepared statement whose parameters are text (NULL: SQL NULL),
 * except the one at raw_at (-1: none), which is sent as raw bytes in binary
 * format, so a bytea needs no escaping. Returns the result, which the
 * caller clears, or NULL with err set when its status is not expect. */
static PGresult *store_run(struct store *st, enum statement_id sid, int n,
			   const char *const *values, int raw_at, GBytes *raw,
			   ExecStatusType expect, struct error *err)
{
	const char *v[8];
	int lengths[8] = { 0 }, formats[8] = { 0 };
	PGresult *res;

	g_assert(n <= (int)G_N_ELEMENTS(v));
	memcpy(v, values, sizeof *v * (size_t)n);
	if (raw_at >= 0 && raw != NULL) {
		gsize len = 0;
		const char *data = g_bytes_get_data(raw, &len);

		v[raw_at] = data ? data : ""; /* empty, not NULL */
		lengths[raw_at] = (int)len;
		formats[raw_at] = 1;
	}
	res = PQexecPrepared(st->conn, statements[sid].name, n, v, lengths, formats, 0);
	if (PQresultStatus(res) == expect)
		return res;
	db_error(st->conn, res, err, statements[sid].what);
	PQclear(res);
	return NULL;
}

/* Header fields are whatever the sender wrote: make them valid UTF-8 so a
 * stray byte cannot make the quarantine itself fail. */
static char *store_text(const char *s)
{
	return s ? g_utf8_make_valid(s, -1) : NULL;
}

static int store_insert_message(struct store *st, const struct message_record *rec,
				enum message_status status, gint64 *id, struct error *err)
{
	char *text[6] = { store_text(rec->message_id),	     store_text(rec->from_addr),
			  store_text(rec->subject),	     store_text(rec->report_domain),
			  store_text(rec->report_submitter), store_text(rec->reason) };
	const char *values[8] = { text[0], text[1], text[2],
				  text[3], text[4], message_status_name(status),
				  text[5], NULL };
	PGresult *res =
		store_run(st, ST_INSERT_MESSAGE, 8, values, 7, rec->raw, PGRES_TUPLES_OK, err);

	for (gsize i = 0; i < G_N_ELEMENTS(text); i++)
		g_free(text[i]);
	if (res == NULL)
		return -1;
	*id = g_ascii_strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return 0;
}

/* A retry updates its own row, which must still be in quarantine: two
 * concurrent retries of one message are serialised by the row lock. */
static int store_lock_quarantined(struct store *st, gint64 id, struct error *err)
{
	g_autofree char *idtext = g_strdup_printf("%" G_GINT64_FORMAT, id);
	const char *values[1] = { idtext };
	PGresult *res = store_run(st, ST_LOCK_MESSAGE, 1, values, -1, NULL, PGRES_TUPLES_OK, err);
	int rc = 0;

	if (res == NULL)
		return -1;
	if (PQntuples(res) != 1 || !g_str_equal(PQgetvalue(res, 0, 0), "quarantined"))
		rc = error_set(err, ERR_USAGE, "message %s is not in quarantine", idtext);
	PQclear(res);
	return rc;
}

static int store_update_message(struct store *st, gint64 id, enum message_status status,
				const struct message_record *rec, struct error *err)
{
	g_autofree char *idtext = g_strdup_printf("%" G_GINT64_FORMAT, id);
	g_autofree char *reason = store_text(rec->reason);
	const char *values[4] = { idtext, message_status_name(status), reason, NULL };
	PGresult *res =
		store_run(st, ST_UPDATE_MESSAGE, 4, values, 3, rec->raw, PGRES_COMMAND_OK, err);

	PQclear(res);
	return res ? 0 : -1;
}

/* Text for a jsonb parameter; NULL when out of memory. */
static char *store_json(const json_t *j)
{
	return j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
}

/* One report, its policies and failures; *inserted is FALSE when the report
 * was already stored (a duplicate). */
static int store_insert_report(struct store *st, gint64 message_ref, const struct report *r,
			       gboolean *inserted, struct error *err)
{
	json_t *norm = report_to_json(r);
	json_t *range = json_object_get(norm, "date-range");
	g_autofree char *ref = g_strdup_printf("%" G_GINT64_FORMAT, message_ref);
	char *document = store_json(r->document ? r->document : norm);
	char *warnings = store_json(json_object_get(norm, "warnings"));
	char *policies = store_json(json_object_get(norm, "policies"));
	const char *values[8] = { ref,
				  r->organization_name,
				  r->report_id,
				  r->contact_info,
				  json_string_value(json_object_get(range, "start-datetime")),
				  json_string_value(json_object_get(range, "end-datetime")),
				  document,
				  warnings };
	PGresult *res = NULL, *pres = NULL;
	int rc = -1;

	/* Not the data's fault (report_to_json fails only without memory or
	 * on a model that report_parse never returns): retry, never drop. */
	if (norm == NULL || document == NULL || policies == NULL) {
		error_set(err, ERR_TEMP, "cannot encode the report as JSON");
		goto fail;
	}
	res = store_run(st, ST_INSERT_REPORT, 8, values, -1, NULL, PGRES_TUPLES_OK, err);
	if (res == NULL)
		goto fail;
	*inserted = PQntuples(res) == 1;
	if (*inserted) {
		const char *pvalues[2] = { PQgetvalue(res, 0, 0), policies };

		pres = store_run(st, ST_INSERT_POLICIES, 2, pvalues, -1, NULL, PGRES_COMMAND_OK,
				 err);
		if (pres == NULL)
			goto fail;
	}
	rc = 0;
fail:
	PQclear(pres);
	PQclear(res);
	free(document);
	free(warnings);
	free(policies);
	json_decref(norm);
	return rc;
}

int store_message(struct store *st, const struct message_record *rec, enum message_status *status,
		  gint64 *id, struct error *err)
{
	guint n = rec->reports ? rec->reports->len : 0, inserted = 0;
	gint64 msg = rec->retry_id;
	enum message_status result;
	gboolean is_new = FALSE;

	if (db_exec(st->conn, "BEGIN", err) < 0)
		return -1;
	if (rec->retry_id > 0
		    ? store_lock_quarantined(st, msg, err) < 0
		    : store_insert_message(st, rec, n ? MESSAGE_STORED : MESSAGE_QUARANTINED, &msg,
					   err) < 0)
		goto fail;
	for (guint i = 0; i < n; i++) {
		if (store_insert_report(st, msg, g_ptr_array_index(rec->reports, i), &is_new, err) <
		    0)
			goto fail;
		inserted += is_new;
	}
	result = n == 0 ? MESSAGE_QUARANTINED : inserted ? MESSAGE_STORED : MESSAGE_DUPLICATE;
	/* A new row went in as stored or quarantined already; only "every
	 * report was a duplicate", or a retry, needs a second write. */
	if ((rec->retry_id > 0 || result == MESSAGE_DUPLICATE) &&
	    store_update_message(st, msg, result, rec, err) < 0)
		goto fail;
	/* Nothing counts as stored before COMMIT has returned. */
	if (db_exec(st->conn, "COMMIT", err) < 0)
		return -1;
	*status = result;
	*id = msg;
	return 0;
fail:
	/* Its result does not matter: without a connection there is nothing
	 * to roll back, and err already says why. */
	PQclear(PQexec(st->conn, "ROLLBACK"));
	return -1;
}

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

int store_quarantine_list(struct store *st, GPtrArray **out, struct error *err)
{
	PGresult *res = PQexecPrepared(st->conn, statements[ST_QUARANTINE_LIST].name, 0, NULL, NULL,
				       NULL, 1);
	GPtrArray *list;

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		db_error(st->conn, res, err, statements[ST_QUARANTINE_LIST].what);
		PQclear(res);
		return -1;
	}
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
	const char *values[1] = { idtext };
	PGresult *res = PQexecPrepared(st->conn, statements[ST_QUARANTINE_GET].name, 1, values,
				       NULL, NULL, 1);
	int rc = 0;

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		rc = db_error(st->conn, res, err, statements[ST_QUARANTINE_GET].what);
	else if (PQntuples(res) != 1)
		rc = error_set(err, ERR_USAGE, "no quarantined message with id %s", idtext);
	else
		*out = quarantined_from_row(res, 0);
	PQclear(res);
	return rc;
}
