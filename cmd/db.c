/*
 * db.c: `tlswatch db init | migrate | status | prune | reverify | report`.
 *
 * init and migrate are the same idempotent operation under two names: a
 * postmaster types init once, a package upgrade script runs migrate. Both
 * also create the partitions of the coming months, as prune does.
 *
 * prune is retention: tlswatch.prune() drops whole months of reports and
 * the history that goes with them. It refuses a cutoff that would take
 * data an alert rule or the digest still reads, so a typo in a cron line
 * cannot silently blind the alerts.
 *
 * reverify judges again the messages a DNS failure left as temperror
 * (ingest/reverify.h): run it from cron after an outage, or any time.
 *
 * report prints stored reports as their reporters sent them: the
 * compressed reports.original (common/original.h), or the jsonb document
 * of a row stored before schema version 11.
 */
#include <stdio.h>
#include <sysexits.h>

#include "alert/alert.h"
#include "cmd/cmd.h"
#include "common/db.h"
#include "common/log.h"
#include "common/original.h"
#include "ingest/mail.h"
#include "ingest/reverify.h"

/* The longest period a digest compares: a monthly digest (--since 31d)
 * with the 31 days before it. */
#define DIGEST_HISTORY_NEEDED (62 * 86400)

struct db_opts {
	char *older_than, *now;
	gboolean dry_run, force;
};

static const char *const db_actions[] = { "init", "migrate", "status", "prune", "reverify", NULL };

/* PostgreSQL's own databases: a schema built there by mistake (conninfo
 * forgotten, run as postgres) would work, and hold reports next to the
 * cluster's maintenance objects. */
static const char *const db_maintenance[] = { "postgres", "template0", "template1", NULL };

/* Where this command acts: which database, server and role, and where
 * the choice came from. A new string. */
static char *db_target(PGconn *conn, const struct config *cfg)
{
	const char *host = PQhost(conn);

	return g_strdup_printf("database %s on %s port %s as %s (%s%s)", PQdb(conn),
			       host != NULL && *host != '\0' ? host : "the default socket",
			       PQport(conn), PQuser(conn),
			       cfg->conninfo != NULL
				       ? "[database] conninfo of "
				       : "no conninfo: PG* variables and libpq defaults",
			       cfg->conninfo != NULL ? cfg->path : "");
}

/* The cutoff's age in seconds, from --older-than or [database] retention,
 * checked against what the rules and the digest read. */
static int db_prune_age(const struct db_opts *o, const struct config *cfg, gint64 *age,
			struct error *err)
{
	struct alert_config ac;
	gint64 need = DIGEST_HISTORY_NEEDED;
	int rc = -1;

	alert_config_init(&ac);
	if (o->older_than != NULL) {
		if ((*age = config_parse_duration(o->older_than)) <= 0) {
			error_set(err, ERR_USAGE,
				  "--older-than: expected a duration like 400d, got '%s'",
				  o->older_than);
			goto fail;
		}
	} else if ((*age = cfg->retention) == 0) {
		error_set(err, ERR_USAGE,
			  "db prune: no cutoff: give --older-than DURATION or set [database] "
			  "retention");
		goto fail;
	}
	if (alert_config_load(&ac, cfg->keyfile, cfg->path, err) < 0)
		goto fail;
	need = MAX(need, alert_config_history_needed(&ac));
	if (*age < need) {
		/* A retention in the file is the file's error, not the command's. */
		error_set(err, o->older_than != NULL ? ERR_USAGE : ERR_CONFIG,
			  "db prune: refusing a cutoff of %" G_GINT64_FORMAT
			  " days: the alert rules"
			  " and the digest read the last %" G_GINT64_FORMAT " days",
			  *age / 86400, (need + 86399) / 86400);
		goto fail;
	}
	rc = 0;
fail:
	alert_config_release(&ac);
	return rc;
}

/* Judge again what a DNS failure left as temperror, and say what came of
 * it. */
static int db_reverify(const struct config *cfg, struct error *err)
{
	struct ingest_ctx ctx = { .cfg = cfg, .out = stdout };
	struct reverify_counts n = { 0 };
	int rc = -1;

	if (cfg->dkim == CONFIG_DKIM_OFF)
		return error_set(err, ERR_USAGE,
				 "db reverify: [ingest] dkim = off: nothing is verified");
	mail_library_init();
	if (store_open(&ctx.store, cfg->conninfo, err) == 0 &&
	    ingest_reverify(&ctx, &n, err) == 0) {
		log_info("reverify: %u authenticated, %u not, %u still without a key",
			 n.authenticated, n.unauthenticated, n.temperror);
		rc = 0;
	}
	ingest_ctx_release(&ctx);
	return rc;
}

