/*
 * alert.h: threshold and silence rules over the reports, an outbox of
 * firings in tlswatch.alerts, and webhooks that deliver them.
 *
 * config.c reads [alert], [rule NAME] and [webhook NAME]; eval.c turns the
 * database into firings (struct alert_firing) for a time "now"; format.c
 * and the format_*.c files render a firing per webhook format; outbox.c
 * writes firings under the cooldown and claims due rows with FOR UPDATE
 * SKIP LOCKED; deliver.c posts one payload with libcurl (HMAC with GHmac).
 * Ownership: a struct alert_config owns its rules and webhooks; a firing
 * owns its strings and lists (alert_firing_free); payload functions return
 * a new string the caller g_free()s; nothing keeps a borrowed pointer.
 */
#ifndef TLSWATCH_ALERT_H
#define TLSWATCH_ALERT_H

#include <glib.h>
#include <libpq-fe.h>

#include "common/config.h"
#include "common/error.h"

enum alert_format { ALERT_FORMAT_GENERIC, ALERT_FORMAT_SLACK, ALERT_FORMAT_TEAMS };
enum alert_kind { ALERT_KIND_THRESHOLD, ALERT_KIND_SILENCE };
enum alert_group_by { ALERT_GROUP_NONE, ALERT_GROUP_REPORTER, ALERT_GROUP_MX };

struct alert_webhook {
	char *name;
	char *url; /* a secret: never logged */
	enum alert_format format;
	char *secret;	/* NULL: no signature */
	gint64 timeout; /* seconds, default 10 */
};

struct alert_rule {
	char *name;
	enum alert_kind kind;
	char **domains;		     /* lower-case globs; NULL: every domain */
	char **result_types;	     /* NULL: every result type */
	gint64 window;		     /* seconds of report time (date_end), default 24h */
	gint64 min_failed;	     /* min-failed-sessions, default 1 */
	double min_rate;	     /* min-failure-rate in percent, default 0 */
	gint64 cooldown;	     /* seconds, default 6h */
	gboolean authenticated_only; /* [alert] authenticated-only, for every rule */
	gint64 silent_for;	     /* silence: seconds, default 3d */
	enum alert_group_by group_by;
	gboolean notify_resolved;
	char **notify; /* webhook names, each one configured */
};

struct alert_config {
	gboolean on_ingest; /* [alert] on-ingest, default true */
	/* [alert] authenticated-only: count only reports whose message was
	 * authenticated (ingest/trust.h) or never judged; default on unless
	 * [ingest] dkim = off. */
	gboolean authenticated_only;
	guint max_attempts;  /* [alert] max-attempts, default 10 */
	gint64 backoff;	     /* [alert] backoff: first retry delay, default 60s */
	guint max_alerts;    /* [alert] max-alerts-per-rule: per rule and pass, default 20 */
	GPtrArray *rules;    /* struct alert_rule *, in file order */
	GPtrArray *webhooks; /* struct alert_webhook *, in file order */
};

/* A name with a count: one row of a breakdown. */
struct alert_item {
	char *name;
	gint64 failed;
	gint64 sessions;
};

enum alert_event {
	ALERT_EVENT_FIRING,
	ALERT_EVENT_RESOLVED,
	ALERT_EVENT_TEST,
	ALERT_EVENT_SUMMARY
};

/* How many held-back alerts a summary names; it counts them all. */
#define ALERT_SUMMARY_NAMES 10

/* One rule's figures for one domain (and group), over one window. */
struct alert_firing {
	const struct alert_rule *rule; /* borrowed from the configuration */
	enum alert_event event;
	char *domain;
	char *group;	 /* reporter or MX host with group-by (silence: reporter), else NULL */
	gint64 from, to; /* the window, unix seconds, (from, to] */
	gint64 successful, failed_all; /* sessions from domain_sessions */
	gint64 failed;		       /* failures counted by the rule */
	gint64 reports;
	gint64 last_report; /* silence: end of the reporter's last report */
	GPtrArray *result_types, *mx_hosts, *reporters; /* struct alert_item *, largest first */
	GPtrArray *report_ids;				/* char *: "organization/report-id" */
	gboolean firing;
	gboolean capped;       /* a figure stopped at G_MAXINT64 (common/figure.h) */
	guint held;	       /* summary: the alerts held back past max-alerts-per-rule */
	GPtrArray *held_names; /* summary: char *, "domain" or "domain group", the first ones */
};

