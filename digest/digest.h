/*
 * digest.h: the summary of a period of TLS reports, per policy domain.
 *
 * query.c fills a struct digest from the database, readiness.c adds the
 * enforce verdict, the render_*.c files turn it into text, Markdown, HTML
 * or JSON, mail.c sends text + HTML. Ownership: a struct digest owns every
 * string, array and struct it points to (digest_free releases it all);
 * renderers only borrow it and return a new string the caller g_free()s.
 */
#ifndef TLSWATCH_DIGEST_H
#define TLSWATCH_DIGEST_H

#include <glib.h>

#include "common/config.h"
#include "common/error.h"

/* [digest] in the configuration file (digest/config.c). */
struct digest_config {
	guint min_reporters;	 /* min-reporters: distinct reporting orgs, default 2 */
	gint64 min_sessions;	 /* min-sessions: sessions in the period, default 1000 */
	guint min_days;		 /* min-days: days with reports in the period, default 5 */
	double max_failure_rate; /* max-failure-rate: percent, must be under, default 0.1 */
	guint top;		 /* top: rows per breakdown list, default 10 */
	char *sendmail;		 /* sendmail: command line, default "/usr/sbin/sendmail -t -oi" */
	char *from;		 /* from: the From address, default tlswatch@<hostname> */
	gint64 sendmail_timeout; /* sendmail-timeout: seconds, default 60 */
	gboolean authenticated_only; /* authenticated-only: count only authenticated reports
					(ingest/trust.h); default on unless [ingest] dkim = off */
};

/* Whole UTC days: from inclusive, to exclusive, both at 00:00 UTC. */
struct digest_period {
	gint64 from; /* unix seconds */
	gint64 to;
	guint days;
};

/* One row of a breakdown: a name with its counts (only those that apply). */
struct digest_item {
	char *name;
	gint64 sessions; /* sessions (or failed sessions, for failure lists) */
	gint64 failed;
	gint64 reports;
};

struct digest_totals {
	gint64 successful;
	gint64 failed;
	gint64 reports;
};

enum digest_state { DIGEST_NO_DATA, DIGEST_NOT_READY, DIGEST_READY, DIGEST_ENFORCING };

struct digest_domain {
	char *domain; /* lower-case policy domain */
	struct digest_totals cur, prev;
	gint64 *day_ok, *day_failed, *day_reports; /* one per day of the period */
	guint days_with_data;
	/* Failed sessions, largest first (struct digest_item). */
	GPtrArray *result_types, *mx_hosts, *ips;
	GPtrArray *blocking_types, *blocking_mx; /* result types enforce would bounce */
	/* All sessions: by policy type and by MTA-STS mode, largest first. */
	GPtrArray *policy_types, *sts_modes;
	GPtrArray *reporters; /* this period: reports, sessions, failed per org */
	GPtrArray *no_policy; /* char *: orgs that reported no-policy-found */
	GPtrArray *missing;   /* char *: orgs of the previous period absent now */
	/* authenticated-only: the reports not counted, and their reporters
	 * (char *, by name). */
	gint64 unauthenticated;
	guint unauthenticated_sender_count; /* all of them */
	GPtrArray *unauthenticated_senders; /* the first [digest] top, by name */
	/* The last live check saved for the domain (tlswatch check --save),
	 * or check_date NULL when there is none. */
	char *check_date;	   /* "2026-12-01" */
	gboolean check_ok;	   /* no check failed */
	GPtrArray *check_failures; /* char *: "mx-tls mx2.example.com: ..." */
	char *check_id_change;	   /* "id changed from A to B since DATE", or NULL */
	enum digest_state state;
	char *reason;	 /* one sentence */
	gboolean capped; /* a figure reached G_MAXINT64 (common/figure.h) */
};

struct digest {
	struct digest_period period, prev;
	GPtrArray *domains;   /* struct digest_domain, by name */
	GPtrArray *unmatched; /* char *: --domain patterns that matched nothing */
};

/* "s" after a count other than 1: "1 report", "2 reports". */
static inline const char *digest_plural(gint64 n)
{
	return n == 1 ? "" : "s";
}

/* config.c: read and check [digest] from kf (may be NULL: the defaults).
 * path names the file in errors (ERR_CONFIG). c owns its strings. */
void digest_config_init(struct digest_config *c);
int digest_config_load(struct digest_config *c, GKeyFile *kf, const char *path, struct error *err);
void digest_config_release(struct digest_config *c);

/* period.c: "--since 7d" (N days up to today 00:00 UTC, or Nw weeks) or
 * --from/--to dates YYYY-MM-DD (both inclusive). now is unix seconds.
 * Bad input is ERR_USAGE. prev is the period of equal length before. */
int digest_period_parse(const char *since, const char *from, const char *to, gint64 now,
			struct digest_period *p, struct digest_period *prev, struct error *err);
