/*
 * render_json.c: --format json, a stable object for other tools (its shape
 * is documented in README.md; fields are only ever added). Counts are
 * integers, rates are percentages as numbers, dates are YYYY-MM-DD UTC.
 */
#include <stdlib.h>

#include <jansson.h>

#include "common/json.h"
#include "digest/digest.h"

static json_t *json_period(const struct digest_period *p)
{
	g_autofree char *a = digest_period_day(p, 0);
	g_autofree char *b = digest_period_day(p, p->days ? p->days - 1 : 0);

	return json_pack("{s:s, s:s, s:i}", "from", a, "to", b, "days", (json_int_t)p->days);
}

static json_t *json_totals(const struct digest_totals *t)
{
	return json_pack("{s:I, s:I, s:I, s:f, s:I}", "total", (json_int_t)digest_total(t),
			 "successful", (json_int_t)t->successful, "failed", (json_int_t)t->failed,
			 "failure_rate", digest_rate(t), "reports", (json_int_t)t->reports);
}

static json_t *json_change(const struct digest_domain *dd)
{
	gint64 now = digest_total(&dd->cur), before = digest_total(&dd->prev);
	json_t *pct = before > 0 ? json_real(100.0 * (double)(now - before) / (double)before)
				 : json_null();

	return json_pack("{s:I, s:o, s:I, s:f}", "total", (json_int_t)(now - before),
			 "total_percent", pct, "failed",
			 (json_int_t)(dd->cur.failed - dd->prev.failed), "failure_rate_points",
			 digest_rate(&dd->cur) - digest_rate(&dd->prev));
}

/* [{"name": ..., key: n}, ...] */
static json_t *json_items(GPtrArray *list, const char *key, gboolean reporters)
{
	json_t *a = json_array();

	for (guint i = 0; i < list->len; i++) {
		const struct digest_item *it = g_ptr_array_index(list, i);

		if (reporters)
			json_array_append_new(a, json_pack("{s:s, s:I, s:I, s:I}", "name", it->name,
							   "reports", (json_int_t)it->reports,
							   "sessions", (json_int_t)it->sessions,
							   "failed", (json_int_t)it->failed));
		else
			json_array_append_new(a, json_pack("{s:s, s:I}", "name", it->name, key,
							   (json_int_t)it->sessions));
	}
	return a;
}

static json_t *json_days(const struct digest *d, const struct digest_domain *dd)
{
	json_t *a = json_array();

	for (guint i = 0; i < d->period.days; i++) {
		g_autofree char *day = digest_period_day(&d->period, i);

		json_array_append_new(a, json_pack("{s:s, s:I, s:I, s:I}", "date", day,
						   "successful", (json_int_t)dd->day_ok[i],
						   "failed", (json_int_t)dd->day_failed[i],
						   "reports", (json_int_t)dd->day_reports[i]));
	}
	return a;
}

static json_t *json_domain(const struct digest *d, const struct digest_domain *dd)
{
	json_t *o = json_pack("{s:s, s:{s:s, s:s}, s:o, s:o, s:o, s:o}", "domain", dd->domain,
			      "readiness", "state", digest_state_name(dd->state), "reason",
			      dd->reason ? dd->reason : "", "sessions", json_totals(&dd->cur),
			      "previous", json_totals(&dd->prev), "change", json_change(dd), "days",
			      json_days(d, dd));

	json_object_set_new(o, "days_with_reports", json_integer(dd->days_with_data));
	/* true: a figure stopped at 9223372036854775807 (see common/figure.h) */
	json_object_set_new(o, "capped", json_boolean(dd->capped));
	json_object_set_new(o, "failures_by_result_type",
			    json_items(dd->result_types, "failed", 0));
	json_object_set_new(o, "failures_by_mx_host", json_items(dd->mx_hosts, "failed", 0));
	json_object_set_new(o, "top_sending_ips", json_items(dd->ips, "failed", 0));
	json_object_set_new(o, "blocking_result_types",
			    json_items(dd->blocking_types, "failed", 0));
	json_object_set_new(o, "reporters", json_items(dd->reporters, NULL, 1));
	json_object_set_new(o, "policy_types", json_items(dd->policy_types, "sessions", 0));
	json_object_set_new(o, "sts_modes", json_items(dd->sts_modes, "sessions", 0));
	json_object_set_new(o, "no_policy_found_reporters", json_array_of_strings(dd->no_policy));
	json_object_set_new(o, "missing_reporters", json_array_of_strings(dd->missing));
	json_object_set_new(o, "unauthenticated_reports", json_integer(dd->unauthenticated));
	json_object_set_new(o, "unauthenticated_senders",
			    json_array_of_strings(dd->unauthenticated_senders));
	json_object_set_new(o, "live_check",
			    dd->check_date == NULL
				    ? json_null()
				    : json_pack("{s:s,s:b,s:o,s:s?}", "date", dd->check_date, "ok",
						dd->check_ok, "failures",
						json_array_of_strings(dd->check_failures),
						"id_change", dd->check_id_change));
	return o;
}

char *digest_render_json(const struct digest *d)
{
	json_t *root = json_pack("{s:i, s:o, s:o}", "version", 1, "period", json_period(&d->period),
				 "previous_period", json_period(&d->prev));
	json_t *domains = json_array();
	char *text, *out;

	for (guint i = 0; i < d->domains->len; i++)
		json_array_append_new(domains, json_domain(d, g_ptr_array_index(d->domains, i)));
	json_object_set_new(root, "domains", domains);
	json_object_set_new(root, "unmatched_patterns", json_array_of_strings(d->unmatched));
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	out = g_strconcat(text, "\n", NULL);
	free(text);
	json_decref(root);
	return out;
}
