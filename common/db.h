/*
 * db.h: the PostgreSQL connection and the embedded schema migrations.
 *
 * The connection string is any libpq conninfo; NULL or "" lets libpq's own
 * defaults and the PG* environment variables decide. Migrations are the
 * numbered files in sql/, compiled into the binary (GResource) and applied
 * in order inside one transaction each, recorded in tlswatch.schema_version.
 */
#ifndef TLSWATCH_DB_H
#define TLSWATCH_DB_H

#include <glib.h>
#include <libpq-fe.h>

#include "common/error.h"

/* Open a connection; on failure err is ERR_TEMP (the server may come back)
 * and NULL is returned. The caller owns the result (PQfinish). */
PGconn *db_connect(const char *conninfo, struct error *err);

/* Map a failed result (or NULL result) to an error class and a one-line
 * message "<what>: <server message>": connection loss, shutdown, lack of
 * resources, serialization failures and missing schema are ERR_TEMP or
 * ERR_CONFIG; data and constraint errors are ERR_INPUT. Returns -1. The
 * result is not cleared. */
int db_error(PGconn *conn, const PGresult *res, struct error *err, const char *what);

/* Leave pipeline mode, first reading and dropping whatever an error left
 * in the pipeline, so that conn serves the next query. Nothing when conn
 * is not in pipeline mode. */
void db_pipeline_end(PGconn *conn);

/* Run a statement with no parameters and no rows expected (BEGIN, COMMIT). */
int db_exec(PGconn *conn, const char *sql, struct error *err);

/* Apply every embedded migration newer than the database's version.
 * *applied (may be NULL) receives how many ran. Safe to run concurrently:
 * an advisory lock serialises migrators. */
int db_migrate(PGconn *conn, int *applied, struct error *err);

/* Make sure the monthly partitions exist up to DB_MONTHS_AHEAD months
 * after now (unix seconds): tlswatch.create_partitions(), cheap when they
 * do. *created (may be NULL) receives how many months were added. */
#define DB_MONTHS_AHEAD 3
int db_create_partitions(PGconn *conn, gint64 now, int *created, struct error *err);

/* The newest migration compiled into the binary (no query). */
int db_latest_version(void);

/* The highest applied migration (0 when the schema does not exist yet) and
 * the highest embedded one. */
int db_schema_version(PGconn *conn, int *current, int *latest, struct error *err);

#endif
