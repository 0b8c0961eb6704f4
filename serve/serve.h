/*
 * serve.h: `tlswatch serve`, the long-running receiver. A master process
 * opens the listeners and keeps [serve] workers processes running; each
 * worker serves one LMTP session at a time (lmtp.h) with its own database
 * connection and its own parse child, and hands every message to the same
 * ingest path as the pipe (ingest_message): same caps, outcomes and
 * quarantine; HTTP workers do the same for POSTs; one metrics worker
 * answers scrapes. The model is Postfix's and Dovecot's: processes, not
 * threads, so a worker may fork its parse child safely and a crash takes
 * one session, never the service.
 */
#ifndef TLSWATCH_SERVE_H
#define TLSWATCH_SERVE_H

#include <signal.h>
#include <gio/gio.h>
#include <libpq-fe.h>
#include <microhttpd.h>

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
	guint metrics_domains;	/* policy domains named in /metrics (default 50) */
	guint http_connections; /* per worker (default 64) */
	guint http_per_client;	/* per worker and client address (default 8) */
	guint http_rate;	/* POSTs a minute per client address (default 600) */
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
 * replaced when a stale socket is there (never another kind of file, nor
 * a socket a process still accepts on) and made mode 0666: the folder
 * decides who may connect. ERR_CONFIG for a bad address, ERR_TEMP when
 * the address is in use. */
int serve_listen(const struct serve_config *c, struct serve_listeners *out, struct error *err);
void serve_listeners_release(struct serve_listeners *l);
/* Remove the Unix sockets serve_listen made (at exit). */
void serve_unlisten(const struct serve_config *c);

/* counters.c */
enum serve_worker_kind {
	SERVE_LMTP_WORKER,
	SERVE_HTTP_WORKER,
	SERVE_HTTPS_WORKER,
	SERVE_METRICS_WORKER,
	SERVE_WORKER_KINDS
};
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
void serve_metrics_worker_started(enum serve_worker_kind kind);
/* The counters in the text format, appended to t. */
void serve_metrics_counters_text(GString *t);

/* rate.c */
/* The table of [serve] http-rate, in memory the workers forked after
 * this share. */
int serve_rate_init(struct error *err);
/* One POST from address (IPv6, or IPv4 mapped into it), at most
 * per_minute a minute: 0 when it may go on, else the seconds until it
 * may (for Retry-After). */
guint serve_rate_take(const guint8 address[16], guint per_minute);

/* gauges.c */
/* The figures of /metrics the database holds (the outbox, the last 24
 * hours of reports, at most domains policy domains named), in the text
 * format: a new string the caller g_free()s, NULL with err when a query
 * failed. */
char *serve_gauges_text(PGconn *conn, guint domains, struct error *err);

/* metrics.c */
/* The metrics worker: GET /metrics and /healthz on listener until *stop.
 * Returns the exit status. */
int serve_metrics_run(const struct config *cfg, const struct serve_config *sc, GSocket *listener,
		      volatile sig_atomic_t *stop);

/* deliver.c */
/* The ingest path as every channel of serve uses it: a worker's own
 * context (parse child, database connection), set up once; and the
 * policy domains whose alerts are still to be evaluated. */
struct serve_ingest {
	const struct config *cfg; /* borrowed */
	enum serve_channel channel;
	struct ingest_ctx ctx;
	GPtrArray *alert_pending; /* char *, each domain once */
	GPtrArray *alert_failing; /* char *: those of them with failed sessions reported */
	gint64 alert_due;	  /* monotonic usec to evaluate them by; 0: none pending */
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
/* Evaluate the alert rules for the domains delivered since the last time
 * (as the pipe does after each message), when that is due or with now;
 * what was not sent is logged. Workers call it from their loops, at least
 * once a second, and with now before they end. */
void serve_alert_flush(struct serve_ingest *si, gboolean now);

/* mhd.c */
/* A libmicrohttpd daemon (flags, handler with cls, options ending in
 * MHD_OPTION_END) on a copy of listener, for the caller's loop; what
 * names it in the log. NULL when it cannot start (logged). */
struct MHD_Daemon *serve_mhd_start(GSocket *listener, unsigned int flags,
				   MHD_AccessHandlerCallback handler, void *cls,
				   struct MHD_OptionItem *options, const char *what);
/* Serve d until *stop, then stop it; with si, its alerts as they fall
 * due, and the last ones at the end. */
void serve_mhd_run(struct MHD_Daemon *d, struct serve_ingest *si, volatile sig_atomic_t *stop);

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
