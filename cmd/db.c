/*
 * db.c: `tlswatch db init | migrate | status`.
 *
 * init and migrate are the same idempotent operation under two names: a
 * postmaster types init once, a package upgrade script runs migrate.
 */
#include <stdio.h>
#include <sysexits.h>

#include "cmd/cmd.h"
#include "common/db.h"
#include "common/log.h"

int cmd_db(int argc, char **argv)
{
	struct config cfg;
	struct error err = ERROR_INIT;
	PGconn *conn = NULL;
	int status, applied = 0, current = 0, latest = 0;
	const char *action;

	status = cmd_setup(&argc, &argv, "init|migrate|status",
			   "Create or upgrade the database schema, or show its version.", NULL,
			   FALSE, &cfg);
	if (status != 0)
		return status;
	action = argc == 2 ? argv[1] : "";
	if (!g_str_equal(action, "init") && !g_str_equal(action, "migrate") &&
	    !g_str_equal(action, "status")) {
		error_set(&err, ERR_USAGE, "usage: tlswatch db init|migrate|status");
		goto fail;
	}
	conn = db_connect(cfg.conninfo, &err);
	if (conn == NULL)
		goto fail;
	if (!g_str_equal(action, "status") && db_migrate(conn, &applied, &err) < 0)
		goto fail;
	if (db_schema_version(conn, &current, &latest, &err) < 0)
		goto fail;
	if (g_str_equal(action, "status"))
		printf("schema version %d, latest %d%s\n", current, latest,
		       current < latest ? ": run `tlswatch db migrate`" : "");
	else
		printf("schema version %d (%d migration%s applied)\n", current, applied,
		       applied == 1 ? "" : "s");
	PQfinish(conn);
	config_release(&cfg);
	return EX_OK;
fail:
	if (conn != NULL)
		PQfinish(conn);
	config_release(&cfg);
	return cmd_fail(&err, FALSE);
}
