/*
 * serve.h: `tlswatch serve`, the long-running receiver. A master process
 * opens the listeners and keeps [serve] workers processes running; each
 * worker serves one LMTP session at a time (lmtp.h) with its own database
 * connection and its own parse child, and hands every message to the same
 * ingest path as the pipe (ingest_message): same caps, outcomes and
 * quarantine. The model is Postfix's and Dovecot's: processes, not
 * threads, so a worker may fork its parse child safely and a crash takes
 * one session, never the service.
 */
#ifndef TLSWATCH_SERVE_H
#define TLSWATCH_SERVE_H

#include <signal.h>
#include <gio/gio.h>

#include "common/config.h"
#include "common/error.h"
#include "ingest/ingest.h"

struct serve_config {
	char **lmtp;		/* "unix:PATH" or "inet:ADDRESS:PORT" each; owned */
	guint workers;		/* worker processes per listener kind (default 4) */
	gint64 idle_timeout;	/* seconds without a byte from the client (default 300) */
	char *http;		/* "ADDRESS:PORT", plain HTTP (behind a proxy); owned */
	char *https;		/* "ADDRESS:PORT", HTTPS with the two below; owned */
	char *certificate_pem;	/* the certificate file's PEM (chain); owned */
	char *key_pem;		/* the key file's PEM; owned */
	char *https_path;	/* POSTs elsewhere get 404; NULL: any path */
	char *metrics;		/* "ADDRESS:PORT" of GET /metrics and /healthz; owned */
	guint http_connections; /* per worker (default 64) */
	guint http_per_client;	/* per worker and client address (default 8) */
};

/* config.c */
void serve_config_init(struct serve_config *c);
void serve_config_release(struct serve_config *c);
/* Read [serve] from kf (path names it in errors; kf may be NULL). An
 * unknown key or a bad value is ERR_CONFIG naming file, group and key; no
 * listener at all is ERR_CONFIG too. */
int serve_config_load(struct serve_config *c, GKeyFile *kf, const char *path, struct error *err);

/* listen.c */
struct serve_listeners {
	GPtrArray *lmtp; /* GSocket *, one per [serve] lmtp */
	GSocket *http;	 /* NULL when not configured */
	GSocket *https;
	GSocket *metrics;
};
/* A listening, non-blocking GSocket for each listener of c, in *out (the
 * caller frees it with serve_listeners_release). A Unix socket's path is
 * replaced when a stale socket is there (never another kind of file) and
 * made mode 0666: the folder decides who may connect. ERR_CONFIG for a
 * bad address, ERR_TEMP when the address is in use. */
int serve_listen(const struct serve_config *c, struct serve_listeners *out, struct error *err);
void serve_listeners_release(struct serve_listeners *l);
/* Remove the Unix sockets serve_listen made (at exit). */
void serve_unlisten(const struct serve_config *c);

/* metrics.c */
enum serve_channel { SERVE_LMTP_CHANNEL, SERVE_HTTP_CHANNEL, SERVE_HTTPS_CHANNEL, SERVE_CHANNELS };
enum serve_outcome {
	SERVE_STORED,
	SERVE_DUPLICATE,
	SERVE_QUARANTINED,
	SERVE_DEFERRED,
	SERVE_OUTCOMES
};
/* The counters, in memory the workers forked after this share. */
int serve_metrics_init(struct error *err);
/* One message or POST on ch: its outcome, and usec from its last byte to
 * it. */
void serve_metrics_count(enum serve_channel ch, enum serve_outcome out, gint64 usec);
void serve_metrics_worker_started(void);
struct MHD_Daemon;
/* GET /metrics and /healthz on listener, run by the caller's loop
 * (MHD_run_wait); NULL when libmicrohttpd refused. */
struct MHD_Daemon *serve_metrics_start(const struct config *cfg, GSocket *listener);

/* deliver.c */
/* The ingest path as every channel of serve uses it: a worker's own
 * context (parse child, database connection), set up once. */
struct serve_ingest {
	const struct config *cfg; /* borrowed */
	enum serve_channel channel;
	struct ingest_ctx ctx;
};
void serve_ingest_init(struct serve_ingest *si, const struct config *cfg,
		       enum serve_channel channel);
void serve_ingest_release(struct serve_ingest *si);
/* raw through the pipe's path (a message, or with bare a report as an
 * HTTPS POST carries it; src says where it came from), then the alerts.
 * Returns 0 once handled: *status, and *text the pipe's first line
 * (stored, duplicate or quarantined, and the alerts not sent). Returns -1
 * when nothing was committed: *text says why, the sender must retry. The
 * caller g_free()s *text. */
int serve_ingest(struct serve_ingest *si, GBytes *raw, gboolean truncated, gboolean bare,
		 const struct ingest_source *src, enum message_status *status, char **text);

/* http.c */
/* One HTTP worker: POSTed reports on listener (TLS with tls) until *stop.
 * Returns the exit status. */
int serve_http_run(const struct config *cfg, const struct serve_config *sc, GSocket *listener,
		   gboolean tls, volatile sig_atomic_t *stop);

/* worker.c */
/* One worker: accept sessions on listeners (GSocket *) one at a time and
 * serve them until *stop is set; the session in hand ends first (a
 * message in DATA is finished, then 421). Returns the exit status. */
int serve_worker_run(const struct config *cfg, const struct serve_config *sc, GPtrArray *listeners,
		     volatile sig_atomic_t *stop);

#endif
