/*
 * fetch.c: `tlswatch fetch [--once | --every DURATION] [--account NAME]...`.
 *
 * Reads report mail from the mailboxes of the [imap NAME] groups
 * (fetch/fetch.h). --once (the default) is for cron and a systemd timer:
 * exit 0 when every account was read, 75 when one could not be now (the
 * next run catches up), 78 for the configuration. --every keeps reading,
 * an account's failure is logged and tried again next round, and SIGTERM
 * ends it between two messages.
 */
#include <signal.h>
#include <string.h>
#include <sysexits.h>

#include "alert/alert.h"
#include "cmd/cmd.h"
#include "common/log.h"
#include "fetch/fetch.h"
#include "ingest/mail.h"

static volatile sig_atomic_t fetch_stop;

static void fetch_on_signal(int signo)
{
	fetch_stop = 1;
}

/* One round over the accounts, each one's failure logged. Returns the
 * class of the first failure (ERR_NONE: every account was read). */
static enum error_class fetch_round(struct ingest_ctx *ctx, GPtrArray *accounts)
{
	enum error_class first = ERR_NONE;

	for (guint i = 0; i < accounts->len && !fetch_stop; i++) {
		const struct imap_account *a = g_ptr_array_index(accounts, i);
		struct fetch_counts n = { 0 };
		struct error err = ERROR_INIT;
		struct ingest_totals before = ctx->totals;
		g_autofree char *alerts = NULL;
		int rc = fetch_account(ctx, a, &fetch_stop, &n, &err);

		alerts = alert_after_delivery(store_conn(ctx->store), ctx->cfg, ctx->alert_domains,
					      ctx->alert_failing);
		if (n.fetched > 0 || rc < 0)
			log_info("[imap %s] %u fetched: %u stored, %u duplicate, %u quarantined; "
				 "%u moved%s%s%s",
				 a->name, n.fetched, ctx->totals.stored - before.stored,
				 ctx->totals.duplicate - before.duplicate,
				 ctx->totals.quarantined - before.quarantined, n.moved,
				 n.more ? "; more waiting (max-messages, max-bytes)" : "",
				 alerts ? "; " : "", alerts ? alerts : "");
		if (rc < 0) {
			log_warning("%s", err.msg);
			first = first == ERR_NONE ? err.cls : first;
		}
		error_clear(&err);
	}
	return first;
}

int cmd_fetch(int argc, char **argv)
{
	gboolean once = FALSE;
	g_autofree char *every = NULL;
	g_auto(GStrv) only = NULL;
	const GOptionEntry entries[] = {
		{ "once", 0, 0, G_OPTION_ARG_NONE, &once,
		  "Read every mailbox once, then exit (the default)", NULL },
		{ "every", 0, 0, G_OPTION_ARG_STRING, &every,
		  "Read every mailbox every DURATION (5m) until SIGTERM", "DURATION" },
		{ "account", 'a', 0, G_OPTION_ARG_STRING_ARRAY, &only,
		  "Only the [imap NAME] group NAME (repeatable)", "NAME" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	struct config cfg;
	struct error err = ERROR_INIT;
	struct ingest_ctx ctx = { .cfg = &cfg, .out = stdout };
	g_autoptr(GPtrArray) accounts = NULL;
	enum error_class failed = ERR_NONE;
	struct sigaction sa;
	gint64 period = 0;
	int status;

	status = cmd_setup(&argc, &argv, "", "Fetch report mail from IMAP mailboxes ([imap NAME]).",
			   entries, FALSE, &cfg);
	if (status != 0)
		return status;
	if (argc > 1 || (once && every != NULL))
		error_set(&err, ERR_USAGE,
			  "usage: tlswatch fetch [--once | --every DURATION] [--account NAME]...");
	else if (every != NULL && (period = config_parse_duration(every)) <= 0)
		error_set(&err, ERR_USAGE, "--every: expected a duration like 5m, got '%s'", every);
	else
		fetch_config_load(&accounts, &cfg, only, &err);
	if (err.cls != ERR_NONE || accounts == NULL)
		goto done;
	/* Nothing to read is not a failure: the shipped cron line and timer
	 * stay quiet until a mailbox is configured. */
	if (accounts->len == 0) {
		log_info("fetch: no [imap NAME] group in %s: nothing to read",
			 cfg.path ? cfg.path : "the configuration (none was read)");
		goto done;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = fetch_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	mail_library_init();
	ingest_collect_alert_domains(&ctx);
	if (store_open(&ctx.store, cfg.conninfo, &err) < 0 || ingest_parser_start(&ctx, &err) < 0)
		goto done;
	do {
		/* --every outlives a restart of PostgreSQL: a connection lost
		 * in one round is opened again for the next. */
		if (ctx.store == NULL || PQstatus(store_conn(ctx.store)) != CONNECTION_OK) {
			store_free(ctx.store);
			ctx.store = NULL;
			if (store_open(&ctx.store, cfg.conninfo, &err) < 0) {
				log_warning("%s", err.msg);
				error_clear(&err);
				failed = ERR_TEMP;
				goto wait;
			}
		}
		failed = fetch_round(&ctx, accounts);
	wait:
		/* Whole seconds, so that SIGTERM is seen within one. */
		for (gint64 s = 0; period > 0 && s < period && !fetch_stop; s++)
			g_usleep(G_USEC_PER_SEC);
	} while (period > 0 && !fetch_stop);
done:
	/* With --once an account's failure (logged already) is the status;
	 * --every goes on until it is told to stop. */
	if (err.cls != ERR_NONE)
		status = cmd_fail(&err, FALSE);
	else if (period == 0 && failed != ERR_NONE)
		status = failed == ERR_CONFIG ? EX_CONFIG : EX_TEMPFAIL;
	else
		status = EX_OK;
	ingest_ctx_release(&ctx);
	config_release(&cfg);
	return status;
}
