/*
 * deliver.c: what every channel of `tlswatch serve` does with the bytes it
 * received: the pipe's ingest path (ingest_message, or ingest_bare_report
 * for an HTTPS POST), and the line the pipe would print first; then the
 * alerts, as the pipe evaluates them after each commit, but off the
 * reply's path and for many messages at once: a worker keeps the domains
 * delivered and evaluates the rules for all of them at most
 * SERVE_ALERT_DELAY after the first. Per message that evaluation cost
 * more than the delivery (20 ms against 2 ms with three rules, most of it
 * planning the queries); per second, it is the same few queries with a
 * longer domain list. Nothing is repeated (the rules' cooldowns are in
 * the database, as for the pipe) and nothing is lost: a worker evaluates
 * what it holds before it ends, and a worker that dies leaves its
 * domains to the next alert pass, which evaluates every domain.
 *
 * The database connection is opened at the first
 * message and kept; a temporary failure drops it, so the next message
 * connects again: a restarted PostgreSQL needs no restart here. A kept
 * connection only shows it is dead when used, so a message that fails on
 * one is tried once more on a new connection before the sender is told to
 * retry.
 */
#include "alert/alert.h"
#include "common/domain.h"
#include "common/log.h"
#include "ingest/watchdog.h"
#include "serve/serve.h"

#define SERVE_ALERT_DELAY (G_USEC_PER_SEC)
/* Domains evaluated at once at most: past it the rules run at once. */
#define SERVE_ALERT_BATCH 1000

void serve_ingest_init(struct serve_ingest *si, const struct config *cfg,
		       enum serve_channel channel)
{
	*si = (struct serve_ingest){ .cfg = cfg, .channel = channel };
	si->ctx.cfg = cfg;
	si->ctx.out = stdout;
	si->ctx.verbose = TRUE;
	si->ctx.status_line = TRUE;
	ingest_collect_alert_domains(&si->ctx);
	si->alert_pending = g_ptr_array_new_with_free_func(g_free);
	si->alert_failing = g_ptr_array_new_with_free_func(g_free);
}

void serve_ingest_release(struct serve_ingest *si)
{
	ingest_ctx_release(&si->ctx);
	g_clear_pointer(&si->alert_pending, g_ptr_array_unref);
	g_clear_pointer(&si->alert_failing, g_ptr_array_unref);
}

/* The ingest path for raw, on the kept connection or a new one. */
static int serve_ingest_once(struct serve_ingest *si, GBytes *raw, gboolean truncated,
			     gboolean bare, const struct ingest_source *src, struct error *err)
{
	struct ingest_ctx *ctx = &si->ctx;
	int rc;

	if (ctx->store == NULL && store_open(&ctx->store, si->cfg->conninfo, err) < 0)
		return -1;
	rc = bare ? ingest_bare_report(ctx, raw, src, err)
		  : ingest_message(ctx, raw, truncated, src, err);
	if (rc < 0 || ingest_flush(ctx, err) < 0) {
		if (err->cls == ERR_TEMP) {
			store_free(ctx->store);
			ctx->store = NULL;
		}
		return -1;
	}
	return 0;
}

/* Forget the domains the last message touched (ingest keeps adding). */
static void serve_touched_clear(struct ingest_ctx *ctx)
{
	g_ptr_array_set_size(ctx->alert_domains, 0);
	g_ptr_array_set_size(ctx->alert_failing, 0);
}

/* The domains the message just committed touched, and which of them its
 * reports say failed, kept for serve_alert_flush. */
static void serve_alert_defer(struct serve_ingest *si)
{
	domain_list_add(si->alert_pending, si->ctx.alert_domains);
	domain_list_add(si->alert_failing, si->ctx.alert_failing);
	serve_touched_clear(&si->ctx);
	if (si->alert_pending->len > 0 && si->alert_due == 0)
		si->alert_due = g_get_monotonic_time() + SERVE_ALERT_DELAY;
	serve_alert_flush(si, si->alert_pending->len >= SERVE_ALERT_BATCH);
}

void serve_alert_flush(struct serve_ingest *si, gboolean now)
{
	struct error err = ERROR_INIT;
	g_autofree char *unsent = NULL;
	guint n = si->alert_pending->len;

	if (n == 0 || (!now && g_get_monotonic_time() < si->alert_due))
		return;
	si->alert_due = 0;
	if (si->ctx.store == NULL && store_open(&si->ctx.store, si->cfg->conninfo, &err) < 0) {
		log_warning("alerts for %u domain%s not evaluated now (the next alert pass will): "
			    "%s",
			    n, n == 1 ? "" : "s", err.msg);
		error_clear(&err);
		g_ptr_array_set_size(si->alert_pending, 0);
		g_ptr_array_set_size(si->alert_failing, 0);
		return;
	}
	/* It empties the lists. */
	unsent = alert_after_delivery(store_conn(si->ctx.store), si->cfg, si->alert_pending,
				      si->alert_failing);
	if (unsent != NULL)
		log_warning("alerts for the %u domain%s just delivered: %s", n, n == 1 ? "" : "s",
			    unsent);
}

int serve_ingest(struct serve_ingest *si, GBytes *raw, gboolean truncated, gboolean bare,
		 const struct ingest_source *src, enum message_status *status, char **text)
{
	struct ingest_ctx *ctx = &si->ctx;
	struct error err = ERROR_INIT;
	gboolean warn = FALSE, kept = ctx->store != NULL;
	gint64 start = g_get_monotonic_time();
	static const enum serve_outcome outcome[] = {
		[MESSAGE_STORED] = SERVE_STORED,
		[MESSAGE_DUPLICATE] = SERVE_DUPLICATE,
		[MESSAGE_QUARANTINED] = SERVE_QUARANTINED,
	};

	if (serve_ingest_once(si, raw, truncated, bare, src, &err) < 0) {
		if (!kept || err.cls != ERR_TEMP)
			goto fail;
		error_clear(&err);
		if (serve_ingest_once(si, raw, truncated, bare, src, &err) < 0)
			goto fail;
	}
	watchdog_message_end();
	serve_alert_defer(si);
	*status = ctx->status_last;
	*text = ingest_status_take(ctx, NULL, &warn);
	if (*text == NULL)
		*text = g_strdup("handled");
	serve_metrics_count(si->channel, outcome[*status], g_get_monotonic_time() - start);
	return 0;
fail:
	watchdog_message_end();
	g_free(ingest_status_take(ctx, NULL, &warn));
	serve_touched_clear(ctx);
	log_warning("%s: not committed, the sender will retry: %s", src->input, err.msg);
	*text = g_strdelimit(g_strdup(err.msg), "\r\n", ' ');
	error_clear(&err);
	serve_metrics_count(si->channel, SERVE_DEFERRED, g_get_monotonic_time() - start);
	return -1;
}
