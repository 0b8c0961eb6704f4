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

static const struct statement {
	const char *name;
	const char *sql;
} statements[] = {
	{ "tw_insert_message",
	  "INSERT INTO tlswatch.messages (message_id, from_addr, subject, report_domain,"
	  " report_submitter, status, reason, raw) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
	  " RETURNING id" },
	{ "tw_lock_message", "SELECT status FROM tlswatch.messages WHERE id = $1 FOR UPDATE" },
	{ "tw_update_message",
	  "UPDATE tlswatch.messages SET status = $2, reason = $3, raw = coalesce($4, raw)"
	  " WHERE id = $1" },
	{ "tw_insert_report",
	  "INSERT INTO tlswatch.reports (message_ref, organization_name, report_id, contact_info,"
	  " date_start, date_end, document, warnings) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb,"
	  " ARRAY(SELECT jsonb_array_elements_text($8::jsonb)))"
	  " ON CONFLICT (organization_name, report_id) DO NOTHING RETURNING id" },
	{ "tw_insert_policies",
	  "WITH pol AS ("
	  "  SELECT (e.ord - 1)::integer AS idx, e.v"
	  "  FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS e(v, ord)),"
	  " ins AS ("
	  "  INSERT INTO tlswatch.policies (report_ref, policy_index, policy_type, policy_domain,"
	  "   policy_string, mx_host, sts_mode, sts_max_age, successful_sessions, failed_sessions)"
	  "  SELECT $1, idx, v->'policy'->>'policy-type', v->'policy'->>'policy-domain',"
	  "   ARRAY(SELECT jsonb_array_elements_text(v->'policy'->'policy-string')),"
	  "   ARRAY(SELECT jsonb_array_elements_text(v->'policy'->'mx-host')),"
	  "   v->'policy'->>'sts-mode', (v->'policy'->>'sts-max-age')::bigint,"
	  "   (v->'summary'->>'total-successful-session-count')::bigint,"
	  "   (v->'summary'->>'total-failure-session-count')::bigint"
	  "  FROM pol RETURNING id, policy_index)"
	  " INSERT INTO tlswatch.failures (policy_ref, result_type, sending_mta_ip,"
	  "  receiving_mx_hostname, receiving_mx_helo, receiving_ip, failed_sessions,"
	  "  additional_information, failure_reason_code)"
	  " SELECT ins.id, f.v->>'result-type', (f.v->>'sending-mta-ip')::inet,"
	  "  f.v->>'receiving-mx-hostname', f.v->>'receiving-mx-helo',"
	  "  (f.v->>'receiving-ip')::inet, (f.v->>'failed-session-count')::bigint,"
	  "  f.v->>'additional-information', f.v->>'failure-reason-code'"
	  " FROM ins JOIN pol ON pol.idx = ins.policy_index"
	  " CROSS JOIN LATERAL jsonb_array_elements(pol.v->'failure-details')"
	  "  WITH ORDINALITY AS f(v, ord)"
	  " ORDER BY ins.policy_index, f.ord" },
	{ "tw_quarantine_list",
	  "SELECT id::text, to_char(received_at AT TIME ZONE 'UTC', "
	  "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
	  " from_addr, subject, coalesce(reason, ''), NULL::bytea FROM tlswatch.messages"
	  " WHERE status = 'quarantined' ORDER BY id" },
	{ "tw_quarantine_get",
	  "SELECT id::text, to_char(received_at AT TIME ZONE 'UTC', "
	  "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
	  " from_addr, subject, coalesce(reason, ''), raw FROM tlswatch.messages"
	  " WHERE status = 'quarantined' AND id = $1" },
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

int store_open(struct store **out, const char *conninfo, struct error *err)
{
	struct store *st = g_new0(struct store, 1);
	PGresult *res = NULL;

	st->conn = db_connect(conninfo, err);
	if (st->conn == NULL)
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

/* Run a prepared statement whose parameters are text, except the one at
 * index raw_at (-1: none), which is raw bytes (binary format, so a bytea
 * needs no escaping). Returns the result (the caller clears it) or NULL
 * with err set; the result must have status expect. */
static PGresult *store_run(struct store *st, const char *name, int n, const char *const *values,
			   int raw_at, GBytes *raw, ExecStatusType expect, struct error *err)
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
	res = PQexecPrepared(st->conn, name, n, v, lengths, formats, 0);
	if (PQresultStatus(res) == expect)
		return res;
	db_error(st->conn, res, err, name + 3);
	PQclear(res);
	return NULL;
}

static int store_insert_message(struct store *st, const struct message_record *rec,
				enum message_status status, gint64 *id, struct error *err)
{
	const char *values[8] = { rec->message_id,	 rec->from_addr,
				  rec->subject,		 rec->report_domain,
				  rec->report_submitter, message_status_name(status),
				  rec->reason,		 NULL };
	PGresult *res =
		store_run(st, "tw_insert_message", 8, values, 7, rec->raw, PGRES_TUPLES_OK, err);

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
	PGresult *res = store_run(st, "tw_lock_message", 1, values, -1, NULL, PGRES_TUPLES_OK, err);
	int rc = 0;

	if (res == NULL)
		return -1;
	if (PQntuples(res) != 1 || !g_str_equal(PQgetvalue(res, 0, 0), "quarantined"))
		rc = error_set(err, ERR_USAGE, "message %s is not in quarantine", idtext);
	PQclear(res);
	return rc;
}

static int store_update_message(struct store *st, gint64 id, enum message_status status,
				const char *reason, GBytes *raw, struct error *err)
{
	g_autofree char *idtext = g_strdup_printf("%" G_GINT64_FORMAT, id);
	const char *values[4] = { idtext, message_status_name(status), reason, NULL };
	PGresult *res =
		store_run(st, "tw_update_message", 4, values, 3, raw, PGRES_COMMAND_OK, err);

	PQclear(res);
	return res ? 0 : -1;
}

/* One report, its policies and failures; *inserted is FALSE when the report
 * was already stored (a duplicate). */
static int store_insert_report(struct store *st, gint64 message_ref, const struct report *r,
			       gboolean *inserted, struct error *err)
{
	json_t *norm = report_to_json(r);
	g_autofree char *ref = g_strdup_printf("%" G_GINT64_FORMAT, message_ref);
	g_autofree char *start = g_date_time_format_iso8601(r->date_start);
	g_autofree char *end = g_date_time_format_iso8601(r->date_end);
	char *document = json_dumps(r->document, JSON_COMPACT);
	char *warnings = json_dumps(json_object_get(norm, "warnings"), JSON_COMPACT);
	char *policies = json_dumps(json_object_get(norm, "policies"), JSON_COMPACT);
	const char *report_values[8] = { ref,	       r->organization_name,
					 r->report_id, r->contact_info,
					 start,	       end,
					 document,     warnings };
	const char *policy_values[2] = { NULL, policies };
	PGresult *res = NULL, *policies_res = NULL;
	int rc = -1;

	res = store_run(st, "tw_insert_report", 8, report_values, -1, NULL, PGRES_TUPLES_OK, err);
	if (res == NULL)
		goto fail;
	*inserted = PQntuples(res) == 1;
	if (*inserted) {
		policy_values[0] = PQgetvalue(res, 0, 0);
		policies_res = store_run(st, "tw_insert_policies", 2, policy_values, -1, NULL,
					 PGRES_COMMAND_OK, err);
		if (policies_res == NULL)
			goto fail;
	}
	rc = 0;
fail:
	PQclear(policies_res);
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
	gboolean is_new = FALSE;

	if (db_exec(st->conn, "BEGIN", err) < 0)
		return -1;
	if (msg > 0 && store_lock_quarantined(st, msg, err) < 0)
		goto fail;
	if (msg <= 0 &&
	    store_insert_message(st, rec, n ? MESSAGE_STORED : MESSAGE_QUARANTINED, &msg, err) < 0)
		goto fail;
	for (guint i = 0; i < n; i++) {
		if (store_insert_report(st, msg, g_ptr_array_index(rec->reports, i), &is_new, err) <
		    0)
			goto fail;
		inserted += is_new;
	}
	*status = n == 0 ? MESSAGE_QUARANTINED : inserted ? MESSAGE_STORED : MESSAGE_DUPLICATE;
	/* A new row was inserted as stored or quarantined; only the outcome
	 * "every report was a duplicate", or a retry, needs a second write. */
	if ((rec->retry_id > 0 || *status == MESSAGE_DUPLICATE) &&
	    store_update_message(st, msg, *status, rec->reason, rec->raw, err) < 0)
		goto fail;
	if (db_exec(st->conn, "COMMIT", err) < 0)
		return -1;
	*id = msg;
	return 0;
fail:
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

/* Row i of a tw_quarantine_* result (binary format: text columns arrive as
 * their bytes, raw as the bytea's bytes). */
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
	PGresult *res = PQexecPrepared(st->conn, "tw_quarantine_list", 0, NULL, NULL, NULL, 1);
	GPtrArray *list;

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		db_error(st->conn, res, err, "listing the quarantine");
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
	PGresult *res = PQexecPrepared(st->conn, "tw_quarantine_get", 1, values, NULL, NULL, 1);
	int rc = 0;

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		rc = db_error(st->conn, res, err, "reading the quarantine");
	else if (PQntuples(res) != 1)
		rc = error_set(err, ERR_USAGE, "no quarantined message with id %s", idtext);
	else
		*out = quarantined_from_row(res, 0);
	PQclear(res);
	return rc;
}
