/*
 * report_json.c: a parsed report as the normalised JSON of report.h's
 * report_to_json (the --dry-run output): the RFC's field names, dates in
 * UTC to the second, counts as integers, plus what tlswatch derived.
 */
#include "common/json.h"
#include "ingest/report.h"

/* Whole seconds, UTC, "YYYY-MM-DDTHH:MM:SSZ": fractions are dropped. */
static json_t *report_datetime_to_json(GDateTime *dt)
{
	g_autoptr(GDateTime) utc = g_date_time_to_utc(dt);
	g_autofree char *s =
		g_strdup_printf("%04d-%02d-%02dT%02d:%02d:%02dZ", g_date_time_get_year(utc),
				g_date_time_get_month(utc), g_date_time_get_day_of_month(utc),
				g_date_time_get_hour(utc), g_date_time_get_minute(utc),
				g_date_time_get_second(utc));

	return json_string(s);
}

static json_t *report_failure_to_json(const struct failure_detail *f)
{
	return json_pack("{s:s, s:s*, s:s*, s:s*, s:s*, s:I, s:s*, s:s*}", "result-type",
			 f->result_type, "sending-mta-ip", f->sending_mta_ip,
			 "receiving-mx-hostname", f->receiving_mx_hostname, "receiving-mx-helo",
			 f->receiving_mx_helo, "receiving-ip", f->receiving_ip,
			 "failed-session-count", (json_int_t)f->failed_sessions,
			 "additional-information", f->additional_information, "failure-reason-code",
			 f->failure_reason_code);
}

static json_t *report_policy_to_json(const struct policy *p)
{
	json_t *failures = json_array();

	for (guint i = 0; failures != NULL && i < p->failures->len; i++) {
		const struct failure_detail *f =
			&g_array_index(p->failures, struct failure_detail, i);

		if (json_array_append_new(failures, report_failure_to_json(f)) < 0)
			g_clear_pointer(&failures, json_decref);
	}
	return json_pack("{s:{s:s, s:o, s:s, s:o, s:s*, s:o*}, s:{s:I, s:I}, s:o}", "policy",
			 "policy-type", p->type, "policy-string", json_array_of_strings(p->strings),
			 "policy-domain", p->domain, "mx-host", json_array_of_strings(p->mx_hosts),
			 "sts-mode", p->sts_mode, "sts-max-age",
			 p->sts_max_age >= 0 ? json_integer(p->sts_max_age) : NULL, "summary",
			 "total-successful-session-count", (json_int_t)p->successful_sessions,
			 "total-failure-session-count", (json_int_t)p->failed_sessions,
			 "failure-details", failures);
}

json_t *report_to_json(const struct report *r)
{
	json_t *policies;

	if (r->policies == NULL || r->date_start == NULL || r->date_end == NULL)
		return NULL;
	policies = json_array();
	for (guint i = 0; policies != NULL && i < r->policies->len; i++) {
		const struct policy *p = &g_array_index(r->policies, struct policy, i);

		if (json_array_append_new(policies, report_policy_to_json(p)) < 0)
			g_clear_pointer(&policies, json_decref);
	}
	return json_pack("{s:s, s:{s:o, s:o}, s:s?, s:s, s:o, s:o}", "organization-name",
			 r->organization_name, "date-range", "start-datetime",
			 report_datetime_to_json(r->date_start), "end-datetime",
			 report_datetime_to_json(r->date_end), "contact-info", r->contact_info,
			 "report-id", r->report_id, "policies", policies, "warnings",
			 json_array_of_strings(r->warnings));
}
