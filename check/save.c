/*
 * save.c: `tlswatch check --save`: each check kept in tlswatch.checks,
 * compared first with the last one kept (check.h).
 *
 * A policy whose text changed while the id of its _mta-sts record did
 * not is the classic deployment mistake: senders refetch a policy only
 * when the id changes, so they keep the old one until its max_age runs
 * out. Only a saved history can tell.
 */
#include <libpq-fe.h>

#include "check/check.h"
#include "common/db.h"

/* The last saved policy of the domain and when it was checked. */
static const char *const q_last =
	"SELECT sts_id, policy_text, to_char(checked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
	" FROM tlswatch.checks WHERE domain = $1 AND policy_text IS NOT NULL"
	" ORDER BY checked_at DESC, id DESC LIMIT 1";

static const char *const q_insert =
	"INSERT INTO tlswatch.checks (domain, checked_at, ok, failures, warnings, sts_id,"
	" policy_text, result) VALUES ($1, to_timestamp($2::bigint), $3::boolean, $4::integer,"
	" $5::integer, $6, $7, $8::jsonb)";

/* Add the policy-id finding: a policy changed under the same id. */
static int check_compare(PGconn *conn, struct check_result *r, struct error *err)
{
	const char *params[1] = { r->domain };
	PGresult *res = PQexecParams(conn, q_last, 1, NULL, params, NULL, NULL, 0);
	const char *id, *text, *date;
	int rc = 0;

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		rc = db_error(conn, res, err, "reading the last check");
		goto done;
	}
	if (PQntuples(res) == 0 || r->policy == NULL || r->sts_id == NULL)
		goto done;
	id = PQgetisnull(res, 0, 0) ? NULL : PQgetvalue(res, 0, 0);
	text = PQgetvalue(res, 0, 1);
	date = PQgetvalue(res, 0, 2);
	if (g_strcmp0(id, r->sts_id) != 0)
		check_add(r, "policy-id", CHECK_PASS, r->domain,
			  "id changed from %s to %s since %s", id ? id : "none", r->sts_id, date);
	else if (!g_str_equal(text, r->policy->text))
		check_add(r, "policy-id", CHECK_FAIL, r->domain,
			  "the policy changed since %s but its id is still %s: senders that have "
			  "it will not fetch it again until max_age runs out; change the id",
			  date, r->sts_id);
done:
	PQclear(res);
	return rc;
}

int check_save(void *conn, struct check_result *r, struct error *err)
{
	g_autofree char *at = NULL, *failures = NULL, *warnings = NULL, *json = NULL;
	const char *params[8];
	PGresult *res;
	int rc = 0;

	if (check_compare(conn, r, err) < 0)
		return -1;
	at = g_strdup_printf("%" G_GINT64_FORMAT, r->checked_at);
	failures = g_strdup_printf("%u", check_count(r, CHECK_FAIL));
	warnings = g_strdup_printf("%u", check_count(r, CHECK_WARN));
	json = check_render_json(r);
	params[0] = r->domain;
	params[1] = at;
	params[2] = check_count(r, CHECK_FAIL) == 0 ? "true" : "false";
	params[3] = failures;
	params[4] = warnings;
	params[5] = r->sts_id;
	params[6] = r->policy ? r->policy->text : NULL;
	params[7] = json;
	res = PQexecParams(conn, q_insert, 8, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = db_error(conn, res, err, "saving the check");
	PQclear(res);
	return rc;
}
