/*
 * report.c: a check's result as text or JSON (check.h).
 */
#include <jansson.h>

#include "check/check.h"
#include "common/json.h"

char *check_render_text(const struct check_result *r)
{
	GString *s = g_string_new(NULL);
	guint fails = check_count(r, CHECK_FAIL), warns = check_count(r, CHECK_WARN);

	g_string_append_printf(s, "%s: %s", r->domain,
			       fails ? "not ready for enforce" : "deployment looks right");
	g_string_append_printf(s, " (%u failure%s, %u warning%s)\n", fails, fails == 1 ? "" : "s",
			       warns, warns == 1 ? "" : "s");
	for (guint i = 0; i < r->findings->len; i++) {
		const struct check_finding *f = g_ptr_array_index(r->findings, i);

		g_string_append_printf(s, "  %-4s  %-13s  %s%s%s\n", check_level_name(f->level),
				       f->check, f->subject ? f->subject : "",
				       f->subject ? ": " : "", f->message);
	}
	return g_string_free(s, FALSE);
}

char *check_render_json(const struct check_result *r)
{
	json_t *findings = json_array();
	json_t *o;
	char *text;

	for (guint i = 0; i < r->findings->len; i++) {
		const struct check_finding *f = g_ptr_array_index(r->findings, i);

		json_array_append_new(findings,
				      json_pack("{s:s,s:s,s:s?,s:s}", "check", f->check, "level",
						check_level_name(f->level), "subject", f->subject,
						"message", f->message));
	}
	o = json_pack("{s:s,s:I,s:b,s:i,s:i,s:s?,s:o,s:o}", "domain", r->domain, "checked_at",
		      (json_int_t)r->checked_at, "ok", check_count(r, CHECK_FAIL) == 0, "failures",
		      (int)check_count(r, CHECK_FAIL), "warnings", (int)check_count(r, CHECK_WARN),
		      "sts_id", r->sts_id, "mx_hosts", json_array_of_strings(r->mx_hosts),
		      "findings", findings);
	if (r->policy != NULL)
		json_object_set_new(o, "policy",
				    json_pack("{s:s?,s:I,s:o,s:s}", "mode", r->policy->mode,
					      "max_age", (json_int_t)r->policy->max_age, "mx",
					      json_array_of_strings(r->policy->mx), "text",
					      r->policy->text));
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return text;
}
