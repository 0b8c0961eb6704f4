/*
 * metrics.c: what `tlswatch serve` counts, and GET /metrics (Prometheus
 * text format 0.0.4) and GET /healthz on [serve] metrics, answered by the
 * master process. The counters live in one anonymous shared mapping made
 * by the master before it starts the workers, which add to them with
 * atomic operations: a scrape sees every worker's messages, also those of
 * workers that have ended, since serve started. The label sets are fixed:
 * channel (lmtp, http, https) and outcome (stored, duplicate, quarantined,
 * deferred); a report's own fields never become labels.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <microhttpd.h>

#include "common/log.h"
#include "serve/serve.h"

#ifndef TLSWATCH_VERSION
#define TLSWATCH_VERSION "unknown"
#endif

/* Seconds from the message's last byte to its outcome. */
static const double serve_buckets[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10 };
#define N_BUCKETS G_N_ELEMENTS(serve_buckets)

static const char *const channel_names[SERVE_CHANNELS] = { "lmtp", "http", "https" };
static const char *const outcome_names[SERVE_OUTCOMES] = { "stored", "duplicate", "quarantined",
							   "deferred" };

struct serve_counters {
	atomic_uint_fast64_t messages[SERVE_CHANNELS][SERVE_OUTCOMES];
	atomic_uint_fast64_t bucket[SERVE_CHANNELS][N_BUCKETS]; /* not cumulative */
	atomic_uint_fast64_t usec_sum[SERVE_CHANNELS];
	atomic_uint_fast64_t workers_started;
};

static struct serve_counters *counters;

int serve_metrics_init(struct error *err)
{
	void *p = mmap(NULL, sizeof *counters, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		       -1, 0);

	if (p == MAP_FAILED)
		return error_set(err, ERR_TEMP, "cannot map the metrics: %s", g_strerror(errno));
	counters = p;
	memset(counters, 0, sizeof *counters);
	return 0;
}

