/*
 * ingest.c: `tlswatch ingest [--dry-run] [PATH...]`.
 *
 * Without PATH this is the MTA's pipe target: the message is read whole
 * before the database is touched (so the MTA's write never fails), and the
 * exit status is the contract of design.md: 0 once committed or
 * quarantined, 75 for anything a retry may cure. With PATHs a person runs
 * it, so usage and configuration errors are 64 and 78.
 */
#include <sysexits.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "common/log.h"
#include "ingest/ingest.h"
#include "ingest/input.h"
#include "ingest/mail.h"
#include "ingest/watchdog.h"

/* The MTA's pipe: one message on stdin. Read first, connect second: see
 * the top of this file. */
static int ingest_pipe(struct ingest_ctx *ctx)
{
	g_autoptr(GBytes) raw = NULL;
	gboolean truncated = FALSE;
	struct ingest_source src = { .input = "stdin" };
	struct error err = ERROR_INIT;

	/* From the first byte: a hanging read or connect counts too. */
	watchdog_message_begin(ctx->cfg);
	if (input_read_stdin(ctx->cfg->max_message_size, &raw, &truncated, &err) < 0 ||
	    (!ctx->dry_run && store_open(&ctx->store, ctx->cfg->conninfo, &err) < 0) ||
	    ingest_message(ctx, raw, truncated, &src, &err) < 0)
		return cmd_fail(&err, TRUE);
	return EX_OK;
}

/* Every PATH; a path that cannot be read is reported and skipped, a
 * database failure stops the run (every later message would fail too). */
static int ingest_paths(struct ingest_ctx *ctx, char **paths)
{
	struct error err = ERROR_INIT;
	int status = EX_OK;

	if (!ctx->dry_run && store_open(&ctx->store, ctx->cfg->conninfo, &err) < 0)
		return cmd_fail(&err, FALSE);
	for (gsize i = 0; paths[i] != NULL; i++) {
		if (input_ingest_path(ctx, paths[i], &err) == 0)
			continue;
		if (err.cls != ERR_USAGE) {
			status = cmd_fail(&err, FALSE);
			break;
		}
		log_error("%s", err.msg);
		error_clear(&err);
		ctx->totals.failed++;
		status = EX_NOINPUT;
	}
	log_info("%s%u stored, %u duplicate, %u quarantined, %u failed",
		 ctx->dry_run ? "dry run, nothing written: " : "", ctx->totals.stored,
		 ctx->totals.duplicate, ctx->totals.quarantined, ctx->totals.failed);
	return status;
}

int cmd_ingest(int argc, char **argv)
{
	gboolean dry_run = FALSE, verbose = FALSE, use_syslog = FALSE;
	const GOptionEntry entries[] = {
		{ "dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run,
		  "Print the reports found as JSON lines; touch no database", NULL },
		{ "syslog", 0, 0, G_OPTION_ARG_NONE, &use_syslog,
		  "Log to syslog (facility mail) instead of stderr", NULL },
		{ "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose,
		  "A line for every message, not only for problems", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	struct config cfg;
	struct ingest_ctx ctx = { .cfg = &cfg, .out = stdout };
	gboolean in_mta;
	int status;

	status = cmd_setup(&argc, &argv, "[PATH...]",
			   "Store the TLS reports in a message on stdin, or in files, Maildirs and "
			   "mboxes.",
			   entries, TRUE, &cfg);
	if (status != 0)
		return status;
	in_mta = argc < 2;
	if (use_syslog)
		log_use_syslog();
	mail_library_init();
	ctx.dry_run = dry_run;
	ctx.verbose = verbose || in_mta;
	status = in_mta ? ingest_pipe(&ctx) : ingest_paths(&ctx, argv + 1);
	store_free(ctx.store);
	config_release(&cfg);
	return status;
}