/* Run tlswatch.prune() in one transaction and print what it removed. */
static int db_prune(PGconn *conn, const struct db_opts *o, const struct config *cfg, gint64 now,
		    struct error *err)
{
	char cutoff[24];
	const char *params[] = { cutoff, o->dry_run ? "true" : "false" };
	gint64 age = 0;
	PGresult *res = NULL;
	int rc = -1, shown = 0;

	if (db_prune_age(o, cfg, &age, err) < 0)
		return -1;
	g_snprintf(cutoff, sizeof(cutoff), "%" G_GINT64_FORMAT, now - age);
	if (db_exec(conn, "BEGIN", err) < 0)
		return -1;
	res = PQexecParams(
		conn,
		"SELECT what, removed, to_char(to_timestamp($1::bigint) AT TIME ZONE 'UTC',"
		" 'YYYY-MM-DD HH24:MI:SS') FROM tlswatch.prune(to_timestamp($1::bigint),"
		" $2::boolean)",
		2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		db_error(conn, res, err, "db prune");
		goto fail;
	}
	if (db_exec(conn, o->dry_run ? "ROLLBACK" : "COMMIT", err) < 0)
		goto fail;
	printf("%s (cutoff %s UTC; reports by whole months, up to the first of the cutoff's"
	       " month):\n",
	       o->dry_run ? "would remove" : "removed",
	       PQntuples(res) > 0 ? PQgetvalue(res, 0, 2) : cutoff);
	for (int i = 0; i < PQntuples(res); i++) {
		if (g_str_equal(PQgetvalue(res, i, 1), "0"))
			continue;
		printf("  %-20s %s row%s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		       g_str_equal(PQgetvalue(res, i, 1), "1") ? "" : "s");
		shown++;
	}
	if (shown == 0)
		printf("  nothing\n");
	rc = 0;
fail:
	if (rc < 0)
		PQclear(PQexec(conn, "ROLLBACK"));
	PQclear(res);
	return rc;
}

/* Print the JSON of each report named in ids (reports.id), as received,
 * each followed by a newline when it has none. */
static int db_report(PGconn *conn, char **ids, int n, guint64 max, struct error *err)
{
	PGresult *res = NULL;
	g_autoptr(GBytes) json = NULL;
	guint64 id;
	const char *data;
	gsize len;

	for (int i = 0; i < n; i++) {
		if (!g_ascii_string_to_unsigned(ids[i], 10, 1, G_MAXINT64, &id, NULL)) {
			error_set(err, ERR_USAGE, "db report: '%s' is not a report id", ids[i]);
			goto fail;
		}
		/* Binary results: bytea and text arrive as their bytes. */
		res = PQexecParams(conn,
				   "SELECT original, document::text FROM tlswatch.reports"
				   " WHERE id = $1::bigint",
				   1, NULL, (const char *const *)&ids[i], NULL, NULL, 1);
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			db_error(conn, res, err, "db report");
			goto fail;
		}
		if (PQntuples(res) == 0) {
			error_set(err, ERR_USAGE, "db report: no report has the id %s", ids[i]);
			goto fail;
		}
		data = PQgetvalue(res, 0, 1);
		len = (gsize)PQgetlength(res, 0, 1);
		if (!PQgetisnull(res, 0, 0)) {
			json = original_inflate(PQgetvalue(res, 0, 0),
						(gsize)PQgetlength(res, 0, 0), max, err);
			if (json == NULL) {
				error_prefix(err, "db report %s: ", ids[i]);
				goto fail;
			}
			data = g_bytes_get_data(json, &len);
		}
		if (fwrite(data, 1, len, stdout) != len ||
		    ((len == 0 || data[len - 1] != '\n') && putchar('\n') == EOF)) {
			error_set(err, ERR_TEMP, "db report: cannot write to stdout");
			goto fail;
		}
		g_clear_pointer(&json, g_bytes_unref);
		g_clear_pointer(&res, PQclear);
	}
	return 0;
fail:
	PQclear(res);
	return -1;
}