void serve_metrics_count(enum serve_channel ch, enum serve_outcome out, gint64 usec)
{
	gsize b = 0;

	if (counters == NULL)
		return;
	atomic_fetch_add_explicit(&counters->messages[ch][out], 1, memory_order_relaxed);
	if (out == SERVE_DEFERRED)
		return;
	while (b < N_BUCKETS && (double)usec / 1e6 > serve_buckets[b])
		b++;
	if (b < N_BUCKETS)
		atomic_fetch_add_explicit(&counters->bucket[ch][b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&counters->usec_sum[ch], (guint64)MAX(usec, 0),
				  memory_order_relaxed);
}

void serve_metrics_worker_started(void)
{
	if (counters != NULL)
		atomic_fetch_add_explicit(&counters->workers_started, 1, memory_order_relaxed);
}

static guint64 load(atomic_uint_fast64_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

static void metrics_histogram(GString *t, enum serve_channel ch)
{
	guint64 cum = 0, handled = 0;

	for (int o = 0; o < SERVE_DEFERRED; o++)
		handled += load(&counters->messages[ch][o]);
	for (gsize b = 0; b < N_BUCKETS; b++) {
		cum += load(&counters->bucket[ch][b]);
		g_string_append_printf(t,
				       "tlswatch_ingest_seconds_bucket{channel=\"%s\",le=\"%g\"} "
				       "%" G_GUINT64_FORMAT "\n",
				       channel_names[ch], serve_buckets[b], cum);
	}
	g_string_append_printf(
		t,
		"tlswatch_ingest_seconds_bucket{channel=\"%s\",le=\"+Inf\"} "
		"%" G_GUINT64_FORMAT "\n"
		"tlswatch_ingest_seconds_sum{channel=\"%s\"} %.6f\n"
		"tlswatch_ingest_seconds_count{channel=\"%s\"} %" G_GUINT64_FORMAT "\n",
		channel_names[ch], handled, channel_names[ch],
		(double)load(&counters->usec_sum[ch]) / 1e6, channel_names[ch], handled);
}

/* The text of /metrics; the caller g_free()s it. */
static char *metrics_text(gboolean database_up)
{
	GString *t = g_string_new(NULL);

	g_string_append(t, "# HELP tlswatch_messages_total Messages and POSTs handled since serve "
			   "started, by channel and outcome (deferred: nothing committed, the "
			   "sender retries).\n# TYPE tlswatch_messages_total counter\n");
	for (int ch = 0; ch < SERVE_CHANNELS; ch++)
		for (int o = 0; o < SERVE_OUTCOMES; o++)
			g_string_append_printf(
				t,
				"tlswatch_messages_total{channel=\"%s\",outcome=\"%s\"} "
				"%" G_GUINT64_FORMAT "\n",
				channel_names[ch], outcome_names[o],
				load(&counters->messages[ch][o]));
	g_string_append(t, "# HELP tlswatch_ingest_seconds From a message's last byte to its "
			   "committed outcome.\n# TYPE tlswatch_ingest_seconds histogram\n");
	for (int ch = 0; ch < SERVE_CHANNELS; ch++)
		metrics_histogram(t, (enum serve_channel)ch);
	g_string_append_printf(t,
			       "# HELP tlswatch_workers_started_total Worker processes started.\n"
			       "# TYPE tlswatch_workers_started_total counter\n"
			       "tlswatch_workers_started_total %" G_GUINT64_FORMAT "\n"
			       "# HELP tlswatch_database_up Whether PostgreSQL accepts "
			       "connections.\n# TYPE tlswatch_database_up gauge\n"
			       "tlswatch_database_up %d\n"
			       "# HELP tlswatch_build_info The running version.\n"
			       "# TYPE tlswatch_build_info gauge\n"
			       "tlswatch_build_info{version=\"%s\"} 1\n",
			       load(&counters->workers_started), database_up ? 1 : 0,
			       TLSWATCH_VERSION);
	return g_string_free(t, FALSE);
}

/* Whether the server accepts connections (PQping: no login), waiting two
 * seconds at most: the master answers scrapes between its other work. */
static gboolean metrics_database_up(const struct config *cfg)
{
	const char *const keys[] = { "dbname", "connect_timeout", NULL };
	const char *const values[] = { cfg->conninfo ? cfg->conninfo : "", "2", NULL };

	return PQpingParams(keys, values, 1) == PQPING_OK;
}

static enum MHD_Result metrics_reply(struct MHD_Connection *c, unsigned int code, const char *type,
				     char *body)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result rc;

	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	rc = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result metrics_handle(void *cls, struct MHD_Connection *c, const char *url,
				      const char *method, const char *version,
				      const char *upload_data, size_t *upload_size, void **con_cls)
{
	const struct config *cfg = cls;
	gboolean up;

	(void)version;
	(void)upload_data;
	(void)upload_size;
	(void)con_cls;
	if (!g_str_equal(method, MHD_HTTP_METHOD_GET))
		return metrics_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
				     g_strdup("GET /metrics or /healthz\n"));
	if (!g_str_equal(url, "/metrics") && !g_str_equal(url, "/healthz"))
		return metrics_reply(c, MHD_HTTP_NOT_FOUND, "text/plain",
				     g_strdup("GET /metrics or /healthz\n"));
	up = metrics_database_up(cfg);
	if (g_str_equal(url, "/healthz"))
		return metrics_reply(c, up ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
				     "text/plain",
				     g_strdup(up ? "ok\n" : "database not reachable\n"));
	return metrics_reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
			     metrics_text(up));
}

struct MHD_Daemon *serve_metrics_start(const struct config *cfg, GSocket *listener)
{
	struct MHD_OptionItem opts[] = {
		/* A copy: MHD_stop_daemon closes it, the GSocket its own. */
		{ MHD_OPTION_LISTEN_SOCKET, dup(g_socket_get_fd(listener)), NULL },
		{ MHD_OPTION_CONNECTION_TIMEOUT, 10, NULL },
		{ MHD_OPTION_CONNECTION_LIMIT, 16, NULL },
		{ MHD_OPTION_END, 0, NULL },
	};
	struct MHD_Daemon *d;

	/* Without its copy of the listener, libmicrohttpd would open a socket
	 * of its own on a random port. */
	if (opts[0].value < 0) {
		log_error("cannot start the metrics endpoint: dup: %s", g_strerror(errno));
		return NULL;
	}
	d = MHD_start_daemon(MHD_NO_FLAG, 0, NULL, NULL, metrics_handle, (void *)cfg,
			     MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (d == NULL)
		log_error("cannot start the metrics endpoint");
	return d;
}
