/*
 * worker.c: one worker process of `tlswatch serve`. It accepts an LMTP
 * session, feeds what the client sends to the state machine (lmtp.c) and
 * writes back its replies; at the end of each message it runs the pipe's
 * ingest path (ingest_message, then the alerts after the commit) and
 * answers 250 with the pipe's status line, or 451 with the reason when
 * nothing could be committed (the MTA keeps the message and retries, as
 * it does on the pipe's exit 75).
 *
 * The database connection is opened at the first message and kept; a
 * temporary failure drops it, so the next message connects again: a
 * restarted PostgreSQL needs no restart here. A kept connection only
 * shows it is dead when used, so a message that fails on one is tried
 * once more on a new connection before the client is told to retry. A query that hangs past
 * max-processing-time ends this process as it ends the pipe (watchdog.h):
 * the client sees the connection drop and retries, the master starts a
 * new worker.
 */
#include <string.h>

#include <gio/gio.h>

#include "alert/alert.h"
#include "common/log.h"
#include "ingest/ingest.h"
#include "ingest/watchdog.h"
#include "serve/lmtp.h"
#include "serve/serve.h"

struct worker {
	const struct config *cfg;
	const struct serve_config *sc;
	struct ingest_ctx ctx;
	volatile sig_atomic_t *stop;
};

/* The message as the pipe gets it from Postfix (flags=R): a Return-Path
 * first, which the quarantine shows as the sender. LMTP leaves adding it
 * to the server (RFC 5321, 4.4). A sender with a control character is
 * left out rather than written into a header. */
static GBytes *worker_with_return_path(GBytes *msg, const char *sender)
{
	gsize len = 0;
	const char *data = g_bytes_get_data(msg, &len);
	GByteArray *a;

	for (const char *p = sender; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return g_bytes_ref(msg);
	}
	a = g_byte_array_sized_new((guint)(len + strlen(sender) + 16));
	g_byte_array_append(a, (const guint8 *)"Return-Path: <", 14);
	g_byte_array_append(a, (const guint8 *)sender, (guint)strlen(sender));
	g_byte_array_append(a, (const guint8 *)">\n", 2);
	g_byte_array_append(a, (const guint8 *)data, (guint)len);
	return g_byte_array_free_to_bytes(a);
}

/* The ingest path for raw, on the kept connection or a new one. */
static int worker_ingest(struct worker *w, GBytes *raw, gboolean truncated, struct error *err)
{
	struct ingest_ctx *ctx = &w->ctx;
	struct ingest_source src = { .input = "lmtp" };

	if (ctx->store == NULL && store_open(&ctx->store, w->cfg->conninfo, err) < 0)
		return -1;
	if (ingest_message(ctx, raw, truncated, &src, err) < 0 || ingest_flush(ctx, err) < 0) {
		if (err->cls == ERR_TEMP) {
			store_free(ctx->store);
			ctx->store = NULL;
		}
		return -1;
	}
	return 0;
}

/* lmtp_deliver_fn: one message through the ingest path. */
static void worker_deliver(gpointer data, GBytes *msg, gboolean truncated, const char *sender,
			   const GPtrArray *recipients, struct lmtp_outcome *out)
{
	struct worker *w = data;
	struct ingest_ctx *ctx = &w->ctx;
	g_autoptr(GBytes) raw = worker_with_return_path(msg, sender);
	struct error err = ERROR_INIT;
	g_autofree char *alerts = NULL;
	gboolean warn = FALSE, kept = ctx->store != NULL;

	(void)recipients;
	if (worker_ingest(w, raw, truncated, &err) < 0) {
		if (!kept || err.cls != ERR_TEMP)
			goto fail;
		error_clear(&err);
		if (worker_ingest(w, raw, truncated, &err) < 0)
			goto fail;
	}
	watchdog_message_end();
	if (ctx->alert_domains->len > 0)
		alerts = alert_unsent_text(
			alert_after_ingest(store_conn(ctx->store), w->cfg, ctx->alert_domains));
	g_ptr_array_set_size(ctx->alert_domains, 0);
	out->code = 250;
	out->text = ingest_status_take(ctx, alerts, &warn);
	if (out->text == NULL)
		out->text = g_strdup("handled");
	return;
fail:
	watchdog_message_end();
	g_free(ingest_status_take(ctx, NULL, &warn));
	g_ptr_array_set_size(ctx->alert_domains, 0);
	log_warning("lmtp: not committed, the client will retry: %s", err.msg);
	out->code = 451;
	out->text = g_strdelimit(g_strdup(err.msg), "\r\n", ' ');
	error_clear(&err);
}

