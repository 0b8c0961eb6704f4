/*
 * check.h: a domain's MTA-STS and TLS-RPT deployment, checked live
 * (`tlswatch check DOMAIN`).
 *
 * The reports say what senders saw; this says what is published now:
 * the _smtp._tls record (RFC 8460 3), the _mta-sts record and the policy
 * file (RFC 8461 3), whether every MX host is covered by the policy, and
 * what each MX host offers on port 25 (STARTTLS, TLS 1.2 or newer, a
 * certificate valid for its name, days left). Every lookup goes through
 * common/dns.h ([dns]); HTTPS and SMTP through libcurl. Each check adds
 * findings; nothing here knows how they are shown (report.c) or kept
 * (save.c).
 */
#ifndef TLSWATCH_CHECK_H
#define TLSWATCH_CHECK_H

#include <glib.h>

#include "common/config.h"
#include "common/dns.h"
#include "common/error.h"

enum check_level { CHECK_PASS, CHECK_WARN, CHECK_FAIL };

struct check_finding {
	char *check; /* "tlsrpt-record", "sts-record", "policy", "mx-coverage", "mx-tls",
			"policy-id" */
	enum check_level level;
	char *subject; /* what it is about (a host, a pattern), or NULL */
	char *message;
};

/* The policy file as served and as read (RFC 8461 3.2). */
struct sts_policy {
	char *text;
	char *mode;	/* enforce, testing, none; NULL when missing */
	GPtrArray *mx;	/* char *: the mx patterns */
	gint64 max_age; /* -1 when missing or not a number */
};

struct check_result {
	char *domain;
	char *sts_id;		   /* id= of the _mta-sts record, or NULL */
	struct sts_policy *policy; /* NULL when it could not be fetched */
	GPtrArray *mx_hosts;	   /* char *: the domain's MX hosts, preferred first */
	GPtrArray *findings;	   /* struct check_finding *, in the order checked */
	gint64 checked_at;	   /* unix seconds */
};

/* [check] of the configuration file. */
struct check_config {
	char *ca_file;	/* ca-file: CA certificates to trust as well, or NULL */
	gint64 timeout; /* timeout: seconds per HTTPS fetch and per SMTP probe, 30 */
	guint parallel; /* parallel: SMTP probes at once, 4 */
};

void check_config_init(struct check_config *c);
void check_config_release(struct check_config *c);
int check_config_load(struct check_config *c, const struct config *cfg, struct error *err);

/* Check domain into *out (the caller's; check_result_free). Never fails:
 * what could not be checked is a finding. */
void check_domain(struct dns *dns, const struct check_config *c, const char *domain,
		  struct check_result **out);

void check_result_free(struct check_result *r);

/* Add a finding to r (printf-style message). */
void check_add(struct check_result *r, const char *check, enum check_level level,
	       const char *subject, const char *fmt, ...) G_GNUC_PRINTF(5, 6);

/* Findings of r at level. */
guint check_count(const struct check_result *r, enum check_level level);

const char *check_level_name(enum check_level level);

/* records.c: the _smtp._tls and _mta-sts records. */
void check_tlsrpt_record(struct dns *dns, struct check_result *r);
void check_sts_record(struct dns *dns, struct check_result *r);

/* policy.c: fetch and read the policy file, then the MX coverage. */
void check_policy(struct dns *dns, const struct check_config *c, struct check_result *r);
void check_mx_coverage(struct dns *dns, struct check_result *r);
gboolean check_mx_matches(const char *pattern, const char *host);
void sts_policy_free(struct sts_policy *p);

/* smtp_tls.c: each MX host on port 25. */
void check_mx_tls(struct dns *dns, const struct check_config *c, struct check_result *r);

/* save.c: compare r with the last check saved for its domain (adding the
 * policy-id finding), then keep it in tlswatch.checks. conn is a
 * PGconn *. ERR_TEMP when the database fails. */
int check_save(void *conn, struct check_result *r, struct error *err);

/* report.c: r as text (for people) or a JSON object; new strings. */
char *check_render_text(const struct check_result *r);
char *check_render_json(const struct check_result *r);

#endif
