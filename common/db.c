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

/* The first line of a libpq message, without its "ERROR:" decorations. */
static char *db_first_line(const char *text)
{
	char *line = g_strdup(text ? text : "");

	line[strcspn(line, "\r\n")] = '\0';
	return g_strstrip(line);
}

PGconn *db_connect(const char *conninfo, struct error *err)
{
	/* Later keywords win, and dbname is expanded into the user's own
	 * keywords, so their conninfo overrides the encoding we ask for. */
	const char *keys[] = { "client_encoding", "dbname", "fallback_application_name", NULL };
	const char *values[] = { "UTF8", conninfo ? conninfo : "", "tlswatch", NULL };
	PGconn *conn = PQconnectdbParams(keys, values, 1);
	g_autofree char *msg = NULL;

	if (conn != NULL && PQstatus(conn) == CONNECTION_OK) {
		PQsetNoticeProcessor(conn, db_ignore_notice, NULL);
		return conn;
	}
	/* libpq never puts the password in its messages. */
	msg = db_first_line(conn ? PQerrorMessage(conn) : "out of memory");
	error_set(err, ERR_TEMP, "cannot connect to database: %s", msg);
	PQfinish(conn);
	return NULL;
}

/* By SQLSTATE class (PostgreSQL manual, appendix A). Anything not known to
 * be the data's fault is ERR_TEMP: the MTA keeps the message and retries,
 * where quarantining it would drop a good report over a passing problem. */
static enum error_class db_classify(const char *sqlstate)
{
	static const char *const temporary[] = { "08", "40", "53", "55", "57", "58", "XX" };
	static const char *const missing[] = { "3F000", "42P01", "42703", "42883" };
	static const char *const input[] = { "22", "23", "54" };

	if (sqlstate == NULL)
		return ERR_TEMP; /* no server answer: the connection failed */
	for (gsize i = 0; i < G_N_ELEMENTS(temporary); i++)
		if (g_str_has_prefix(sqlstate, temporary[i]))
			return ERR_TEMP; /* connection, deadlock, resources, lock, shutdown */
	/* Schema, table, column or function missing: not initialised or older
	 * than this binary; or a role without the grant it needs. Neither
	 * mends itself. */
	for (gsize i = 0; i < G_N_ELEMENTS(missing); i++)
		if (g_str_equal(sqlstate, missing[i]))
			return ERR_CONFIG;
	if (g_str_equal(sqlstate, "42501"))
		return ERR_CONFIG;
	/* Data exception, integrity constraint, value too large: this data
	 * fails the same way on every retry. */
	for (gsize i = 0; i < G_N_ELEMENTS(input); i++)
		if (g_str_has_prefix(sqlstate, input[i]))
			return ERR_INPUT;
	return ERR_TEMP;
}