int cmd_db(int argc, char **argv)
{
	struct db_opts o = { 0 };
	const GOptionEntry entries[] = {
		{ "older-than", 0, 0, G_OPTION_ARG_STRING, &o.older_than,
		  "prune: remove reports older than DURATION (400d); default [database] retention",
		  "DURATION" },
		{ "dry-run", 'n', 0, G_OPTION_ARG_NONE, &o.dry_run,
		  "prune: only say what would be removed", NULL },
		{ "now", 0, 0, G_OPTION_ARG_STRING, &o.now,
		  "prune: as of TIME (RFC 3339 or @unix-seconds) instead of the clock", "TIME" },
		{ "force", 0, 0, G_OPTION_ARG_NONE, &o.force,
		  "init, migrate: even in the database postgres (or template0, template1)", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	struct config cfg;
	struct error err = ERROR_INIT;
	PGconn *conn = NULL;
	int status, applied = 0, current = 0, latest = 0;
	gint64 now = 0;
	const char *action;
	g_autofree char *target = NULL;
	gboolean maintenance;

	status = cmd_setup(&argc, &argv, "init|migrate|status|prune|reverify|report ID...",
			   "Create or upgrade the database schema, show its version, remove"
			   " reports past their retention, verify again the messages whose"
			   " DKIM key DNS did not give, or print stored reports as sent.",
			   entries, FALSE, &cfg);
	if (status != 0)
		goto out;
	action = argc >= 2 ? argv[1] : "";
	/* report takes ids; the others take nothing. */
	if (g_str_equal(action, "report") ? argc < 3
					  : argc != 2 || !g_strv_contains(db_actions, action)) {
		error_set(&err, ERR_USAGE,
			  "usage: tlswatch db init|migrate|status|prune|reverify|report ID...");
		goto fail;
	}
	if (!g_str_equal(action, "prune") && (o.older_than != NULL || o.dry_run || o.now)) {
		error_set(&err, ERR_USAGE, "--older-than, --dry-run and --now belong to db prune");
		goto fail;
	}
	if (o.force && !g_str_equal(action, "init") && !g_str_equal(action, "migrate")) {
		error_set(&err, ERR_USAGE, "--force belongs to db init and db migrate");
		goto fail;
	}
	if (cmd_parse_now(o.now, &now, &err) < 0)
		goto fail;
	if (g_str_equal(action, "reverify")) {
		if (db_reverify(&cfg, &err) < 0)
			goto fail;
		goto done;
	}
	conn = db_connect(cfg.conninfo, &err);
	if (conn == NULL)
		goto fail;
	if (g_str_equal(action, "report")) {
		if (db_report(conn, argv + 2, argc - 2, MAX(cfg.max_report_size, G_MAXINT32),
			      &err) < 0)
			goto fail;
		goto done;
	}
	if (g_str_equal(action, "prune")) {
		/* The partitions ahead follow the clock, not --now. */
		if (db_prune(conn, &o, &cfg, now, &err) < 0 ||
		    (!o.dry_run && db_create_partitions(conn, g_get_real_time() / G_USEC_PER_SEC,
							NULL, &err) < 0))
			goto fail;
		goto done;
	}
	target = db_target(conn, &cfg);
	printf("%s\n", target);
	maintenance = g_strv_contains(db_maintenance, PQdb(conn));
	if (!g_str_equal(action, "status") && !o.force && maintenance) {
		error_set(&err, ERR_CONFIG,
			  "db %s: %s is PostgreSQL's own database, not one for tlswatch: name "
			  "yours with dbname= in [database] conninfo (or PGDATABASE), or give "
			  "--force",
			  action, PQdb(conn));
		goto fail;
	}
	if (!g_str_equal(action, "status") && (db_migrate(conn, &applied, &err) < 0 ||
					       db_create_partitions(conn, now, NULL, &err) < 0))
		goto fail;
	if (db_schema_version(conn, &current, &latest, &err) < 0)
		goto fail;
	if (g_str_equal(action, "status"))
		printf("schema version %d, latest %d%s\n", current, latest,
		       current == 0 && maintenance
			       ? ": not tlswatch's database (set dbname= in [database] conninfo)"
		       : current < latest ? ": run `tlswatch db migrate`"
					  : "");
	else
		printf("schema version %d (%d migration%s applied)\n", current, applied,
		       applied == 1 ? "" : "s");
done:
	PQfinish(conn);
	config_release(&cfg);
	status = EX_OK;
	goto out;
fail:
	if (conn != NULL)
		PQfinish(conn);
	config_release(&cfg);
	status = cmd_fail(&err, FALSE);
out:
	g_free(o.older_than);
	g_free(o.now);
	return status;
}
