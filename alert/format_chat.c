/*
 * format_chat.c: the two chat formats. Slack's incoming-webhook payload
 * ({"text"} plus blocks; Mattermost and Rocket.Chat read "text") and a
 * Microsoft Teams MessageCard. Both carry the headline and the top three
 * result types, MX hosts and reporters: enough to act on from a phone.
 */
#include <stdlib.h>

#include <jansson.h>

#include "alert/alert.h"

#define TOP 3

/* "certificate-expired 12, starttls-not-supported 3" (the top entries). */
static char *chat_top(const GPtrArray *items)
{
	GString *s = g_string_new(NULL);

	for (guint i = 0; i < items->len && i < TOP; i++) {
		const struct alert_item *it = g_ptr_array_index((GPtrArray *)items, i);

		g_string_append_printf(s, "%s%s %" G_GINT64_FORMAT, i ? ", " : "", it->name,
				       it->failed);
	}
	if (s->len == 0)
		g_string_append(s, "none");
	return g_string_free(s, FALSE);
}

static char *chat_dump(json_t *o)
{
	char *text = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	char *out = g_strdup(text);

	free(text);
	json_decref(o);
	return out;
}

char *alert_format_slack(const struct alert_firing *f)
{
	g_autofree char *headline = alert_headline(f);
	g_autofree char *types = chat_top(f->result_types), *mx = chat_top(f->mx_hosts);
	g_autofree char *orgs = chat_top(f->reporters);
	g_autofree char *details = g_strdup_printf("*Result types:* %s\n*MX hosts:* %s\n"
						   "*Reporters:* %s",
						   types, mx, orgs);
	g_autofree char *text = g_strdup_printf("%s\n%s", headline, details);

	if (f->rule->kind == ALERT_KIND_SILENCE || f->event == ALERT_EVENT_SUMMARY)
		return chat_dump(json_pack("{s:s}", "text", headline));
	return chat_dump(json_pack("{s:s, s:[{s:s, s:{s:s, s:s}}, {s:s, s:{s:s, s:s}}]}", "text",
				   text, "blocks", "type", "section", "text", "type", "mrkdwn",
				   "text", headline, "type", "section", "text", "type", "mrkdwn",
				   "text", details));
}

static json_t *teams_fact(const char *name, const char *value)
{
	return json_pack("{s:s, s:s}", "name", name, "value", value);
}

char *alert_format_teams(const struct alert_firing *f)
{
	g_autofree char *headline = alert_headline(f);
	g_autofree char *types = chat_top(f->result_types), *mx = chat_top(f->mx_hosts);
	g_autofree char *orgs = chat_top(f->reporters);
	g_autofree char *failed = g_strdup_printf("%" G_GINT64_FORMAT, f->failed);
	g_autofree char *rate = g_strdup_printf("%.2f%%", alert_firing_rate(f));
	g_autofree char *from = alert_time_iso(f->from), *to = alert_time_iso(f->to);
	g_autofree char *window = g_strdup_printf("%s .. %s", from, to);
	json_t *facts;

	if (f->event == ALERT_EVENT_SUMMARY)
		return chat_dump(json_pack("{s:s, s:s, s:s, s:s, s:s}", "@type", "MessageCard",
					   "@context", "https://schema.org/extensions",
					   "themeColor", "D70000", "summary", headline, "title",
					   headline));
	facts = json_array();
	json_array_append_new(facts, teams_fact("Domain", f->domain));
	json_array_append_new(facts, teams_fact("Window", window));
	if (f->rule->kind == ALERT_KIND_THRESHOLD) {
		json_array_append_new(facts, teams_fact("Failed sessions", failed));
		json_array_append_new(facts, teams_fact("Failure rate", rate));
		json_array_append_new(facts, teams_fact("Result types", types));
		json_array_append_new(facts, teams_fact("MX hosts", mx));
	}
	json_array_append_new(
		facts,
		teams_fact("Reporters",
			   f->group && f->rule->kind == ALERT_KIND_SILENCE ? f->group : orgs));
	return chat_dump(json_pack(
		"{s:s, s:s, s:s, s:s, s:s, s:[{s:s, s:o}]}", "@type", "MessageCard", "@context",
		"https://schema.org/extensions", "themeColor",
		f->event == ALERT_EVENT_RESOLVED ? "2EB886" : "D70000", "summary", headline,
		"title", headline, "sections", "activityTitle", f->rule->name, "facts", facts));
}
