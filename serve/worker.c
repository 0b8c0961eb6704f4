/*
 * worker.c: one worker process of `tlswatch serve`. It accepts an LMTP
 * session, feeds what the client sends to the state machine (lmtp.c) and
 * writes back its replies; at the end of each message it runs the pipe's
 * ingest path (deliver.c) and answers 250 with the pipe's status line, or
 * 451 with the reason when nothing could be committed (the MTA keeps the
 * message and retries, as it does on the pipe's exit 75); the alerts of
 * the domains delivered follow within a second (deliver.c). A query that
 * hangs past max-processing-time ends this process as it ends the pipe
 * (watchdog.h): the client sees the connection drop and retries, the
 * master starts a new worker.
 */
#include <string.h>

#include <gio/gio.h>

#include "common/log.h"
#include "serve/lmtp.h"
#include "serve/serve.h"

/* The longest an LMTP session may last (seconds); it ends between two
 * messages, and the MTA opens another. */
#define SESSION_MAX 3600

struct worker {
	const struct config *cfg;
	const struct serve_config *sc;
	struct serve_ingest si;
	volatile sig_atomic_t *stop;
};

/* The message as the pipe gets it from Postfix (flags=R): a Return-Path
 * first, which the quarantine shows as the sender. LMTP leaves adding it
 * to the server (RFC 5321, 4.4). A sender with a control character is
 * left out rather than written into a header. Returns a new reference
 * (msg itself when nothing is added); the caller unrefs it. */
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

/* lmtp_deliver_fn: one message through the ingest path (deliver.c). */
static void worker_deliver(gpointer data, GBytes *msg, gboolean truncated, const char *sender,
			   const GPtrArray *recipients, struct lmtp_outcome *out)
{
	struct worker *w = data;
	g_autoptr(GBytes) raw = worker_with_return_path(msg, sender);
	struct ingest_source src = { .input = "lmtp", .channel = "lmtp" };
	enum message_status status;

	(void)recipients;
	out->code = serve_ingest(&w->si, raw, truncated, FALSE, &src, &status, &out->text) == 0
			    ? 250
			    : 451;
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

/* One session, to its end: QUIT, the client gone, idle too long, longer
 * than SESSION_MAX, or a stop between two messages. Sends wait up to
 * idle-timeout for a client slow to read; reads look at the stop once a
 * second. */
static void worker_session(struct worker *w, GSocket *conn)
{
	struct lmtp_session *s =
		lmtp_session_new(g_get_host_name(), w->cfg->max_message_size, worker_deliver, w);
	g_autoptr(GString) out = g_string_new(NULL);
	gint64 idle = 0, end = g_get_monotonic_time() + (gint64)SESSION_MAX * G_USEC_PER_SEC;
	gboolean left_in_data = FALSE;
	char buf[64 * 1024];

	g_socket_set_blocking(conn, TRUE);
	g_socket_set_timeout(conn, (guint)w->sc->idle_timeout);
	lmtp_session_greet(s, out);
	while (worker_send(conn, out)) {
		gssize n;

		/* Stopping: the message in hand is finished, then 421 (a client
		 * that pipelines message after message would otherwise keep the
		 * session, and this process, for as long as it has mail). A
		 * session past SESSION_MAX ends at once, in a message or not:
		 * one client must not keep a worker for ever by sending a byte
		 * now and then; a message cut off is not stored, and its MTA
		 * sends it again. */
		if ((*w->stop && !lmtp_session_in_data(s)) || g_get_monotonic_time() > end) {
			left_in_data = lmtp_session_in_data(s);
			lmtp_session_abort(
				s, *w->stop ? "Service shutting down" : "Session too long", out);
			worker_send(conn, out);
			break;
		}
		serve_alert_flush(&w->si, FALSE);
		if (!g_socket_condition_timed_wait(conn, G_IO_IN, G_USEC_PER_SEC, NULL, NULL)) {
			if (++idle < w->sc->idle_timeout)
				continue;
			left_in_data = lmtp_session_in_data(s);
			lmtp_session_abort(s, "Idle too long", out);
			worker_send(conn, out);
			break;
		}
		n = g_socket_receive(conn, buf, sizeof buf, NULL, NULL);
		if (n <= 0) {
			left_in_data = lmtp_session_in_data(s);
			break;
		}
		idle = 0;
		if (!lmtp_session_feed(s, buf, (gsize)n, out)) {
			worker_send(conn, out);
			break;
		}
	}
	if (left_in_data)
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
		g_autoptr(GError) gerr = NULL;
		GSocket *conn;

		if (!(fds[i].revents & G_IO_IN))
			continue;
		/* Another worker may have taken it: the listener does not block. */
		conn = g_socket_accept(g_ptr_array_index(listeners, i), NULL, &gerr);
		if (conn == NULL && !g_error_matches(gerr, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
			log_warning("lmtp: accept: %s", gerr->message);
			g_usleep(100 * 1000); /* out of descriptors, say: no busy loop */
		}
		return conn;
	}
	return NULL;
}

int serve_worker_run(const struct config *cfg, const struct serve_config *sc, GPtrArray *listeners,
		     volatile sig_atomic_t *stop)
{
	struct worker w = { .cfg = cfg, .sc = sc, .stop = stop };
	struct error err = ERROR_INIT;
	int rc = 0;

	serve_ingest_init(&w.si, cfg, SERVE_LMTP_CHANNEL);
	if (ingest_parser_start(&w.si.ctx, &err) < 0) {
		log_error("%s", err.msg);
		error_clear(&err);
		rc = 75;
		goto out;
	}
	while (!*stop) {
		GSocket *conn = worker_accept(listeners);

		serve_alert_flush(&w.si, FALSE);
		if (conn == NULL)
			continue;
		worker_session(&w, conn);
		g_object_unref(conn);
	}
	serve_alert_flush(&w.si, TRUE);
out:
	serve_ingest_release(&w.si);
	return rc;
}
