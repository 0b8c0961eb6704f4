/*
 * mail.h: one RFC 5322 message, reduced to what tlswatch needs.
 *
 * mail_parse() lets GMime do the MIME work (headers, multipart nesting,
 * base64/QP, RFC 2231 parameters) and walks every leaf, including messages
 * forwarded as message/rfc822, to collect each part that may hold a report:
 * by label (application/tlsrpt+gzip and its real-world variants, a .json.gz
 * or .zip name) or by content (gzip or zip magic, a JSON object). Whether a
 * candidate really is a report is decided later, by decode and report.
 */
#ifndef TLSWATCH_MAIL_H
#define TLSWATCH_MAIL_H

#include <glib.h>

#include "common/error.h"

struct mail_part {
	GBytes *content;    /* transfer-decoded bytes (gzip, zip or JSON still) */
	char *path;	    /* position in the MIME tree, "1", "2.1", "2.1.3" */
	char *content_type; /* "type/subtype" in lower case, as labelled */
	char *filename;	    /* name=, filename= or Content-Description, or NULL */
};

struct mail {
	char *message_id;	 /* without <>, or NULL; all strings valid UTF-8 */
	char *from;		 /* the From address (addr-spec), or NULL */
	char *subject;		 /* decoded (RFC 2047), or NULL */
	char *report_domain;	 /* TLS-Report-Domain, or NULL */
	char *report_submitter;	 /* TLS-Report-Submitter, or NULL */
	char *content_type;	 /* top level, e.g. "multipart/report; report-type=tlsrpt" */
	GPtrArray *auth_results; /* char *: Authentication-Results values, the topmost first
				    (at most MAIL_AUTH_RESULTS_MAX); never NULL after mail_parse */
	GPtrArray *parts;	 /* struct mail_part *, candidates in MIME order */
};

/* Authentication-Results fields kept: an MTA adds one above those of the
 * hops before it; more than this is a sender writing its own. */
#define MAIL_AUTH_RESULTS_MAX 16

/* Caps against hostile structure; 0 means the built-in default. */
struct mail_limits {
	guint max_parts;   /* MIME parts walked */
	guint max_depth;   /* multipart / message/rfc822 nesting */
	guint64 max_field; /* bytes in one header field, continuation lines included */
};

/* Zero m (no allocation). */
void mail_init(struct mail *m);

/* Parse the message in raw (not consumed; the caller keeps its reference).
 * A message with no candidate part is not an error: m->parts is empty.
 * Errors (ERR_INPUT) are for what cannot be parsed at all or breaks a limit;
 * after a limit error the header fields stay set (for the quarantine record)
 * and m->parts is empty. */
int mail_parse(struct mail *m, GBytes *raw, const struct mail_limits *limits, struct error *err);

/* Free what m owns and mail_init it again. */
void mail_release(struct mail *m);

/* Call once per process before mail_parse (GMime's global set-up). */
void mail_library_init(void);

#endif
