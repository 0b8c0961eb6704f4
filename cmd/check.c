/*
 * check.c: `tlswatch check [--format text|json] DOMAIN...`.
 *
 * The live MTA-STS and TLS-RPT deployment of each domain (check/check.h),
 * printed as text or as one JSON object a line; with --save, compared
 * with the last saved check and kept in the database. Exit status: 0
 * when no check failed (warnings allowed), 1 when one did, like a
 * linter; 75 when --save cannot reach the database; 64 and 78 for the
 * command line and the configuration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>

#include "check/check.h"
#include "cmd/cmd.h"
#include "common/db.h"

int cmd_check(int argc, char **argv)
{
	g_autofree char *format = NULL;
	gboolean save = FALSE;
	const GOptionEntry entries[] = {
		{ "format", 'f', 0, G_OPTION_ARG_STRING, &format, "text (default) or json",
		  "FORMAT" },
		{ "save", 0, 0, G_OPTION_ARG_NONE, &save,
		  "Keep each check in the database, compared with the last one", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	struct config cfg;
	struct check_config cc;
	struct error err = ERROR_INIT;
	struct dns *dns = NULL;
	PGconn *conn = NULL;
	gboolean json, failed = FALSE;
	int status;

	status = cmd_setup(&argc, &argv, "DOMAIN...",
			   "Check the live MTA-STS and TLS-RPT deployment of each DOMAIN.", entries,
			   FALSE, &cfg);
	if (status != 0)
		return status;
	check_config_init(&cc);
	json = format != NULL && g_str_equal(format, "json");
	if (argc < 2 || (format != NULL && !json && !g_str_equal(format, "text")))
		error_set(&err, ERR_USAGE, "usage: tlswatch check [--format text|json] DOMAIN...");
	else if (check_config_load(&cc, &cfg, &err) == 0 && dns_new(&dns, &cfg, &err) == 0 && save)
		conn = db_connect(cfg.conninfo, &err);
	if (err.cls != ERR_NONE)
		goto done;
	for (int i = 1; i < argc; i++) {
		struct check_result *r = NULL;
		g_autofree char *out = NULL;

		check_domain(dns, &cc, argv[i], &r);
		if (conn != NULL && check_save(conn, r, &err) < 0) {
			check_result_free(r);
			goto done;
		}
		out = json ? check_render_json(r) : check_render_text(r);
		printf("%s%s", out, json ? "\n" : "");
		failed = failed || check_count(r, CHECK_FAIL) > 0;
		check_result_free(r);
	}
	fflush(stdout);
done:
	status = err.cls != ERR_NONE ? cmd_fail(&err, FALSE) : failed ? 1 : EX_OK;
	if (conn != NULL)
		PQfinish(conn);
	dns_free(dns);
	check_config_release(&cc);
	config_release(&cfg);
	return status;
}