/* How far back a silence rule looks for a reporter's last report, beyond
 * its silent-for: a reporter silent for longer is forgotten. */
#define ALERT_SILENCE_LOOKBACK (30 * 86400)

/* config.c */
void alert_config_init(struct alert_config *c);
int alert_config_load(struct alert_config *c, GKeyFile *kf, const char *path, struct error *err);
void alert_config_release(struct alert_config *c);
const struct alert_webhook *alert_config_webhook(const struct alert_config *c, const char *name);
const struct alert_rule *alert_config_rule(const struct alert_config *c, const char *name);
/* The report time the rules of c read back from now, in seconds: the
 * longest window, or a silence's silent-for plus its lookback. db prune
 * keeps at least that much. */
gint64 alert_config_history_needed(const struct alert_config *c);
/* "1%" (percent, 0..100) or "0.01" (a fraction, 0..1) -> percent; -1 on nonsense. */
double alert_parse_rate(const char *s);

/* figures.c */
struct alert_firing *alert_firing_new(const struct alert_rule *rule, const char *domain,
				      const char *group, gint64 from, gint64 to);
void alert_firing_free(struct alert_firing *f);
/* A new item called name at the end of items, zero counts; items owns it. */
struct alert_item *alert_item_new(GPtrArray *items, const char *name);
/* Add to the item called name (created when absent): a linear search, for
 * short lists; eval.c finds its items through a tally. */
void alert_items_add(GPtrArray *items, const char *name, gint64 failed, gint64 sessions,
		     gboolean *capped);
/* Add to its counts, saturated; *capped is set when one reaches the cap. */
void alert_item_add(struct alert_item *it, gint64 failed, gint64 sessions, gboolean *capped);
void alert_items_sort(GPtrArray *items);
double alert_firing_rate(const struct alert_firing *f);	    /* percent */
gint64 alert_firing_sessions(const struct alert_firing *f); /* all, saturated */
/* Whether f crosses every threshold of its rule (sets f->firing). */
gboolean alert_firing_check(struct alert_firing *f);
/* A firing with sample figures, for --test. */
struct alert_firing *alert_firing_sample(const struct alert_rule *rule, gint64 now);
char *alert_time_iso(gint64 t);	    /* "2024-06-05T12:00:00Z" */
char *alert_duration_str(gint64 s); /* "24h", "90m", "3d" */

/* eval.c: the firings of each of rules (struct alert_rule *) at now for
 * the domains matching its globs, restricted to only (lower-case names;
 * NULL: all), reading only the partitions of its window; all the rules'
 * queries go out together (libpq's pipeline mode), so conn must not be
 * in one. *out receives a new array holding, for rule i, at i, an array
 * of struct alert_firing * (firing or not). */
int alert_evaluate(PGconn *conn, const GPtrArray *rules, gint64 now, char **only, GPtrArray **out,
		   struct error *err);

/* format_*.c: the body for a webhook format; a new string. */
char *alert_payload(const struct alert_firing *f, enum alert_format format);
char *alert_format_generic(const struct alert_firing *f);
char *alert_format_slack(const struct alert_firing *f);
char *alert_format_teams(const struct alert_firing *f);
char *alert_headline(const struct alert_firing *f);

/* deliver.c: POST body to w. Returns 0 when the receiver answered 2xx;
 * else -1 with *retry TRUE for what a later attempt may cure (connection,
 * timeout, 5xx, 429) and *why a new one-line reason (no URL in it). */
int alert_deliver(const struct alert_webhook *w, const char *body, gint64 timestamp,
		  gboolean *retry, char **why);
/* "sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">"; a new string. */
char *alert_signature(const char *secret, gint64 timestamp, const char *body);

