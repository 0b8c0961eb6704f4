/*
 * ingest.h: one message from bytes to a committed row, or a reason.
 *
 * ingest_message() is the whole data flow for one message: mail (MIME walk)
 * -> decode (gunzip/unzip under the cap) -> report (JSON model) -> store (one
 * transaction), or, with dry_run, -> JSON lines on stdout. Every outcome is a
 * count in ingest_totals; only a transient failure (database, configuration)
 * is returned as -1, because only that must make the MTA retry. With a
 * batching store a message is counted when its batch commits, after
 * ingest_message has returned: ingest_flush ends the run.
 */
#ifndef TLSWATCH_INGEST_H
#define TLSWATCH_INGEST_H

#include <stdio.h>
#include <glib.h>

#include "common/config.h"
#include "common/error.h"
#include "ingest/store.h"

struct contain;
struct trust;

struct ingest_totals {
	guint stored;
	guint duplicate;
	guint quarantined;
	guint failed;
};

/* What one run shares across its messages: set up once, never per message. */
struct ingest_ctx {
	const struct config *cfg; /* borrowed */
	struct store *store;	  /* borrowed; NULL with dry_run */
	struct contain *parser;	  /* the parse child (contain.h): ingest_parser_start */
	gboolean dry_run;	  /* print JSON lines to out, touch no database */
	gboolean verbose;	  /* a line for every message, not only problems */
	gboolean status_line;	  /* the MTA's pipe: a short line first, for Postfix's status */
	char *status_head; /* private: its outcome ("stored 1 report"), for ingest_status_take */
	char *status_tail; /* private: its facts (domain, reporter, report-id) or reason */
	enum message_status status_last; /* with status_line: the outcome kept last */
	FILE *out;			 /* dry-run output (stdout) */
	struct ingest_totals totals;
	GPtrArray *alert_domains;  /* char *: policy domains of committed new reports, for
				      alert_after_ingest; NULL when not wanted */
	GPtrArray *alert_failing;  /* char *: those of them whose new reports list failed
				      sessions; NULL with alert_domains */
	guint progress_total;	   /* > 0: show progress on stderr, of this many */
	gint64 progress_start;	   /* g_get_monotonic_time() when the run began */
	gint64 progress_shown;	   /* private: the last progress line */
	gboolean progress_visible; /* private: a progress line is on the terminal */
	struct error failure;	   /* private: a failure the store reported late */
};

/* Where a message came from, for log lines and the dry-run "source". */
struct ingest_source {
	const char *input;	/* "stdin", a file path, a Maildir file */
	guint index;		/* message number in an mbox (1-based), 0 otherwise */
	gint64 retry_id;	/* > 0: re-ingest this quarantined messages row */
	const char *channel;	/* messages.channel: "pipe", "file", "lmtp", "http", "https" */
	const char *client;	/* the address that POSTed it, or NULL */
	const char *user_agent; /* its User-Agent, or NULL */
};

/* Start the child that parses every message (ingest/contain.h) now, while
 * this process is small: a fork costs in proportion to its memory. The
 * first message starts it otherwise. Returns -1 with err (ERR_TEMP) when
 * it cannot be started. */
int ingest_parser_start(struct ingest_ctx *ctx, struct error *err);

/* End the parse child (at the end of a run). */
void ingest_parser_stop(struct ingest_ctx *ctx);

/* The end of a run: the parse child ended, and the store and the alert
 * domains freed (the caller opened and made them; both may be NULL). */
void ingest_ctx_release(struct ingest_ctx *ctx);

/* Keep, for the alert rules, the policy domains of the new reports ctx
 * commits and which of them failed (alert_domains, alert_failing). */
void ingest_collect_alert_domains(struct ingest_ctx *ctx);

/* Handle one RFC 5322 message. truncated means raw holds only the head of a
 * message larger than max-message-size (it is quarantined, headers only).
 * Returns -1 only for failures that a retry may cure (err ERR_TEMP or
 * ERR_CONFIG); everything else, quarantine included, is 0. */
int ingest_message(struct ingest_ctx *ctx, GBytes *raw, gboolean truncated,
		   const struct ingest_source *src, struct error *err);

/* Handle a bare report file (JSON, gzip or zip, no mail around it), the
 * same way. */
int ingest_bare_report(struct ingest_ctx *ctx, GBytes *raw, const struct ingest_source *src,
		       struct error *err);

/* Parse the RFC 5322 message raw (in the parse child) and judge who sent
 * it into t (ingest/trust.h; the caller trust_release()s it), storing
 * nothing. Returns -1 with err (ERR_TEMP) when no child could run. */
int ingest_judge(struct ingest_ctx *ctx, GBytes *raw, struct trust *t, struct error *err);

/* The MTA's status line of the message, which status_line kept: the
 * outcome, then alerts (", 1 alert not sent"; NULL for none), then the
 * facts, cut to what Postfix keeps; *warn for a quarantine. NULL when no
 * message was counted. The caller g_free()s it; the kept parts are freed. */
char *ingest_status_take(struct ingest_ctx *ctx, const char *alerts, gboolean *warn);

/* Commit what the store has pending (a batch: see store_set_batch) and
 * clear the progress line. Returns -1 with err when that failed; those
 * messages are then counted as failed. */
int ingest_flush(struct ingest_ctx *ctx, struct error *err);

/* Take the progress line off the terminal, if one is shown. */
void ingest_progress_clear(struct ingest_ctx *ctx);

/* The bytes of raw up to and including the blank line that ends the header
 * (at most 256 KiB). Returns a new reference. */
GBytes *ingest_header_part(GBytes *raw);

#endif
