/*
 * parse.h: what one message or report file holds, found by the parsers.
 *
 * parse_message() is the untrusted half of ingest: mail (MIME walk) ->
 * decode (gunzip/unzip under the caps) -> report (JSON model), every
 * candidate part tried, the failures kept as notes. It runs in a child
 * (contain.h), which sends its findings to the parent as bytes
 * (parsed_serialise); the parent rebuilds them (parsed_deserialise),
 * parsing again only the JSON the child already read under the same caps.
 */
#ifndef TLSWATCH_PARSE_H
#define TLSWATCH_PARSE_H

#include <glib.h>

#include "common/config.h"
#include "common/error.h"
#include "ingest/report.h"

/* One report found in a message, with the part it came from. */
struct found {
	struct report report;
	GBytes *json;	/* the report's JSON as decoded */
	char *part;	/* MIME path, NULL for a bare report */
	char *filename; /* may be NULL */
};

/* The header fields a message record keeps, in this order. */
enum parsed_header {
	HEADER_MESSAGE_ID,
	HEADER_FROM,
	HEADER_SUBJECT,
	HEADER_REPORT_DOMAIN,
	HEADER_REPORT_SUBMITTER,
	HEADER_N
};

struct parsed {
	char *header[HEADER_N]; /* each NULL when absent; valid UTF-8 */
	GString *notes;		/* why parts were not reports; empty when none */
	char *cause;		/* the first note without its part: the MTA's status line */
	GPtrArray *found;	/* struct found *, in MIME order */
	/* The evidence trust.h judges: how it was gathered ("dkim" verified
	 * here, "authserv" read from the trusted Authentication-Results),
	 * NULL when none was (dkim = off, a bare report); and the signatures,
	 * struct dkim_signature * (dkim.h). */
	char *auth_method;
	GPtrArray *signatures;
};

/* Set p up empty (allocates). */
void parsed_init(struct parsed *p);

/* Free what p owns. */
void parsed_release(struct parsed *p);

/* Add one note to p's reason ("label: note", or the note alone when label
 * is NULL), which stays short enough for a log line. */
void parsed_note(struct parsed *p, const char *label, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

/* Parse the RFC 5322 message raw into p. truncated: raw is only the
 * header of a message over max-message-size. Returns -1 only when memory
 * ran out (ERR_TEMP); a message with no report is p with notes. */
int parse_message(const struct config *cfg, GBytes *raw, gboolean truncated, struct parsed *p,
		  struct error *err);

/* Parse a bare report file (JSON, gzip or zip) named name into p, the same
 * way. */
int parse_bare_report(const struct config *cfg, GBytes *raw, const char *name, struct parsed *p,
		      struct error *err);

/* p as bytes for the parent: header fields, notes, and each report's JSON,
 * part and file name. Returns a new reference. */
GBytes *parsed_serialise(const struct parsed *p);

/* Rebuild into p (parsed_init'ed) what parsed_serialise wrote, parsing
 * each report's JSON again. Returns -1 only when memory ran out
 * (ERR_TEMP). */
int parsed_deserialise(const struct config *cfg, GBytes *bytes, struct parsed *p,
		       struct error *err);

#endif