/* Write all of out; FALSE when the client is gone. */
static gboolean worker_send(GSocket *conn, GString *out)
{
	gsize done = 0;

	while (done < out->len) {
		gssize n = g_socket_send(conn, out->str + done, out->len - done, NULL, NULL);

		if (n <= 0)
			return FALSE;
		done += (gsize)n;
	}
	g_string_truncate(out, 0);
	return TRUE;
}

/* One session, to its end: QUIT, the client gone, idle too long, or a
 * stop between two messages. */
static void worker_session(struct worker *w, GSocket *conn)
{
	struct lmtp_session *s =
		lmtp_session_new(g_get_host_name(), w->cfg->max_message_size, worker_deliver, w);
	g_autoptr(GString) out = g_string_new(NULL);
	gint64 idle = 0;
	char buf[64 * 1024];

	g_socket_set_blocking(conn, TRUE);
	g_socket_set_timeout(conn, 1); /* seconds: to see a stop while idle */
	lmtp_session_greet(s, out);
	while (worker_send(conn, out)) {
		g_autoptr(GError) gerr = NULL;
		gssize n;

		/* Stopping: the message in hand is finished, then 421 (a client
		 * that pipelines message after message would otherwise keep the
		 * session, and this process, for as long as it has mail). */
		if (*w->stop && !lmtp_session_in_data(s)) {
			lmtp_session_abort(s, "Service shutting down", out);
			worker_send(conn, out);
			break;
		}
		n = g_socket_receive(conn, buf, sizeof buf, NULL, &gerr);
		if (n < 0 && g_error_matches(gerr, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) {
			if (++idle >= w->sc->idle_timeout)
				lmtp_session_abort(s, "Idle too long", out);
			else
				continue;
			worker_send(conn, out);
			break;
		}
		if (n <= 0)
			break;
		idle = 0;
		if (!lmtp_session_feed(s, buf, (gsize)n, out)) {
			worker_send(conn, out);
			break;
		}
	}
	if (lmtp_session_in_data(s))
		log_warning("lmtp: the client left in the middle of a message: nothing stored");
	g_socket_close(conn, NULL);
	lmtp_session_free(s);
}

/* Wait up to a second for a connection on any listener; accept it. */
static GSocket *worker_accept(GPtrArray *listeners)
{
	GPollFD fds[16];
	guint n = MIN(listeners->len, G_N_ELEMENTS(fds));

	for (guint i = 0; i < n; i++) {
		fds[i].fd = g_socket_get_fd(g_ptr_array_index(listeners, i));
		fds[i].events = G_IO_IN;
		fds[i].revents = 0;
	}
	if (g_poll(fds, n, 1000) <= 0)
		return NULL;
	for (guint i = 0; i < n; i++) {
		/* Another worker may have taken it: the listener does not block. */
		if (fds[i].revents & G_IO_IN)
			return g_socket_accept(g_ptr_array_index(listeners, i), NULL, NULL);
	}
	return NULL;
}

int serve_worker_run(const struct config *cfg, const struct serve_config *sc, GPtrArray *listeners,
		     volatile sig_atomic_t *stop)
{
	struct worker w = { .cfg = cfg, .sc = sc, .stop = stop };
	struct error err = ERROR_INIT;
	int rc = 0;

	w.ctx.cfg = cfg;
	w.ctx.out = stdout;
	w.ctx.verbose = TRUE;
	w.ctx.status_line = TRUE;
	w.ctx.alert_domains = g_ptr_array_new_with_free_func(g_free);
	if (ingest_parser_start(&w.ctx, &err) < 0) {
		log_error("%s", err.msg);
		error_clear(&err);
		rc = 75;
		goto out;
	}
	while (!*stop) {
		GSocket *conn = worker_accept(listeners);

		if (conn == NULL)
			continue;
		worker_session(&w, conn);
		g_object_unref(conn);
	}
out:
	ingest_parser_stop(&w.ctx);
	store_free(w.ctx.store);
	g_ptr_array_unref(w.ctx.alert_domains);
	return rc;
}
