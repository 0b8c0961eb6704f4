/*
 * alert.c: one evaluation pass, as `tlswatch alert` and ingest run it.
 * Each rule is evaluated, each firing queued under its cooldown, and each
 * open firing that no longer holds resolved (with notify-resolved). A rule
 * queues at most max-alerts-per-rule events in one pass; the others are
 * recorded, held back, and named in one summary: one forged report naming
 * 10,000 MX hosts must not post 10,000 chat messages. On
 * ingest the same pass runs for the touched domains only, then delivery is
 * tried once; nothing here may change ingest's outcome, so every problem
 * is a log line and the outbox keeps what was not sent.
 */
#include <string.h>

#include "alert/alert.h"
#include "common/domain.h"
#include "common/log.h"

static gboolean alert_in(char **only, const char *domain)
{
	return only == NULL || g_strv_contains((const char *const *)only, domain);
}

/* "domain\ngroup" ("" for none), as the outbox's queries give them.
 * Returns a new string. */
static char *alert_key(const char *domain, const char *group)
{
	return g_strdup_printf("%s\n%s", domain, group ? group : "");
}

/* The firings of list by alert_key: a pass over every domain resolves
 * against thousands of them. Returns a new table; the firings stay
 * list's. */
static GHashTable *alert_index(const GPtrArray *list)
{
	GHashTable *index = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	for (guint i = 0; i < list->len; i++) {
		struct alert_firing *f = g_ptr_array_index(list, i);

		g_hash_table_insert(index, alert_key(f->domain, f->group), f);
	}
	return index;
}

/* One rule's events in one pass: at most max queued, the rest held back
 * and named in summary. */
struct alert_cap {
	guint queued;
	struct alert_firing *summary; /* NULL until an event is held back */
};

/* Queue f, or hold it back once the rule has queued max-alerts-per-rule. */
static int alert_queue(PGconn *conn, const struct alert_config *c, const struct alert_firing *f,
		       gint64 now, struct alert_cap *cap, struct alert_counts *n, struct error *err)
{
	guint queued = n->fired + n->resolved, held = n->held;
	gboolean hold = cap->queued >= c->max_alerts;

	if (alert_outbox_add(conn, c, f, now, hold, n, err) < 0)
		return -1;
	cap->queued += n->fired + n->resolved - queued;
	if (n->held == held)
		return 0;
	if (cap->summary == NULL) {
		cap->summary = alert_firing_new(f->rule, f->domain, NULL, f->from, f->to);
		cap->summary->event = ALERT_EVENT_SUMMARY;
	}
	cap->summary->held++;
	if (cap->summary->held_names->len < ALERT_SUMMARY_NAMES)
		g_ptr_array_add(
			cap->summary->held_names,
			g_strdup_printf("%s%s%s%s", f->domain, f->group ? " " : "",
					f->group ? f->group : "",
					f->event == ALERT_EVENT_RESOLVED ? " (resolved)" : ""));
	return 0;
}

/* Firings that were open and no longer hold: resolved. */
static int alert_resolve(PGconn *conn, const struct alert_config *c, const struct alert_rule *r,
			 GPtrArray *list, gint64 now, char **only, struct alert_cap *cap,
			 struct alert_counts *n, struct error *err)
{
	g_autoptr(GHashTable) index = NULL;
	GPtrArray *open = NULL;
	int rc = 0;

	if (!r->notify_resolved)
		return 0;
	if (alert_outbox_open(conn, r, &open, err) < 0)
		return -1;
	index = alert_index(list);
	for (guint i = 0; rc == 0 && i + 1 < open->len; i += 2) {
		const char *domain = open->pdata[i], *group = open->pdata[i + 1];
		g_autofree char *key = alert_key(domain, group);
		struct alert_firing *f = g_hash_table_lookup(index, key);

		/* A silent reporter past the lookback is still silent, not resolved. */
		if (!alert_in(only, domain) || (f != NULL && f->firing) ||
		    (f == NULL && r->kind == ALERT_KIND_SILENCE))
			continue;
		if (f == NULL) {
			f = alert_firing_new(r, domain, group, now - r->window, now);
			g_ptr_array_add(list, f);
		}
		f->event = ALERT_EVENT_RESOLVED;
		rc = alert_queue(conn, c, f, now, cap, n, err);
	}
	g_ptr_array_unref(open);
	return rc;
}

int alert_run_rules(PGconn *conn, const struct alert_config *c, gint64 now, char **only,
		    struct alert_counts *n, struct error *err)
{
	g_autoptr(GPtrArray) lists = NULL;

