/*
 * db.c: connecting, classifying failures, and the embedded migrations.
 *
 * The one decision that matters here is db_error's: whether a failed
 * statement means "try again later" (exit 75, the MTA keeps the message) or
 * "this data will always fail" (quarantine it). When unsure it says try
 * again: a retried message costs a delay, a wrongly quarantined one looks
 * lost to the postmaster.
 */
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>

#include "common/db.h"

#define MIGRATIONS "/tlswatch/sql"
/* Any constant will do; it only has to be the same for every migrator. */
#define MIGRATION_LOCK "7465737473"

/* Server NOTICEs ("schema already exists, skipping") are not problems;
 * libpq would print them on stderr, which Postfix shows the postmaster. */
static void db_ignore_notice(void *arg, const char *message)
{
}

PGconn *db_connect(const char *conninfo, struct error *err)
{
	const char *keys[] = { "dbname", "fallback_application_name", NULL };
	const char *values[] = { conninfo ? conninfo : "", "tlswatch", NULL };
	PGconn *conn = PQconnectdbParams(keys, values, 1);
	g_autofree char *msg = NULL;

	if (conn != NULL && PQstatus(conn) == CONNECTION_OK) {
		PQsetNoticeProcessor(conn, db_ignore_notice, NULL);
		return conn;
	}
	msg = g_strdup(conn ? PQerrorMessage(conn) : "out of memory");
	g_strstrip(g_strdelimit(msg, "\r\n", ' '));
	error_set(err, ERR_TEMP, "cannot connect to database: %s", msg);
	PQfinish(conn);
	return NULL;
}

static enum error_class db_classify(const char *sqlstate)
{
	if (sqlstate == NULL)
		return ERR_TEMP; /* the connection itself failed */
	if (g_str_equal(sqlstate, "3F000") || g_str_equal(sqlstate, "42P01") ||
	    g_str_equal(sqlstate, "42883"))
		return ERR_CONFIG; /* schema missing or older than this binary */
	if (g_str_has_prefix(sqlstate, "22") || g_str_has_prefix(sqlstate, "23") ||
	    g_str_has_prefix(sqlstate, "54"))
		return ERR_INPUT; /* data exception, constraint, too large */
	return ERR_TEMP;
}

int db_error(PGconn *conn, const PGresult *res, struct error *err, const char *what)
{
	const char *sqlstate = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	enum error_class cls = db_classify(sqlstate);
	g_autofree char *msg = g_strdup(primary ? primary : PQerrorMessage(conn));

	g_strstrip(g_strdelimit(msg, "\r\n", ' '));
	if (PQstatus(conn) != CONNECTION_OK)
		cls = ERR_TEMP;
	if (cls == ERR_CONFIG)
		return error_set(err, cls, "%s: %s (run `tlswatch db init`)", what, msg);
	return error_set(err, cls, "%s: %s", what, msg);
}

int db_exec(PGconn *conn, const char *sql, struct error *err)
{
	PGresult *res = PQexec(conn, sql);
	int rc = 0;

	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
		rc = db_error(conn, res, err, sql);
	PQclear(res);
	return rc;
}

/* Migrations are named NNN_what.sql; their number is their version. */
static int migration_number(const char *name)
{
	return (int)strtol(name, NULL, 10);
}

static gint migration_compare(gconstpointer a, gconstpointer b)
{
	return migration_number(*(char *const *)a) - migration_number(*(char *const *)b);
}

/* The embedded migration names in version order (g_strfreev). */
static char **migration_names(void)
{
	char **names = g_resources_enumerate_children(MIGRATIONS, 0, NULL);

	if (names == NULL)
		return g_new0(char *, 1);
	qsort(names, g_strv_length(names), sizeof *names, migration_compare);
	return names;
}

/* One integer from a query with no parameters. */
static int db_query_int(PGconn *conn, const char *sql, gint64 *out, struct error *err)
{
	PGresult *res = PQexec(conn, sql);
	int rc = 0;

	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		rc = db_error(conn, res, err, "reading the schema version");
	else
		*out = g_ascii_strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return rc;
}

static int db_current_version(PGconn *conn, int *current, struct error *err)
{
	gint64 exists = 0, version = 0;

	if (db_query_int(conn,
			 "SELECT count(*) FROM pg_catalog.pg_tables"
			 " WHERE schemaname = 'tlswatch' AND tablename = 'schema_version'",
			 &exists, err) < 0)
		return -1;
	if (exists &&
	    db_query_int(conn, "SELECT coalesce(max(version), 0) FROM tlswatch.schema_version",
			 &version, err) < 0)
		return -1;
	*current = (int)version;
	return 0;
}

int db_schema_version(PGconn *conn, int *current, int *latest, struct error *err)
{
	g_auto(GStrv) names = migration_names();
	guint n = g_strv_length(names);

	*latest = n ? migration_number(names[n - 1]) : 0;
	return db_current_version(conn, current, err);
}

/* Run one embedded migration and record its version. */
static int db_apply(PGconn *conn, const char *name, struct error *err)
{
	g_autofree char *path = g_strconcat(MIGRATIONS "/", name, NULL);
	g_autoptr(GBytes) sql = g_resources_lookup_data(path, 0, NULL);
	g_autofree char *text = NULL;
	g_autofree char *version = g_strdup_printf("%d", migration_number(name));
	const char *params[] = { version };
	PGresult *res = NULL;
	int rc = -1;

	if (sql == NULL)
		return error_set(err, ERR_TEMP, "migration %s missing from the binary", name);
	text = g_strndup(g_bytes_get_data(sql, NULL), g_bytes_get_size(sql));
	res = PQexec(conn, text);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		db_error(conn, res, err, name);
		goto fail;
	}
	PQclear(res);
	res = PQexecParams(conn, "INSERT INTO tlswatch.schema_version (version) VALUES ($1)", 1,
			   NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		db_error(conn, res, err, name);
		goto fail;
	}
	rc = 0;
fail:
	PQclear(res);
	return rc;
}

/* All pending migrations in one transaction: a failure leaves the schema as
 * it was. The advisory lock makes concurrent `db migrate` runs queue up. */
int db_migrate(PGconn *conn, int *applied, struct error *err)
{
	g_auto(GStrv) names = migration_names();
	int current = 0, count = 0;

	if (db_exec(conn, "BEGIN", err) < 0)
		return -1;
	if (db_exec(conn, "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK ")", err) < 0 ||
	    db_exec(conn, "CREATE SCHEMA IF NOT EXISTS tlswatch", err) < 0 ||
	    db_exec(conn,
		    "CREATE TABLE IF NOT EXISTS tlswatch.schema_version ("
		    " version integer PRIMARY KEY,"
		    " applied_at timestamptz NOT NULL DEFAULT now())",
		    err) < 0 ||
	    db_current_version(conn, &current, err) < 0)
		goto fail;
	for (gsize i = 0; names[i] != NULL; i++) {
		if (migration_number(names[i]) <= current)
			continue;
		if (db_apply(conn, names[i], err) < 0)
			goto fail;
		count++;
	}
	if (db_exec(conn, "COMMIT", err) < 0)
		return -1;
	if (applied != NULL)
		*applied = count;
	return 0;
fail:
	PQclear(PQexec(conn, "ROLLBACK"));
	return -1;
}