/* outbox.c */
struct alert_counts {
	guint fired, resolved, cooldown, held, sent, retrying, failed;
};
/* ", N held back in a summary" when n->held, else "". Returns a new
 * string. */
char *alert_counts_held(const struct alert_counts *n);
/* Write f for each of its rule's webhooks unless the rule fired for this
 * domain and group within its cooldown (firing), or it is not firing now
 * (resolved): the check and the insert are one transaction. With hold, the
 * event is recorded (its cooldown runs, it can resolve) but not sent: it
 * is counted in n->held, for a summary. */
int alert_outbox_add(PGconn *conn, const struct alert_config *c, const struct alert_firing *f,
		     gint64 now, gboolean hold, struct alert_counts *n, struct error *err);
/* Write the summary f (ALERT_EVENT_SUMMARY) for each of its rule's
 * webhooks; it has no state. */
int alert_outbox_summary(PGconn *conn, const struct alert_config *c, const struct alert_firing *f,
			 gint64 now, struct error *err);
/* The (domain, group) pairs whose last event for rule is a firing. *out: a
 * new array of char * pairs (domain, group or "") flattened. */
int alert_outbox_open(PGconn *conn, const struct alert_rule *rule, GPtrArray **out,
		      struct error *err);
/* Add to out (char *, new strings) each of domains (NULL-terminated) that
 * has a firing of one of c's rules open. */
int alert_outbox_open_domains(PGconn *conn, const struct alert_config *c, char **domains,
			      GPtrArray *out, struct error *err);
/* *out: the set of "domain\ngroup" (a new table) of rule in cooldown at
 * now, of the domains only (NULL: all). A pass skips these firings
 * without a transaction each; the others are checked again under the
 * lock by alert_outbox_add. */
int alert_outbox_cooling(PGconn *conn, const struct alert_rule *rule, gint64 now, char **only,
			 GHashTable **out, struct error *err);
/* *out: "domain\ngroup" -> the time its last firing was sent (a new table). */
int alert_outbox_last_sent(PGconn *conn, const struct alert_rule *rule, GHashTable **out,
			   struct error *err);
/* Deliver due pending rows (only: restrict to these domains; NULL all), one
 * transaction and row lock each. With once (on ingest), a webhook whose
 * attempt failed gets no other row in this run (the others still do), and
 * no attempt starts once the sum of the webhook timeouts has passed. */
int alert_outbox_deliver(PGconn *conn, const struct alert_config *c, gint64 now, char **only,
			 gboolean once, struct alert_counts *n, struct error *err);

/* alert.c */
/* Evaluate every rule (only: these domains, NULL all) and queue firings. */
int alert_run_rules(PGconn *conn, const struct alert_config *c, gint64 now, char **only,
		    struct alert_counts *n, struct error *err);
/* After ingest committed reports for policy_domains (char *), of which
 * failing (char *; NULL: all of them) list failed sessions: evaluate the
 * rules for the failing domains and for the others that have a firing
 * open, and try delivery once for those. A report without failures adds
 * none for a threshold or a silence to start from, but may end a firing:
 * the domains it alone touched cost one query, not the rules'. What time
 * alone brings about (a silence, a threshold still held when its cooldown
 * ends, another try of a waiting alert) is the alert pass's, which
 * evaluates everything. Problems are logged and what is not
 * sent waits in the outbox; the caller's outcome never depends on it.
 * Does nothing with [alert] on-ingest = false or without rules. Returns
 * how many alerts were left for tlswatch alert (0: none, or all sent), or
 * -1 when the rules could not be evaluated. */
int alert_after_ingest(PGconn *conn, const struct config *cfg, GPtrArray *policy_domains,
		       GPtrArray *failing);
/* alert_after_ingest for the domains a delivery committed (conn NULL, or
 * none: nothing to do), said as the MTA's status line says it: "1 alert
 * not sent", "alerts not evaluated", or NULL when there is nothing to say.
 * Empties policy_domains and failing (may be NULL) for the next delivery.
 * The caller g_free()s the result. */
char *alert_after_delivery(PGconn *conn, const struct config *cfg, GPtrArray *policy_domains,
			   GPtrArray *failing);

#endif
