/*
 * floor.c: the least a pipe delivery can cost: start a process, open a
 * libpq connection to the same server, insert one row in a transaction,
 * exit. `make bench` sets tlswatch's pipe mode beside it. The table
 * (bench_floor) is created by bench/run.sh; PG* variables pick the server.
 */
#include <stdio.h>

#include <libpq-fe.h>

static int run(PGconn *conn, const char *sql, int n, const char *const *values)
{
	PGresult *res = PQexecParams(conn, sql, n, NULL, values, NULL, NULL, 0);
	int ok = PQresultStatus(res) == PGRES_COMMAND_OK;

	if (!ok)
		fprintf(stderr, "floor: %s", PQerrorMessage(conn));
	PQclear(res);
	return ok ? 0 : -1;
}

int main(void)
{
	const char *values[1] = { "one message" };
	PGconn *conn = PQconnectdb("");
	int rc = 1;

	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "floor: %s", PQerrorMessage(conn));
		goto done;
	}
	if (run(conn, "BEGIN", 0, NULL) == 0 &&
	    run(conn, "INSERT INTO bench_floor (note) VALUES ($1)", 1, values) == 0 &&
	    run(conn, "COMMIT", 0, NULL) == 0)
		rc = 0;
done:
	PQfinish(conn);
	return rc;
}
