/*
 * report.h: an RFC 8460 TLS report as a plain C struct.
 *
 * report_parse() reads the JSON (jansson) into struct report, liberal exactly
 * where the meaning is unambiguous (each leniency adds a warning) and strict
 * everywhere else (the error names the JSON path). The struct owns all its
 * memory; report_release() frees it. Nothing here touches the database.
 */
#ifndef TLSWATCH_REPORT_H
#define TLSWATCH_REPORT_H

#include <stdint.h>
#include <glib.h>
#include <jansson.h>

#include "common/error.h"

struct failure_detail {
	char *result_type;	      /* as sent; unknown types are kept */
	char *sending_mta_ip;	      /* a valid IPv4/IPv6 literal, or NULL */
	char *receiving_mx_hostname;  /* NULL when absent */
	char *receiving_mx_helo;      /* NULL when absent */
	char *receiving_ip;	      /* a valid IP literal, or NULL */
	int64_t failed_sessions;      /* >= 0 */
	char *additional_information; /* NULL when absent */
	char *failure_reason_code;    /* NULL when absent */
};

struct policy {
	char *type;	     /* "sts", "tlsa", "no-policy-found", or as sent */
	char *domain;	     /* policy-domain, or the TLS-Report-Domain header */
	GPtrArray *strings;  /* char *: policy-string lines (never NULL) */
	GPtrArray *mx_hosts; /* char *: mx-host entries (never NULL) */
	char *sts_mode;	     /* "testing"/"enforce"/"none" from policy-string, or NULL */
	int64_t sts_max_age; /* from policy-string, or -1 */
	int64_t successful_sessions;
	int64_t failed_sessions;
	GArray *failures; /* struct failure_detail (never NULL) */
};

struct report {
	char *organization_name;
	char *report_id;
	char *contact_info; /* NULL when null or absent */
	GDateTime *date_start;
	GDateTime *date_end;
	GArray *policies;    /* struct policy (never NULL after a successful parse) */
	GPtrArray *warnings; /* char *: one line per leniency applied */
	json_t *document;    /* the report as sent (owned reference) */
};

/* What the mail around the report says; both may be NULL. */
struct report_hints {
	const char *report_domain;    /* TLS-Report-Domain header */
	const char *report_submitter; /* TLS-Report-Submitter header */
};

/* The built-in defaults behind a 0 in struct report_limits. */
#define REPORT_DEFAULT_MAX_DEPTH    64
#define REPORT_DEFAULT_MAX_POLICIES 10000
#define REPORT_DEFAULT_MAX_FAILURES 50000
#define REPORT_DEFAULT_MAX_STRING   65536

/* Caps against hostile documents; 0 means the built-in default. */
struct report_limits {
	size_t max_depth; /* JSON nesting */
	size_t max_policies;
	size_t max_failures; /* failure-details per report */
	size_t max_string;   /* bytes in one string field */
};

/* Zero the struct (no allocation). */
void report_init(struct report *r);

/* Parse len bytes of JSON into r (which report_init prepared). On error r is
 * released again and err says why (class ERR_INPUT, message starting with the
 * JSON path when there is one). hints and limits may be NULL. */
int report_parse(struct report *r, const char *buf, size_t len, const struct report_hints *hints,
		 const struct report_limits *limits, struct error *err);

/* Free everything r owns and report_init it again. */
void report_release(struct report *r);

/* The normalised report with the RFC's field names (the --dry-run output and
 * what store.c hands to PostgreSQL): dates as RFC 3339 UTC, counts as
 * integers, mx-host and policy-string as arrays, IPs valid or null, plus
 * "sts-mode", "sts-max-age" and "warnings". Returns a new reference. */
json_t *report_to_json(const struct report *r);

/* Parse an RFC 3339 date-time; a missing zone means UTC and sets *no_zone.
 * Returns a new GDateTime or NULL. */
GDateTime *report_parse_datetime(const char *s, gboolean *no_zone);

#endif