int db_error(PGconn *conn, const PGresult *res, struct error *err, const char *what)
{
	const char *sqlstate = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	enum error_class cls = db_classify(sqlstate);
	g_autofree char *msg = NULL;

	if (primary == NULL)
		primary = conn ? PQerrorMessage(conn) : "no connection";
	msg = db_first_line(primary);
	if (*msg == '\0') {
		g_free(msg);
		msg = g_strdup("unknown error");
	}
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
		cls = ERR_TEMP;
	if (cls == ERR_CONFIG && g_strcmp0(sqlstate, "42501") == 0)
		return error_set(err, cls, "%s: %s (see contrib/sql/roles.sql)", what, msg);
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

void db_pipeline_end(PGconn *conn)
{
	int idle = 0;

	if (PQpipelineStatus(conn) == PQ_PIPELINE_OFF || PQexitPipelineMode(conn) == 1)
		return;
	/* Left mid-way, by an error: queries may wait for a Sync before the
	 * server answers them. One more, then everything up to it. A NULL
	 * twice in a row is libpq saying it expects nothing more. Without
	 * that Sync the server might never answer: the connection is left as
	 * it is, and its next user fails and connects again. */
	if (!PQpipelineSync(conn))
		return;
	while (PQstatus(conn) == CONNECTION_OK && PQexitPipelineMode(conn) == 0 && idle < 2) {
		PGresult *res = PQgetResult(conn);

		idle = res == NULL ? idle + 1 : 0;
		PQclear(res);
	}
}

/* Migrations are named NNN_what.sql; their number is their version. */
static int migration_number(const char *name)
{
	return (int)strtol(name, NULL, 10);
}

static int migration_compare(const void *a, const void *b)
{
	int x = migration_number(*(char *const *)a), y = migration_number(*(char *const *)b);

	return (x > y) - (x < y);
}

/* The embedded migration names in version order (g_strfreev). The
 * generated common/resources.c registers itself from a constructor. */
static char **migration_names(void)
{
	char **names = g_resources_enumerate_children(MIGRATIONS, 0, NULL);

	if (names == NULL)
		return g_new0(char *, 1);
	qsort(names, g_strv_length(names), sizeof *names, migration_compare);
	return names;
}

/* One integer from a query with no parameters. */
static int db_query_int(PGconn *conn, const char *sql, int *out, struct error *err)
{
	PGresult *res = PQexec(conn, sql);
	int rc = 0;

	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		rc = db_error(conn, res, err, "reading the schema version");
	else
		*out = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return rc;
}

static int db_current_version(PGconn *conn, int *current, struct error *err)
{
	int exists = 0;

	*current = 0;
	if (db_query_int(conn,
			 "SELECT count(*) FROM pg_catalog.pg_tables"
			 " WHERE schemaname = 'tlswatch' AND tablename = 'schema_version'",
			 &exists, err) < 0)
		return -1;
	if (!exists)
		return 0;
	return db_query_int(conn, "SELECT coalesce(max(version), 0) FROM tlswatch.schema_version",
			    current, err);
}

int db_latest_version(void)
{
	g_auto(GStrv) names = migration_names();
	guint n = g_strv_length(names);

	return n ? migration_number(names[n - 1]) : 0;
}

int db_schema_version(PGconn *conn, int *current, int *latest, struct error *err)
{
	*latest = db_latest_version();
	return db_current_version(conn, current, err);
}

/* Run one embedded migration and record its version, inside the caller's
 * transaction. */
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
	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
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

/* The schema and the version table, created before migration 1 so that
 * even the first migration is recorded like any other. Checked before
 * created: CREATE SCHEMA needs a privilege an existing schema does not. */
static int db_bootstrap(PGconn *conn, struct error *err)
{
	int exists = 0;

	if (db_query_int(conn,
			 "SELECT count(*) FROM pg_catalog.pg_namespace WHERE nspname = 'tlswatch'",
			 &exists, err) < 0)
		return -1;
	if (!exists && db_exec(conn, "CREATE SCHEMA tlswatch", err) < 0)
		return -1;
	return db_exec(conn,
		       "CREATE TABLE IF NOT EXISTS tlswatch.schema_version ("
		       " version integer PRIMARY KEY,"
		       " applied_at timestamptz NOT NULL DEFAULT now())",
		       err);
}

/* Apply the first migration newer than the database, in its own
 * transaction; *done is set when there was none. The advisory lock, taken
 * before the version is read, makes concurrent migrators queue up. */
static int db_migrate_one(PGconn *conn, char **names, gboolean *done, struct error *err)
{
	int current = 0;
	gsize i = 0;

	if (db_exec(conn, "BEGIN", err) < 0)
		return -1;
	if (db_exec(conn, "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK ")", err) < 0 ||
	    db_bootstrap(conn, err) < 0 || db_current_version(conn, &current, err) < 0)
		goto fail;
	while (names[i] != NULL && migration_number(names[i]) <= current)
		i++;
	*done = names[i] == NULL;
	if (!*done && db_apply(conn, names[i], err) < 0)
		goto fail;
	return db_exec(conn, "COMMIT", err);
fail:
	PQclear(PQexec(conn, "ROLLBACK"));
	return -1;
}

int db_create_partitions(PGconn *conn, gint64 now, int *created, struct error *err)
{
	char at[24], months[12];
	const char *params[] = { at, months };
	PGresult *res;
	int rc = 0;

	g_snprintf(at, sizeof(at), "%" G_GINT64_FORMAT, now);
	g_snprintf(months, sizeof(months), "%d", DB_MONTHS_AHEAD);
	res = PQexecParams(conn,
			   "SELECT tlswatch.create_partitions(to_timestamp($1::bigint)"
			   " + make_interval(months => $2::int))",
			   2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		rc = db_error(conn, res, err, "creating the partitions of the coming months");
	else if (created != NULL)
		*created = PQntuples(res);
	PQclear(res);
	return rc;
}

/* Each migration commits on its own: a failure in migration N keeps 1..N-1
 * and the error names N. */
int db_migrate(PGconn *conn, int *applied, struct error *err)
{
	g_auto(GStrv) names = migration_names();
	gboolean done = FALSE;
	int count = 0;

	if (applied != NULL)
		*applied = 0;
	while (!done) {
		if (db_migrate_one(conn, names, &done, err) < 0)
			return -1;
		if (!done)
			count++;
		if (applied != NULL)
			*applied = count;
	}
	return 0;
}
