/*
 * reverify.c: the second judgement of messages stored as temperror
 * (reverify.h).
 */
#include <libpq-fe.h>
#include <string.h>

#include "common/db.h"
#include "common/log.h"
#include "ingest/reverify.h"
#include "ingest/trust.h"

static const char *const q_candidates =
	"SELECT id FROM tlswatch.messages WHERE dkim_result = 'temperror' AND raw IS NOT NULL"
	" ORDER BY id";

static const char *const q_raw = "SELECT raw FROM tlswatch.messages WHERE id = $1::bigint";

/* The verdict on the message ($1), its reports, their policies and their
 * sessions per domain. */
static const char *const q_verdict =
	"WITH m AS (UPDATE tlswatch.messages SET authenticated = $2::boolean, dkim_result = $3,"
	" dkim_domain = $4, dkim_selector = $5, auth_note = $6, dkim_signatures = $7::jsonb,"
	" raw = CASE WHEN $8::boolean OR reason IS NOT NULL OR status = 'quarantined' THEN raw END"
	" WHERE id = $1::bigint RETURNING id),"
	" r AS (UPDATE tlswatch.reports SET authenticated = $2::boolean"
	" WHERE message_ref = $1::bigint RETURNING id, date_start),"
	" p AS (UPDATE tlswatch.policies p SET authenticated = $2::boolean FROM r"
	" WHERE p.report_ref = r.id AND p.date_start = r.date_start)"
	" UPDATE tlswatch.domain_sessions d SET authenticated = $2::boolean FROM r"
	" WHERE d.report_ref = r.id AND d.date_start = r.date_start";

/* The raw bytes of message id, a new reference, or NULL with err. */
static GBytes *reverify_raw(PGconn *conn, const char *id, struct error *err)
{
	const char *params[1] = { id };
	PGresult *res = PQexecParams(conn, q_raw, 1, NULL, params, NULL, NULL, 1);
	GBytes *raw = NULL;

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		db_error(conn, res, err, "reading the message to verify again");
	else if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		raw = g_bytes_new(PQgetvalue(res, 0, 0), (gsize)PQgetlength(res, 0, 0));
	else
		error_set(err, ERR_TEMP, "message %s: its raw bytes are gone", id);
	PQclear(res);
	return raw;
}

/* Write t on message id. */
static int reverify_write(PGconn *conn, const char *id, const struct trust *t, gboolean keep_raw,
			  struct error *err)
{
	const char *params[8] = {
		id,
		t->authenticated ? "true" : "false",
		t->result,
		t->domain,
		t->selector,
		t->note,
		t->signatures,
		keep_raw || g_strcmp0(t->result, "temperror") == 0 ? "true" : "false",
	};
	PGresult *res = PQexecParams(conn, q_verdict, 8, NULL, params, NULL, NULL, 0);
	int rc = 0;

	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = db_error(conn, res, err, "writing the new verdict");
	PQclear(res);
	return rc;
}

int ingest_reverify(struct ingest_ctx *ctx, struct reverify_counts *n, struct error *err)
{
	PGconn *conn = store_conn(ctx->store);
	PGresult *ids = PQexec(conn, q_candidates);
	int rc = 0;

	if (PQresultStatus(ids) != PGRES_TUPLES_OK) {
		rc = db_error(conn, ids, err, "finding the messages to verify again");
		goto done;
	}
	for (int i = 0; i < PQntuples(ids) && rc == 0; i++) {
		const char *id = PQgetvalue(ids, i, 0);
		g_autoptr(GBytes) raw = reverify_raw(conn, id, err);
		struct trust t = { 0 };

		/* Without a verdict (its parse failed, limits changed) it
		 * stays as it is, to be judged again. */
		if (raw == NULL || ingest_judge(ctx, raw, &t, err) < 0 ||
		    (t.judged && reverify_write(conn, id, &t, ctx->cfg->keep_raw, err) < 0)) {
			rc = -1;
		} else if (!t.judged || g_strcmp0(t.result, "temperror") == 0) {
			n->temperror++;
			if (!t.judged)
				log_warning("message %s: could not be judged again", id);
		} else {
			if (t.authenticated)
				n->authenticated++;
			else
				n->unauthenticated++;
			log_info("message %s: %s", id, t.note);
		}
		trust_release(&t);
	}
done:
	PQclear(ids);
	return rc;
}
