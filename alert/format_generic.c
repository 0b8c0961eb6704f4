/*
 * format_generic.c: the documented JSON object (README "Alerts"), every
 * figure of a firing, for receivers other than chat. Fields are only ever
 * added. Counts are integers, the rate a percentage, times RFC 3339 UTC.
 * The signature headers are added at delivery (deliver.c), not here.
 */
#include <stdlib.h>

#include <jansson.h>

#include "alert/alert.h"

static json_t *generic_items(const GPtrArray *items, gboolean sessions)
{
	json_t *a = json_array();

	for (guint i = 0; i < items->len; i++) {
		const struct alert_item *it = g_ptr_array_index((GPtrArray *)items, i);
		json_t *o =
			json_pack("{s:s, s:I}", "name", it->name, "failed", (json_int_t)it->failed);

		if (sessions)
			json_object_set_new(o, "sessions", json_integer(it->sessions));
		json_array_append_new(a, o);
	}
	return a;
}

static const char *generic_event(enum alert_event e)
{
	return e == ALERT_EVENT_RESOLVED  ? "resolved"
	       : e == ALERT_EVENT_TEST	  ? "test"
	       : e == ALERT_EVENT_SUMMARY ? "summary"
					  : "firing";
}

/* A summary: the rule, how many alerts it held back, the first of them. */
static json_t *generic_summary(const struct alert_firing *f, const char *headline)
{
	json_t *names = json_array();

	for (guint i = 0; i < f->held_names->len; i++)
		json_array_append_new(names, json_string(g_ptr_array_index(f->held_names, i)));
	return json_pack("{s:i, s:s, s:s, s:s, s:I, s:o, s:s}", "version", 1, "event", "summary",
			 "rule", f->rule->name, "domain", f->domain, "held", (json_int_t)f->held,
			 "held_alerts", names, "summary", headline);
}

static const char *generic_group_by(const struct alert_rule *r)
{
	if (r->kind == ALERT_KIND_SILENCE)
		return "reporter";
	return r->group_by == ALERT_GROUP_REPORTER ? "reporter"
	       : r->group_by == ALERT_GROUP_MX	   ? "mx"
						   : NULL;
}

static json_t *generic_thresholds(const struct alert_rule *r)
{
	if (r->kind == ALERT_KIND_SILENCE)
		return json_pack("{s:I}", "silent_for_seconds", (json_int_t)r->silent_for);
	return json_pack("{s:I, s:f}", "min_failed_sessions", (json_int_t)r->min_failed,
			 "min_failure_rate", r->min_rate);
}

char *alert_format_generic(const struct alert_firing *f)
{
	g_autofree char *from = alert_time_iso(f->from), *to = alert_time_iso(f->to);
	g_autofree char *headline = alert_headline(f);
	const char *group_by = generic_group_by(f->rule);
	json_t *ids = json_array(), *o;
	char *text, *out;

	for (guint i = 0; i < f->report_ids->len; i++)
		json_array_append_new(ids, json_string(g_ptr_array_index(f->report_ids, i)));
	if (f->event == ALERT_EVENT_SUMMARY) {
		json_decref(ids);
		o = generic_summary(f, headline);
		goto dump;
	}
	o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s?, s:s?, s:{s:s, s:s, s:I}, s:o, s:{s:I, s:I, "
		      "s:I, s:I, s:f, s:I}, s:o, s:o, s:o, s:o}",
		      "version", 1, "event", generic_event(f->event), "rule", f->rule->name, "kind",
		      f->rule->kind == ALERT_KIND_SILENCE ? "silence" : "threshold", "domain",
		      f->domain, "group_by", group_by, "group", f->group, "window", "start", from,
		      "end", to, "seconds", (json_int_t)(f->to - f->from), "thresholds",
		      generic_thresholds(f->rule), "sessions", "total",
		      (json_int_t)alert_firing_sessions(f), "successful", (json_int_t)f->successful,
		      "failed", (json_int_t)f->failed_all, "counted_failed", (json_int_t)f->failed,
		      "failure_rate", alert_firing_rate(f), "reports", (json_int_t)f->reports,
		      "failures_by_result_type", generic_items(f->result_types, FALSE),
		      "failures_by_mx_host", generic_items(f->mx_hosts, FALSE), "reporters",
		      generic_items(f->reporters, TRUE), "report_ids", ids);
	json_object_set_new(o, "summary", json_string(headline));
	if (f->rule->kind == ALERT_KIND_SILENCE) {
		g_autofree char *last = alert_time_iso(f->last_report);

		json_object_set_new(o, "last_report_end", json_string(last));
	}
dump:
	text = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(o);
	out = g_strdup(text); /* callers g_free() */
	free(text);
	return out;
}
