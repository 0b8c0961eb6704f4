/*
 * ingest.c: `tlswatch ingest [--dry-run] [PATH...]`.
 *
 * Without PATH this is the MTA's pipe target: the message is read whole
 * before the database is touched (so the MTA's write never fails), and the
 * exit status is the contract of design.md: 0 once committed or
 * quarantined, 75 for anything a retry may cure. With PATHs a person runs
 * it, so usage and configuration errors are 64 and 78; messages are then
 * committed in batches, with a progress line on a terminal, and SIGINT or
 * SIGTERM stop the run between two messages, everything before committed,
 * with the status of a run killed by that signal (130, 143): not done, and
 * running the same command again finishes it.
 */
#include <signal.h>
#include <sysexits.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "common/log.h"
#include "ingest/ingest.h"
#include "ingest/input.h"
#include "ingest/mail.h"
#include "ingest/watchdog.h"
#include "alert/alert.h"

/* Once committed: the alert rules for the domains just reported on, with
 * delivery tried once under the webhooks' own timeouts. Never changes the
 * exit status; what is not sent waits in the outbox for `tlswatch alert`.
 * Returns what the MTA's status line says of it ("1 alert not sent"), or
 * NULL for nothing to say; the caller g_free()s it. */
static char *ingest_alert(struct ingest_ctx *ctx)
{
	watchdog_message_end();
	return alert_after_delivery(ctx->store ? store_conn(ctx->store) : NULL, ctx->cfg,
				    ctx->alert_domains, ctx->alert_failing);
}

/* The MTA's pipe: one message on stdin. Read first, connect second: see
 * the top of this file. Every line waits (log_hold) for the status line,
 * which goes first: Postfix keeps only the start of what a pipe prints. */
static int ingest_pipe(struct ingest_ctx *ctx)
{
	g_autoptr(GBytes) raw = NULL;
	g_autofree char *alerts = NULL, *status = NULL;
	gboolean truncated = FALSE, warn = FALSE;
	struct ingest_source src = { .input = "stdin", .channel = "pipe" };
	struct error err = ERROR_INIT;
	int rc = EX_OK;

	/* From the first byte: a hanging read or connect counts too. The
	 * parser's child is forked first, while this process is small. */
	watchdog_message_begin(ctx->cfg);
	if (ingest_parser_start(ctx, &err) < 0)
		return cmd_fail(&err, TRUE);
	log_hold();
	if (input_read_stdin(ctx->cfg->max_message_size, &raw, &truncated, &err) < 0 ||
	    (!ctx->dry_run && store_open(&ctx->store, ctx->cfg->conninfo, &err) < 0) ||
	    ingest_message(ctx, raw, truncated, &src, &err) < 0 || ingest_flush(ctx, &err) < 0)
		rc = cmd_fail(&err, TRUE);
	else
		alerts = ingest_alert(ctx);
	/* After a failure the error line goes first: nothing was committed. */
	status = ingest_status_take(ctx, alerts, &warn);
	log_release(rc == EX_OK ? status : NULL, warn);
	return rc;
}

/* Messages per transaction in bulk: one COMMIT (a WAL flush) for many,
 * and fewer than the 64 subtransactions PostgreSQL caches per transaction
 * (each message has a savepoint; a rejected one takes a second). */
#define BULK_BATCH 30

static void ingest_on_signal(int signo)
{
	input_stop = signo;
}

/* Stop between two messages on SIGINT and SIGTERM; show progress on a
 * terminal. */
static void ingest_paths_setup(struct ingest_ctx *ctx, char **paths, gboolean use_syslog)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = ingest_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (!isatty(STDERR_FILENO) || use_syslog)
		return;
	for (gsize i = 0; paths[i] != NULL; i++)
		ctx->progress_total += input_count_path(paths[i]);
	ctx->progress_start = g_get_monotonic_time();
}

/* Every PATH; a path that cannot be read is reported and skipped, a
 * database failure stops the run (every later message would fail too). */
static int ingest_paths(struct ingest_ctx *ctx, char **paths, gboolean use_syslog)
{
	const struct ingest_totals *t = &ctx->totals;
	struct error err = ERROR_INIT;
	int status = EX_OK;

	if (ingest_parser_start(ctx, &err) < 0 ||
	    (!ctx->dry_run && store_open(&ctx->store, ctx->cfg->conninfo, &err) < 0))
		return cmd_fail(&err, FALSE);
	if (ctx->store != NULL)
		store_set_batch(ctx->store, BULK_BATCH);
	ingest_paths_setup(ctx, paths, use_syslog);
	for (gsize i = 0; paths[i] != NULL && !input_stop; i++) {
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
	if (ingest_flush(ctx, &err) < 0)
		status = cmd_fail(&err, FALSE);
	else
		g_free(ingest_alert(ctx));
	if (input_stop)
		log_info("stopped by %s after %u messages, each committed: the same command "
			 "again does the rest",
			 input_stop == SIGINT ? "SIGINT" : "SIGTERM",
			 t->stored + t->duplicate + t->quarantined);
	log_info("%s%u stored, %u duplicate, %u quarantined, %u failed",
		 ctx->dry_run ? "dry run, nothing written: " : "", ctx->totals.stored,
		 ctx->totals.duplicate, ctx->totals.quarantined, ctx->totals.failed);
	return input_stop ? 128 + input_stop : status;
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
	ctx.status_line = in_mta;
	if (!dry_run)
		ingest_collect_alert_domains(&ctx);
	status =
		in_mta ? ingest_pipe(&ctx) : ingest_paths(&ctx, argv + 1, use_syslog || cfg.syslog);
	ingest_ctx_release(&ctx);
	config_release(&cfg);
	return status;
}
