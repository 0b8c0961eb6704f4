/*
 * figures.c: a firing's figures and the threshold test. Kept apart from
 * the queries so the decision (both thresholds must hold, rates in
 * percent of failed + successful sessions) is testable without a database.
 */
#include <string.h>

#include "alert/alert.h"
#include "common/figure.h"

static void alert_item_free(gpointer p)
{
	struct alert_item *it = p;

	g_free(it->name);
	g_free(it);
}

struct alert_firing *alert_firing_new(const struct alert_rule *rule, const char *domain,
				      const char *group, gint64 from, gint64 to)
{
	struct alert_firing *f = g_new0(struct alert_firing, 1);

	f->rule = rule;
	f->domain = g_strdup(domain);
	f->group = group != NULL && *group != '\0' ? g_strdup(group) : NULL;
	f->from = from;
	f->to = to;
	f->result_types = g_ptr_array_new_with_free_func(alert_item_free);
	f->mx_hosts = g_ptr_array_new_with_free_func(alert_item_free);
	f->reporters = g_ptr_array_new_with_free_func(alert_item_free);
	f->report_ids = g_ptr_array_new_with_free_func(g_free);
	f->held_names = g_ptr_array_new_with_free_func(g_free);
	return f;
}

void alert_firing_free(struct alert_firing *f)
{
	if (f == NULL)
		return;
	g_free(f->domain);
	g_free(f->group);
	g_ptr_array_unref(f->result_types);
	g_ptr_array_unref(f->mx_hosts);
	g_ptr_array_unref(f->reporters);
	g_ptr_array_unref(f->report_ids);
	g_ptr_array_unref(f->held_names);
	g_free(f);
}

struct alert_item *alert_item_new(GPtrArray *items, const char *name)
{
	struct alert_item *it = g_new0(struct alert_item, 1);

	it->name = g_strdup(name);
	g_ptr_array_add(items, it);
	return it;
}

void alert_items_add(GPtrArray *items, const char *name, gint64 failed, gint64 sessions,
		     gboolean *capped)
{
	struct alert_item *it = NULL;

	for (guint i = 0; i < items->len && it == NULL; i++) {
		if (g_str_equal(((struct alert_item *)items->pdata[i])->name, name))
			it = items->pdata[i];
	}
	if (it == NULL)
		it = alert_item_new(items, name);
	alert_item_add(it, failed, sessions, capped);
}

void alert_item_add(struct alert_item *it, gint64 failed, gint64 sessions, gboolean *capped)
{
	figure_add(&it->failed, failed, capped);
	figure_add(&it->sessions, sessions, capped);
}

static gint alert_item_cmp(gconstpointer a, gconstpointer b)
{
	const struct alert_item *x = *(struct alert_item *const *)a;
	const struct alert_item *y = *(struct alert_item *const *)b;

	if (x->failed != y->failed)
		return x->failed > y->failed ? -1 : 1;
	if (x->sessions != y->sessions)
		return x->sessions > y->sessions ? -1 : 1;
	return strcmp(x->name, y->name);
}

void alert_items_sort(GPtrArray *items)
{
	g_ptr_array_sort(items, alert_item_cmp);
}

gint64 alert_firing_sessions(const struct alert_firing *f)
{
	return figure_sum(f->successful, f->failed_all);
}

/* In double: a saturated total would overstate the share. */
double alert_firing_rate(const struct alert_firing *f)
{
	double total = (double)f->successful + (double)f->failed_all;

	return total > 0 ? 100.0 * (double)f->failed / total : 0.0;
}

gboolean alert_firing_check(struct alert_firing *f)
{
	const struct alert_rule *r = f->rule;

	if (r->kind == ALERT_KIND_SILENCE)
		f->firing = f->last_report > 0 && f->last_report <= f->to - r->silent_for;
	else
		f->firing = f->failed > 0 && f->failed >= r->min_failed &&
			    alert_firing_rate(f) >= r->min_rate;
	return f->firing;
}

struct alert_firing *alert_firing_sample(const struct alert_rule *rule, gint64 now)
{
	struct alert_firing *f = alert_firing_new(rule, "example.com", NULL, now - 86400, now);

	f->event = ALERT_EVENT_TEST;
	f->successful = 9876;
	f->failed_all = f->failed = 124;
	f->reports = 3;
	alert_items_add(f->result_types, "certificate-expired", 100, 0, &f->capped);
	alert_items_add(f->result_types, "starttls-not-supported", 24, 0, &f->capped);
	alert_items_add(f->mx_hosts, "mx1.example.com", 100, 0, &f->capped);
	alert_items_add(f->mx_hosts, "mx2.example.com", 24, 0, &f->capped);
	alert_items_add(f->reporters, "Google Inc.", 124, 8000, &f->capped);
	alert_items_add(f->reporters, "Microsoft Corporation", 0, 2000, &f->capped);
	g_ptr_array_add(f->report_ids, g_strdup("Google Inc./2024-06-05T00:00:00Z_example.com"));
	f->firing = TRUE;
	return f;
}

char *alert_time_iso(gint64 t)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t);

	return dt != NULL ? g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ") : g_strdup("?");
}

char *alert_duration_str(gint64 s)
{
	if (s % 86400 == 0 && s >= 2 * 86400)
		return g_strdup_printf("%" G_GINT64_FORMAT "d", s / 86400);
	if (s % 3600 == 0)
		return g_strdup_printf("%" G_GINT64_FORMAT "h", s / 3600);
	if (s % 60 == 0)
		return g_strdup_printf("%" G_GINT64_FORMAT "m", s / 60);
	return g_strdup_printf("%" G_GINT64_FORMAT "s", s);
}