/* "YYYY-MM-DD" of day i of p (i may be p->days - 1 for the last). */
char *digest_period_day(const struct digest_period *p, guint i);
/* "2024-06-01..2024-06-07" */
char *digest_period_label(const struct digest_period *p);

/* digest.c */
struct digest *digest_new(void);
void digest_free(struct digest *d);
struct digest_domain *digest_domain_new(const char *name, guint days);
void digest_domain_free(struct digest_domain *dd);
/* A new item called name at the end of list, zero counts; the list owns it. */
struct digest_item *digest_item_new(GPtrArray *list, const char *name);
/* Add to the counts of it, saturated; *capped is set when one reaches
 * the cap. */
void digest_item_add(struct digest_item *it, gint64 sessions, gint64 failed, gint64 reports,
		     gboolean *capped);
/* digest_item_add to the item called name in list (created when absent; a
 * linear search, for short lists: query.c finds its items through a
 * tally). */
struct digest_item *digest_items_add(GPtrArray *list, const char *name, gint64 sessions,
				     gint64 failed, gint64 reports, gboolean *capped);
/* Sort largest sessions first, then by name. */
void digest_items_sort(GPtrArray *list);
/* Failure rate in percent (0 when there are no sessions). */
double digest_rate(const struct digest_totals *t);
gint64 digest_total(const struct digest_totals *t); /* saturated */
/* Add one row's figures to t, saturated. */
void digest_totals_add(struct digest_totals *t, gint64 successful, gint64 failed, gint64 reports,
		       gboolean *capped);
const char *digest_state_name(enum digest_state s);
/* Sum of every domain, for subjects and headlines (saturated; the rate
 * of a capped sum is still right, see digest_rate). */
void digest_overall(const struct digest *d, struct digest_totals *cur, struct digest_totals *prev);

/* readiness.c: set dd->state and dd->reason from the figures. */
gboolean digest_blocking_type(const char *result_type);
void digest_assess(struct digest_domain *dd, const struct digest_config *c);

/* query.c: fill d for the period with the domains matching one of globs
 * (NULL or empty: all), c->top rows per list, counting only authenticated
 * reports with c->authenticated_only. conn is a PGconn *. */
int digest_query(void *conn, const struct digest_period *p, const struct digest_period *prev,
		 char **globs, const struct digest_config *c, struct digest **out,
		 struct error *err);

/* "live check of 2026-12-01: ok" or "... : 2 failures", or NULL when no
 * check was saved; the caller g_free()s it. */
char *digest_check_sentence(const struct digest_domain *dd);

/* "3 unauthenticated reports from 2 senders, not counted", or NULL when
 * none was left out; the caller g_free()s it. */
char *digest_unauthenticated_sentence(const struct digest_domain *dd);

/* series.c: the per-day figures of dd in at most 62 buckets of whole
 * days (a day, a week, or a multiple of 30 days), for the charts. */
struct digest_series {
	guint n;	  /* buckets */
	guint bucket;	  /* days per bucket */
	gint64 *sessions; /* per bucket, saturated; -1: no report in it */
	gint64 *failed;	  /* the same */
};
void digest_series_init(struct digest_series *s, const struct digest *d,
			const struct digest_domain *dd);
void digest_series_release(struct digest_series *s);
/* "day", "week" or "30 days": a new string (g_free). */
char *digest_series_unit(const struct digest_series *s);
/* Bucket b for a reader: "2024-06-03", "week of 2024-06-03" or "30 days
 * from 2024-06-03". A new string (g_free). */
char *digest_series_label(const struct digest_series *s, const struct digest *d, guint b);
/* One character per value: ▁ to █ scaled to the largest, · for -1 (no
 * report). A new string (g_free). */
char *digest_sparkline(const gint64 *values, guint n);
/* dd's series as two sparklines, *sessions and *failed; returns the
 * bucket's unit as digest_series_unit does. All three are new strings
 * (g_free). */
char *digest_series_sparklines(const struct digest *d, const struct digest_domain *dd,
			       char **sessions, char **failed);

/* Renderers: a new string (g_free). */
char *digest_render_text(const struct digest *d);
char *digest_render_markdown(const struct digest *d);
char *digest_render_html(const struct digest *d);
char *digest_render_json(const struct digest *d);
/* "TLS report digest for example.com: 0.02% failed, 2024-06-01..2024-06-07" */
char *digest_subject(const struct digest *d);

/* mail.c: send text + HTML as multipart/alternative to each of to through
 * c->sendmail. A failing sendmail is ERR_TEMP. */
int digest_mail(const struct digest *d, const struct digest_config *c, char **to,
		struct error *err);

/* webhook.c: post d to [webhook name] of cfg in that webhook's format
 * (slack: the text in a code block; teams: the Markdown; generic: the JSON
 * object), signed when it has a secret. Unknown name: ERR_USAGE; an answer
 * that a retry may change: ERR_TEMP; any other refusal: ERR_CONFIG. */
int digest_webhook(const struct digest *d, const struct config *cfg, const char *name,
		   struct error *err);

#endif
