/*
 * store.h: one message and its reports into PostgreSQL, all or nothing.
 *
 * Each message is one transaction: the messages row, then per report the
 * reports row (INSERT ... ON CONFLICT DO NOTHING on the organization_name +
 * report_id key, which is also what makes eight concurrent deliveries of
 * one report store it once), its policies and failure-details. Policies and
 * failures go in as one statement per policy, fed the normalised JSON of
 * report_to_json() as a parameter, so a 50,000-row report costs one round
 * trip, and no SQL is ever built from input. Statements are prepared once
 * per connection.
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
	GBytes *raw;	    /* bytes to keep in messages.raw, or NULL */
	const char *reason; /* quarantine reason, or a note on parts that were
			       skipped beside stored reports; NULL if none */
	GPtrArray *reports; /* struct report *, borrowed; empty or NULL = quarantine */
	gint64 retry_id;    /* > 0: update this quarantined row instead of inserting */
};

/* Connect (db_connect) and prepare the statements. The caller owns *out and
 * frees it with store_free. On failure, err is ERR_TEMP (server down) or
 * ERR_CONFIG (schema missing: run `tlswatch db init`). */
int store_open(struct store **out, const char *conninfo, struct error *err);

/* Close the connection and free st; st may be NULL. */
void store_free(struct store *st);

/* The open connection (for db_migrate and queries of other commands). */
PGconn *store_conn(struct store *st);

/* Write rec in one transaction. On success *status and *id (the messages
 * row) are set. On failure nothing is committed; err's class says whether the
 * data will always fail (ERR_INPUT: quarantine it instead) or the database
 * is the problem (ERR_TEMP / ERR_CONFIG: exit 75). */
int store_message(struct store *st, const struct message_record *rec, enum message_status *status,
		  gint64 *id, struct error *err);

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
