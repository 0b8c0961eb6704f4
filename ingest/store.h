/*
 * store.h: messages and their reports into PostgreSQL, each all or nothing.
 *
 * A message is the messages row, then per report one statement that writes
 * the reports row (INSERT ... ON CONFLICT DO NOTHING on the
 * organization_name + report_id key, which is also what makes eight
 * concurrent deliveries of one report store it once), its policies and its
 * failure-details (fed as arrays, a column each: one round trip however many
 * rows, and no SQL ever built from input). Statements are prepared on
 * first use, and sent in libpq pipeline mode: a message costs one round
 * trip, its COMMIT another.
 *
 * Each message runs behind its own SAVEPOINT. By default every message is
 * its own transaction, committed before store_submit returns (the MTA's
 * pipe: exit 0 only after COMMIT). With store_set_batch(n), up to n
 * messages share a transaction and store_submit returns as soon as a
 * message is sent, so the caller parses the next one while the server
 * writes this one; a message the database refuses is rolled back alone to
 * its savepoint. A message counts as stored only once its COMMIT returned.
 */
#ifndef TLSWATCH_STORE_H
#define TLSWATCH_STORE_H

#include <glib.h>
#include <libpq-fe.h>

#include "common/error.h"
#include "ingest/report.h"

struct store;

enum message_status {
	MESSAGE_STORED,	     /* at least one new report */
	MESSAGE_DUPLICATE,   /* every report was already stored */
	MESSAGE_QUARANTINED, /* no report: kept with its reason and raw bytes */
};

/* "stored", "duplicate", "quarantined": static. */
const char *message_status_name(enum message_status status);

struct message_record {
	const char *message_id; /* each may be NULL */
	const char *from_addr;
	const char *subject;
	const char *report_domain;
	const char *report_submitter;
	GBytes *raw;	      /* bytes to keep in messages.raw, or NULL */
	const char *reason;   /* quarantine reason, or a note on parts that were
				 skipped beside stored reports; NULL if none */
	GPtrArray *reports;   /* struct report *, borrowed; empty or NULL = quarantine */
	GPtrArray *documents; /* GBytes *, borrowed, or NULL: each report's JSON as
				 received, stored as its document when PostgreSQL
				 reads it as jansson did (else report->document) */
	gint64 retry_id;      /* > 0: update this quarantined row instead of inserting */
	const char *channel;  /* where it came from (messages.channel), or NULL */
	const char *client;   /* a POST's client address (inet), or NULL */
	const char *user_agent;
	/* Who vouches for it (ingest/trust.h); all NULL and 0 when it was
	 * not judged ([ingest] dkim = off). */
	int authenticated;	     /* 1 authenticated, -1 not, 0 not judged */
	const char *dkim_result;     /* "pass", "none", ... */
	const char *dkim_domain;     /* d= of the deciding signature */
	const char *dkim_selector;   /* its s= */
	const char *auth_note;	     /* why, in words */
	const char *dkim_signatures; /* every signature, a JSON array */
};

/* Connect (db_connect) and check the schema version. The caller owns *out
 * and frees it with store_free, which rolls back an uncommitted batch. On
 * failure, err is ERR_TEMP (server down) or ERR_CONFIG (schema missing or
 * older than this binary: run `tlswatch db init` or `db migrate`). */
int store_open(struct store **out, const char *conninfo, struct error *err);

/* Close the connection and free st; st may be NULL. */
void store_free(struct store *st);

/* The open connection (for db_migrate and queries of other commands; not
 * while a batch is open). */
PGconn *store_conn(struct store *st);

/* Write rec in one transaction and commit it. On success *status and *id
 * (the messages row) are set. On failure nothing of rec is committed;
 * err's class says whether the data will always fail (ERR_INPUT:
 * quarantine it instead), the retried row is not in quarantine (ERR_USAGE)
 * or the database is the problem (ERR_TEMP / ERR_CONFIG: exit 75). */
int store_message(struct store *st, const struct message_record *rec, enum message_status *status,
		  gint64 *id, struct error *err);

/* What became of a message given to store_submit, called exactly once per
 * message: err NULL once it is committed (status and id set), else why it
 * is not: ERR_INPUT or ERR_USAGE as for store_message (rolled back alone,
 * the rest of the batch goes on; refused is the index in rec->reports of
 * the report the database refused, -1 when it was not a report), ERR_TEMP
 * or ERR_CONFIG (its whole batch was lost with the transaction). err is
 * only valid during the call. It may call store_submit (to store the
 * message again without the refused report, or as a quarantine). */
typedef void (*store_done_fn)(gpointer data, enum message_status status, gint64 id, int refused,
			      const struct error *err);

/* Messages per transaction from now on, at least 1 (the default). Keep it
 * under 64, the subtransactions PostgreSQL caches per transaction. */
void store_set_batch(struct store *st, guint messages);

/* Send rec (read during the call only) as the next message of the open
 * batch, first settling the one sent before; commit when the batch is
 * full, and with a batch of 1 at once. done(data, ...) reports its
 * outcome, now or from a later store_submit or store_commit. Returns -1
 * when the transaction was lost (err ERR_TEMP or ERR_CONFIG, done already
 * called for every uncommitted message, this one included). */
int store_submit(struct store *st, const struct message_record *rec, store_done_fn done,
		 gpointer data, struct error *err);

/* Settle the message in flight and commit the open batch, if any; done is
 * called for each of its messages. Returns -1 as store_submit does. */
int store_commit(struct store *st, struct error *err);

/* A quarantined message as the quarantine command shows it. */
struct quarantined {
	gint64 id;
	char *received_at; /* RFC 3339 text */
	char *from_addr;   /* may be NULL */
	char *subject;	   /* may be NULL */
	char *reason;
	GBytes *raw; /* NULL in store_quarantine_list results */
};

/* Free q and all it owns; q may be NULL. */
void quarantined_free(struct quarantined *q);

/* Every quarantined message, oldest first, without raw bytes. *out is a new
 * GPtrArray of struct quarantined * that frees its elements. */
int store_quarantine_list(struct store *st, GPtrArray **out, struct error *err);

/* One quarantined message with its raw bytes; *out is the caller's. A
 * missing id, or one that is not quarantined, is ERR_USAGE. */
int store_quarantine_get(struct store *st, gint64 id, struct quarantined **out, struct error *err);

#endif
