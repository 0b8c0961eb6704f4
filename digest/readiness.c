/*
 * readiness.c: may this domain move its MTA-STS policy from testing to
 * enforce? Under enforce a sending MTA that cannot set up TLS with a valid
 * certificate for an MX the policy names does not deliver, so the failures
 * that would become undelivered mail block the verdict outright; the rest
 * (DANE, DNSSEC) only count towards the failure rate. The verdict is one
 * sentence, so that a digest can be read at a glance.
 */
#include "digest/digest.h"

static const char *const blocking[] = {
	"starttls-not-supported",  "certificate-host-mismatch", "certificate-expired",
	"certificate-not-trusted", "validation-failure",	"sts-policy-fetch-error",
	"sts-policy-invalid",	   "sts-webpki-invalid",	NULL,
};

gboolean digest_blocking_type(const char *result_type)
{
	return g_strv_contains(blocking, result_type);
}

static gboolean digest_mode_seen(const struct digest_domain *dd, const char *mode)
{
	for (guint i = 0; i < dd->sts_modes->len; i++) {
		const struct digest_item *it = g_ptr_array_index(dd->sts_modes, i);

		if (g_ascii_strcasecmp(it->name, mode) == 0)
			return TRUE;
	}
	return FALSE;
}

/* "a, b and c" from the names of list. */
static void digest_join(GString *s, GPtrArray *list)
{
	for (guint i = 0; i < list->len; i++) {
		const struct digest_item *it = g_ptr_array_index(list, i);

		if (i > 0)
			g_string_append(s, i + 1 == list->len ? " and " : ", ");
		g_string_append(s, it->name);
	}
}

static char *digest_enforcing_reason(const struct digest_domain *dd)
{
	GString *s = g_string_new("MTA-STS mode enforce is in effect");

	if (dd->cur.failed == 0)
		return g_string_free(g_string_append(s, " and no session failed."), FALSE);
	g_string_append_printf(s,
			       "; %" G_GINT64_FORMAT " sessions failed (%.2f%%), mail that"
			       " was not delivered over TLS",
			       dd->cur.failed, digest_rate(&dd->cur));
	if (dd->result_types->len > 0) {
		g_string_append(s, ": ");
		digest_join(s, dd->result_types);
		g_string_append(s, " at ");
		digest_join(s, dd->mx_hosts);
	}
	return g_string_free(g_string_append(s, "."), FALSE);
}

/* The unmet conditions, "; "-separated, or an empty string. */
static void digest_problems(GString *s, const struct digest_domain *dd,
			    const struct digest_config *c)
{
	GPtrArray *reps = dd->reporters;
	const char *sep = "";

	if (!digest_mode_seen(dd, "testing")) {
		g_string_append(s, "no reporter saw an MTA-STS policy in testing mode");
		sep = "; ";
	}
	if (dd->blocking_types->len > 0) {
		g_string_append(s, sep);
		digest_join(s, dd->blocking_types);
		g_string_append(s, " failures at ");
		digest_join(s, dd->blocking_mx);
		g_string_append(s, " would bounce under enforce");
		sep = "; ";
	}
	if (reps->len < c->min_reporters) {
		g_string_append_printf(s, "%sonly %u reporter%s (need %u)", sep, reps->len,
				       digest_plural(reps->len), c->min_reporters);
		sep = "; ";
	}
	if (digest_total(&dd->cur) < c->min_sessions) {
		g_string_append_printf(
			s, "%sonly %" G_GINT64_FORMAT " sessions (need %" G_GINT64_FORMAT ")", sep,
			digest_total(&dd->cur), c->min_sessions);
		sep = "; ";
	}
	if (dd->days_with_data < c->min_days) {
		g_string_append_printf(s, "%sreports on only %u day%s (need %u)", sep,
				       dd->days_with_data, digest_plural(dd->days_with_data),
				       c->min_days);
		sep = "; ";
	}
	if (!(digest_rate(&dd->cur) < c->max_failure_rate)) {
		g_string_append_printf(s, "%sfailure rate %.2f%% is not under %g%%", sep,
				       digest_rate(&dd->cur), c->max_failure_rate);
		sep = "; ";
	}
	/* The reports say what senders saw; the live check what is
	 * published now (tlswatch check --save). */
	if (dd->check_date != NULL && (!dd->check_ok || dd->check_failures->len > 0))
		g_string_append_printf(s, "%sthe live check of %s failed%s%s", sep, dd->check_date,
				       dd->check_failures->len ? ": " : "",
				       dd->check_failures->len ? (const char *)g_ptr_array_index(
									 dd->check_failures, 0)
							       : "");
}

void digest_assess(struct digest_domain *dd, const struct digest_config *c)
{
	g_autoptr(GString) s = g_string_new(NULL);

	g_free(dd->reason);
	if (dd->cur.reports == 0) {
		dd->state = DIGEST_NO_DATA;
		dd->reason =
			g_strdup_printf("No reports for %s in this period%s.", dd->domain,
					dd->prev.reports > 0 ? " (there were last period)" : "");
		return;
	}
	if (digest_mode_seen(dd, "enforce")) {
		dd->state = DIGEST_ENFORCING;
		dd->reason = digest_enforcing_reason(dd);
		return;
	}
	digest_problems(s, dd, c);
	if (s->len > 0) {
		dd->state = DIGEST_NOT_READY;
		dd->reason = g_strdup_printf("Not ready for enforce: %s.", s->str);
		return;
	}
	dd->state = DIGEST_READY;
	dd->reason = g_strdup_printf(
		"Ready for enforce: policy in testing mode, %u reporter%s, %" G_GINT64_FORMAT
		" session%s on %u day%s, %.2f%% failed, none of them failures enforce would "
		"bounce.",
		dd->reporters->len, digest_plural(dd->reporters->len), digest_total(&dd->cur),
		digest_plural(digest_total(&dd->cur)), dd->days_with_data,
		digest_plural(dd->days_with_data), digest_rate(&dd->cur));
}