	if (alert_evaluate(conn, c->rules, now, only, &lists, err) < 0)
		return -1;
	for (guint i = 0; i < c->rules->len; i++) {
		const struct alert_rule *r = g_ptr_array_index(c->rules, i);
		struct alert_cap cap = { 0, NULL };
		GPtrArray *list = g_ptr_array_index(lists, i);
		GHashTable *cooling = NULL;
		int rc = 0;

		if (alert_outbox_cooling(conn, r, now, only, &cooling, err) < 0)
			return error_prefix(err, "rule %s", r->name);
		for (guint j = 0; rc == 0 && j < list->len; j++) {
			struct alert_firing *f = g_ptr_array_index(list, j);
			g_autofree char *key = alert_key(f->domain, f->group);

			if (!f->firing)
				continue;
			if (g_hash_table_contains(cooling, key))
				n->cooldown++;
			else
				rc = alert_queue(conn, c, f, now, &cap, n, err);
		}
		if (rc == 0)
			rc = alert_resolve(conn, c, r, list, now, only, &cap, n, err);
		if (rc == 0 && cap.summary != NULL)
			rc = alert_outbox_summary(conn, c, cap.summary, now, err);
		alert_firing_free(cap.summary);
		g_hash_table_unref(cooling);
		if (rc < 0)
			return error_prefix(err, "rule %s", r->name);
	}
	return 0;
}

char *alert_counts_held(const struct alert_counts *n)
{
	return n->held > 0 ? g_strdup_printf(", %u held back in a summary", n->held) : g_strdup("");
}

char *alert_after_delivery(PGconn *conn, const struct config *cfg, GPtrArray *policy_domains,
			   GPtrArray *failing)
{
	int unsent = 0;

	if (conn != NULL && policy_domains != NULL && policy_domains->len > 0)
		unsent = alert_after_ingest(conn, cfg, policy_domains, failing);
	if (policy_domains != NULL)
		g_ptr_array_set_size(policy_domains, 0);
	if (failing != NULL)
		g_ptr_array_set_size(failing, 0);
	if (unsent < 0)
		return g_strdup("alerts not evaluated");
	if (unsent > 0)
		return g_strdup_printf("%d alert%s not sent", unsent, unsent == 1 ? "" : "s");
	return NULL;
}

/* Add to set (char *, owned) the normalised name of each of domains that
 * is neither in set nor in skip (may be NULL) yet. */
static void alert_domains_add(GPtrArray *set, GPtrArray *domains, GPtrArray *skip)
{
	for (guint i = 0; i < domains->len; i++) {
		char *d = domain_normalise(g_ptr_array_index(domains, i));

		if (g_ptr_array_find_with_equal_func(set, d, g_str_equal, NULL) ||
		    (skip != NULL && g_ptr_array_find_with_equal_func(skip, d, g_str_equal, NULL)))
			g_free(d);
		else
			g_ptr_array_add(set, d);
	}
}

int alert_after_ingest(PGconn *conn, const struct config *cfg, GPtrArray *policy_domains,
		       GPtrArray *failing)
{
	struct alert_config c;
	struct alert_counts n = { 0 };
	struct error err = ERROR_INIT;
	GPtrArray *only = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) quiet = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *held = NULL;
	int unsent;

	alert_config_init(&c);
	if (alert_config_load(&c, cfg->keyfile, cfg->path, &err) < 0 || !c.on_ingest ||
	    c.rules->len == 0 || policy_domains == NULL || policy_domains->len == 0)
		goto out;
	/* The domains only clean reports touched: those with a firing open. */
	alert_domains_add(only, failing ? failing : policy_domains, NULL);
	alert_domains_add(quiet, policy_domains, only);
	if (quiet->len > 0) {
		g_ptr_array_add(quiet, NULL);
		if (alert_outbox_open_domains(conn, &c, (char **)quiet->pdata, only, &err) < 0)
			goto out;
	}
	if (only->len == 0)
		goto out;
	g_ptr_array_add(only, NULL);
	if (alert_run_rules(conn, &c, g_get_real_time() / G_USEC_PER_SEC, (char **)only->pdata, &n,
			    &err) < 0 ||
	    alert_outbox_deliver(conn, &c, g_get_real_time() / G_USEC_PER_SEC, (char **)only->pdata,
				 TRUE, &n, &err) < 0)
		goto out;
	held = alert_counts_held(&n);
	if (n.fired + n.resolved > 0)
		log_info("alerts: %u fired, %u resolved%s; %u sent, %u left for tlswatch alert, %u "
			 "failed",
			 n.fired, n.resolved, held, n.sent, n.retrying, n.failed);
out:
	if (err.cls != ERR_NONE)
		log_warning("alerts not evaluated: %s", err.msg);
	unsent = err.cls != ERR_NONE ? -1 : (int)MIN(n.retrying + n.failed, (guint)G_MAXINT);
	error_clear(&err);
	g_ptr_array_unref(only);
	alert_config_release(&c);
	return unsent;
}
