/*
 * counters.c: what the processes of `tlswatch serve` count, in one
 * anonymous shared mapping made by the master before it starts the
 * workers, which add to it with atomic operations: a scrape (metrics.c)
 * sees every worker's messages, also those of workers that have ended,
 * since serve started. The label sets are fixed: channel (lmtp, http,
 * https), outcome (stored, duplicate, quarantined, deferred) and the
 * kind of worker.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

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
static const char *const worker_names[SERVE_WORKER_KINDS] = { "lmtp", "http", "https", "metrics" };

struct serve_counters {
	atomic_uint_fast64_t messages[SERVE_CHANNELS][SERVE_OUTCOMES];
	atomic_uint_fast64_t bucket[SERVE_CHANNELS][N_BUCKETS]; /* not cumulative */
	atomic_uint_fast64_t usec_sum[SERVE_CHANNELS];
	atomic_uint_fast64_t workers_started[SERVE_WORKER_KINDS];
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

void serve_metrics_worker_started(enum serve_worker_kind kind)
{
	if (counters != NULL)
		atomic_fetch_add_explicit(&counters->workers_started[kind], 1,
					  memory_order_relaxed);
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

void serve_metrics_counters_text(GString *t)
{
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
	g_string_append(t, "# HELP tlswatch_workers_started_total Worker processes started, by "
			   "kind.\n# TYPE tlswatch_workers_started_total counter\n");
	for (int k = 0; k < SERVE_WORKER_KINDS; k++)
		g_string_append_printf(t,
				       "tlswatch_workers_started_total{kind=\"%s\"} "
				       "%" G_GUINT64_FORMAT "\n",
				       worker_names[k], load(&counters->workers_started[k]));
	g_string_append_printf(t,
			       "# HELP tlswatch_build_info The running version.\n"
			       "# TYPE tlswatch_build_info gauge\n"
			       "tlswatch_build_info{version=\"%s\"} 1\n",
			       TLSWATCH_VERSION);
}
