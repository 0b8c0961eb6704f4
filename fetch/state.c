/*
 * state.c: tlswatch.imap_state (state.h).
 */
#include "common/db.h"
#include "fetch/state.h"

int imap_state_get(PGconn *conn, const char *account, guint64 *uidvalidity, guint64 *last_uid,
		   struct error *err)
{
	const char *params[1] = { account };
	PGresult *res = PQexecParams(
		conn, "SELECT uidvalidity, last_uid FROM tlswatch.imap_state WHERE account = $1", 1,
		NULL, params, NULL, NULL, 0);
	int rc = 0;

	*uidvalidity = *last_uid = 0;
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		rc = db_error(conn, res, err, "reading the IMAP state");
	else if (PQntuples(res) == 1) {
		*uidvalidity = g_ascii_strtoull(PQgetvalue(res, 0, 0), NULL, 10);
		*last_uid = g_ascii_strtoull(PQgetvalue(res, 0, 1), NULL, 10);
	}
	PQclear(res);
	return rc;
}

int imap_state_set(PGconn *conn, const char *account, guint64 uidvalidity, guint64 last_uid,
		   struct error *err)
{
	g_autofree char *v = g_strdup_printf("%" G_GUINT64_FORMAT, uidvalidity);
	g_autofree char *u = g_strdup_printf("%" G_GUINT64_FORMAT, last_uid);
	const char *params[3] = { account, v, u };
	PGresult *res = PQexecParams(
		conn,
		"INSERT INTO tlswatch.imap_state (account, uidvalidity, last_uid)"
		" VALUES ($1, $2::bigint, $3::bigint) ON CONFLICT (account) DO UPDATE"
		" SET uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid,"
		" updated_at = now()",
		3, NULL, params, NULL, NULL, 0);
	int rc = 0;

	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = db_error(conn, res, err, "recording the IMAP state");
	PQclear(res);
	return rc;
}
