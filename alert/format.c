/*
 * format.c: what every format shares: the one-line headline and the
 * choice of renderer. The headline leads each chat message, so it says the
 * domain, the count and the rate before anything else.
 */
#include "alert/alert.h"

/* "d1 mx1, d1 mx2, ... and 9,970 more": the names a summary holds. */
static char *held_list(const struct alert_firing *f)
{
	GString *s = g_string_new(NULL);

	for (guint i = 0; i < f->held_names->len; i++)
		g_string_append_printf(s, "%s%s", i ? ", " : "",
				       (const char *)g_ptr_array_index(f->held_names, i));
	if (f->held > f->held_names->len)
		g_string_append_printf(s, " and %u more", f->held - f->held_names->len);
	return g_string_free(s, FALSE);
}

char *alert_headline(const struct alert_firing *f)
{
	g_autofree char *window = alert_duration_str(f->to - f->from);
	g_autofree char *last = alert_time_iso(f->last_report);
	const char *prefix = f->event == ALERT_EVENT_RESOLVED ? "resolved: "
			     : f->event == ALERT_EVENT_TEST   ? "test: "
							      : "";

	if (f->event == ALERT_EVENT_SUMMARY) {
		g_autofree char *held = held_list(f);

		return g_strdup_printf("%u more alerts held back, over max-alerts-per-rule in one "
				       "pass: %s [rule %s]",
				       f->held, held, f->rule->name);
	}
	if (f->rule->kind == ALERT_KIND_SILENCE)
		return g_strdup_printf("%s%s: no TLS report from %s for %s (last one ended %s) "
				       "[rule %s]",
				       prefix, f->domain, f->group ? f->group : "?", window, last,
				       f->rule->name);
	return g_strdup_printf(
		"%s%s%s%s: %" G_GINT64_FORMAT " failed TLS sessions (%.2f%%) of %" G_GINT64_FORMAT
		" in %s [rule %s]",
		prefix, f->domain, f->group ? " " : "", f->group ? f->group : "", f->failed,
		alert_firing_rate(f), alert_firing_sessions(f), window, f->rule->name);
}

char *alert_payload(const struct alert_firing *f, enum alert_format format)
{
	switch (format) {
	case ALERT_FORMAT_SLACK:
		return alert_format_slack(f);
	case ALERT_FORMAT_TEAMS:
		return alert_format_teams(f);
	case ALERT_FORMAT_GENERIC:
	default:
		return alert_format_generic(f);
	}
}
