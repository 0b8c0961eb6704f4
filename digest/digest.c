/*
 * digest.c: allocating and freeing the digest, and the small sums every
 * renderer needs. Breakdown lists are GPtrArrays of struct digest_item
 * that free their items, so a list is released with g_ptr_array_unref.
 */
#include "common/figure.h"
#include "digest/digest.h"

static void digest_item_free(gpointer p)
{
	struct digest_item *it = p;

	if (it == NULL)
		return;
	g_free(it->name);
	g_free(it);
}

struct digest *digest_new(void)
{
	struct digest *d = g_new0(struct digest, 1);

	d->domains = g_ptr_array_new_with_free_func((GDestroyNotify)digest_domain_free);
	d->unmatched = g_ptr_array_new_with_free_func(g_free);
	return d;
}

void digest_free(struct digest *d)
{
	if (d == NULL)
		return;
	g_ptr_array_unref(d->domains);
	g_ptr_array_unref(d->unmatched);
	g_free(d);
}

static GPtrArray *digest_items_new(void)
{
	return g_ptr_array_new_with_free_func(digest_item_free);
}

struct digest_domain *digest_domain_new(const char *name, guint days)
{
	struct digest_domain *dd = g_new0(struct digest_domain, 1);

	dd->domain = g_strdup(name);
	dd->day_ok = g_new0(gint64, days ? days : 1);
	dd->day_failed = g_new0(gint64, days ? days : 1);
	dd->day_reports = g_new0(gint64, days ? days : 1);
	dd->result_types = digest_items_new();
	dd->mx_hosts = digest_items_new();
	dd->ips = digest_items_new();
	dd->blocking_types = digest_items_new();
	dd->blocking_mx = digest_items_new();
	dd->policy_types = digest_items_new();
	dd->sts_modes = digest_items_new();
	dd->reporters = digest_items_new();
	dd->no_policy = g_ptr_array_new_with_free_func(g_free);
	dd->missing = g_ptr_array_new_with_free_func(g_free);
	dd->unauthenticated_senders = g_ptr_array_new_with_free_func(g_free);
	dd->check_failures = g_ptr_array_new_with_free_func(g_free);
	return dd;
}

void digest_domain_free(struct digest_domain *dd)
{
	if (dd == NULL)
		return;
	g_free(dd->domain);
	g_free(dd->day_ok);
	g_free(dd->day_failed);
	g_free(dd->day_reports);
	g_ptr_array_unref(dd->result_types);
	g_ptr_array_unref(dd->mx_hosts);
	g_ptr_array_unref(dd->ips);
	g_ptr_array_unref(dd->blocking_types);
	g_ptr_array_unref(dd->blocking_mx);
	g_ptr_array_unref(dd->policy_types);
	g_ptr_array_unref(dd->sts_modes);
	g_ptr_array_unref(dd->reporters);
	g_ptr_array_unref(dd->no_policy);
	g_ptr_array_unref(dd->missing);
	g_ptr_array_unref(dd->unauthenticated_senders);
	g_ptr_array_unref(dd->check_failures);
	g_free(dd->check_date);
	g_free(dd->check_id_change);
	g_free(dd->reason);
	g_free(dd);
}

char *digest_check_sentence(const struct digest_domain *dd)
{
	guint n = dd->check_failures->len;

	if (dd->check_date == NULL)
		return NULL;
	if (n == 0 && dd->check_ok)
		return g_strdup_printf("live check of %s: the deployment is right%s%s",
				       dd->check_date, dd->check_id_change ? "; MTA-STS " : "",
				       dd->check_id_change ? dd->check_id_change : "");
	if (n == 0)
		return g_strdup_printf("live check of %s: failed", dd->check_date);
	return g_strdup_printf("live check of %s: %u failure%s", dd->check_date, n,
			       n == 1 ? "" : "s");
}

char *digest_unauthenticated_sentence(const struct digest_domain *dd)
{
	guint senders = dd->unauthenticated_sender_count;

	if (dd->unauthenticated == 0)
		return NULL;
	return g_strdup_printf("%" G_GINT64_FORMAT " unauthenticated report%s from %u sender%s, "
			       "not counted",
			       dd->unauthenticated, dd->unauthenticated == 1 ? "" : "s", senders,
			       senders == 1 ? "" : "s");
}

struct digest_item *digest_item_new(GPtrArray *list, const char *name)
{
	struct digest_item *it = g_new0(struct digest_item, 1);

	it->name = g_strdup(name);
	g_ptr_array_add(list, it);
	return it;
}

void digest_item_add(struct digest_item *it, gint64 sessions, gint64 failed, gint64 reports,
		     gboolean *capped)
{
	figure_add(&it->sessions, sessions, capped);
	figure_add(&it->failed, failed, capped);
	figure_add(&it->reports, reports, capped);
}

struct digest_item *digest_items_add(GPtrArray *list, const char *name, gint64 sessions,
				     gint64 failed, gint64 reports, gboolean *capped)
{
	struct digest_item *it = NULL;

	for (guint i = 0; i < list->len && it == NULL; i++) {
		struct digest_item *x = g_ptr_array_index(list, i);

		if (g_str_equal(x->name, name))
			it = x;
	}
	if (it == NULL)
		it = digest_item_new(list, name);
	digest_item_add(it, sessions, failed, reports, capped);
	return it;
}

static gint digest_item_cmp(gconstpointer a, gconstpointer b)
{
	const struct digest_item *x = *(struct digest_item *const *)a;
	const struct digest_item *y = *(struct digest_item *const *)b;

	if (x->sessions != y->sessions)
		return x->sessions > y->sessions ? -1 : 1;
	return g_strcmp0(x->name, y->name);
}

void digest_items_sort(GPtrArray *list)
{
	g_ptr_array_sort(list, digest_item_cmp);
}

gint64 digest_total(const struct digest_totals *t)
{
	return figure_sum(t->successful, t->failed);
}

void digest_totals_add(struct digest_totals *t, gint64 successful, gint64 failed, gint64 reports,
		       gboolean *capped)
{
	figure_add(&t->successful, successful, capped);
	figure_add(&t->failed, failed, capped);
	figure_add(&t->reports, reports, capped);
}

/* In double: the saturated total would understate the failures' share. */
double digest_rate(const struct digest_totals *t)
{
	double n = (double)t->successful + (double)t->failed;

	return n > 0 ? 100.0 * (double)t->failed / n : 0.0;
}

const char *digest_state_name(enum digest_state s)
{
	switch (s) {
	case DIGEST_READY:
		return "ready";
	case DIGEST_NOT_READY:
		return "not ready";
	case DIGEST_ENFORCING:
		return "enforcing";
	case DIGEST_NO_DATA:
		break;
	}
	return "no data";
}

void digest_overall(const struct digest *d, struct digest_totals *cur, struct digest_totals *prev)
{
	gboolean capped = FALSE; /* each domain shows its own cap */

	*cur = (struct digest_totals){ 0 };
	*prev = (struct digest_totals){ 0 };
	for (guint i = 0; i < d->domains->len; i++) {
		const struct digest_domain *dd = g_ptr_array_index(d->domains, i);

		digest_totals_add(cur, dd->cur.successful, dd->cur.failed, dd->cur.reports,
				  &capped);
		digest_totals_add(prev, dd->prev.successful, dd->prev.failed, dd->prev.reports,
				  &capped);
	}
}
