/*
 * deliver.c: what every channel of `tlswatch serve` does with the bytes it
 * received: the pipe's ingest path (ingest_message, or ingest_bare_report
 * for an HTTPS POST), then the alerts after the commit, and the line the
 * pipe would print first. The database connection is opened at the first
 * message and kept; a temporary failure drops it, so the next message
 * connects again: a restarted PostgreSQL needs no restart here. A kept
 * connection only shows it is dead when used, so a message that fails on
 * one is tried once more on a new connection before the sender is told to
 * retry.
 */
#include "alert/alert.h"
#include "common/log.h"
#include "ingest/watchdog.h"
#include "serve/serve.h"

void serve_ingest_init(struct serve_ingest *si, const struct config *cfg,
		       enum serve_channel channel)
{
	*si = (struct serve_ingest){ .cfg = cfg, .channel = channel };
	si->ctx.cfg = cfg;
	si->ctx.out = stdout;
	si->ctx.verbose = TRUE;
	si->ctx.status_line = TRUE;
	si->ctx.alert_domains = g_ptr_array_new_with_free_func(g_free);
}

void serve_ingest_release(struct serve_ingest *si)
{
	ingest_ctx_release(&si->ctx);
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

int serve_ingest(struct serve_ingest *si, GBytes *raw, gboolean truncated, gboolean bare,
		 const struct ingest_source *src, enum message_status *status, char **text)
{
	struct ingest_ctx *ctx = &si->ctx;
	struct error err = ERROR_INIT;
	g_autofree char *alerts = NULL;
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
	alerts = alert_after_delivery(store_conn(ctx->store), si->cfg, ctx->alert_domains);
	*status = ctx->status_last;
	*text = ingest_status_take(ctx, alerts, &warn);
	if (*text == NULL)
		*text = g_strdup("handled");
	serve_metrics_count(si->channel, outcome[*status], g_get_monotonic_time() - start);
	return 0;
fail:
	watchdog_message_end();
	g_free(ingest_status_take(ctx, NULL, &warn));
	g_ptr_array_set_size(ctx->alert_domains, 0);
	log_warning("%s: not committed, the sender will retry: %s", src->input, err.msg);
	*text = g_strdelimit(g_strdup(err.msg), "\r\n", ' ');
	error_clear(&err);
	serve_metrics_count(si->channel, SERVE_DEFERRED, g_get_monotonic_time() - start);
	return -1;
}
