/*
 * render_text.c: the plain-text digest (stdout, and the text/plain part of
 * the mail). One block per domain, the verdict first: a postmaster reads
 * the first two lines and stops unless something is wrong. The per-day
 * series is a Unicode sparkline, so it survives any mail client.
 */
#include "digest/digest.h"

/* "12000 (previous 11000, +9.1%)" */
static void text_change(GString *s, gint64 now, gint64 before)
{
	g_string_append_printf(s, "%" G_GINT64_FORMAT " (previous %" G_GINT64_FORMAT, now, before);
	if (before > 0)
		g_string_append_printf(s, ", %+.1f%%",
				       100.0 * (double)(now - before) / (double)before);
	g_string_append(s, ")");
}

static void text_items(GString *s, const char *title, GPtrArray *list)
{
	if (list->len == 0)
		return;
	g_string_append_printf(s, "  %-18s", title);
	for (guint i = 0; i < list->len; i++) {
		const struct digest_item *it = g_ptr_array_index(list, i);

		g_string_append_printf(s, "%s%s %" G_GINT64_FORMAT, i ? ", " : "", it->name,
				       it->sessions);
	}
	g_string_append_c(s, '\n');
}

static void text_strings(GString *s, const char *title, GPtrArray *list)
{
	if (list->len == 0)
		return;
	g_string_append_printf(s, "  %-18s", title);
	for (guint i = 0; i < list->len; i++)
		g_string_append_printf(s, "%s%s", i ? ", " : "",
				       (char *)g_ptr_array_index(list, i));
	g_string_append_c(s, '\n');
}

static void text_reporters(GString *s, GPtrArray *list)
{
	for (guint i = 0; i < list->len; i++) {
		const struct digest_item *it = g_ptr_array_index(list, i);

		g_string_append_printf(s,
				       "  %-18s%s: %" G_GINT64_FORMAT " report%s, %" G_GINT64_FORMAT
				       " session%s, %" G_GINT64_FORMAT " failed\n",
				       i ? "" : "reporters", it->name, it->reports,
				       digest_plural(it->reports), it->sessions,
				       digest_plural(it->sessions), it->failed);
	}
}

static void text_domain(GString *s, const struct digest *d, const struct digest_domain *dd)
{
	g_autofree char *spark = NULL, *fspark = NULL, *unit = NULL, *a = NULL, *b = NULL;
	g_autofree char *unauthenticated = digest_unauthenticated_sentence(dd);
	g_autofree char *check = digest_check_sentence(dd);

	g_string_append_printf(s, "\n%s: %s\n  %s\n", dd->domain, digest_state_name(dd->state),
			       dd->reason);
	/* Before the figures: a domain may have nothing else. */
	if (unauthenticated != NULL) {
		g_autofree char *title = g_strconcat(unauthenticated, ":", NULL);

		text_strings(s, title, dd->unauthenticated_senders);
	}
	if (check != NULL)
		g_string_append_printf(s, "  %s\n", check);
	for (guint i = 0; i < dd->check_failures->len; i++)
		g_string_append_printf(s, "    %s\n",
				       (char *)g_ptr_array_index(dd->check_failures, i));
	if (dd->cur.reports == 0 && dd->prev.reports == 0)
		return;
	g_string_append(s, "  sessions          ");
	text_change(s, digest_total(&dd->cur), digest_total(&dd->prev));
	g_string_append(s, "\n  successful        ");
	text_change(s, dd->cur.successful, dd->prev.successful);
	g_string_append(s, "\n  failed            ");
	text_change(s, dd->cur.failed, dd->prev.failed);
	g_string_append_printf(s, "\n  failure rate      %.2f%% (previous %.2f%%, %+.2f points)\n",
			       digest_rate(&dd->cur), digest_rate(&dd->prev),
			       digest_rate(&dd->cur) - digest_rate(&dd->prev));
	g_string_append_printf(s, "  reports           %" G_GINT64_FORMAT " on %u of %u day%s\n",
			       dd->cur.reports, dd->days_with_data, d->period.days,
			       digest_plural(d->period.days));
	unit = digest_series_sparklines(d, dd, &spark, &fspark);
	a = g_strdup_printf("sessions per %s", unit);
	b = g_strdup_printf("failed per %s", unit);
	g_string_append_printf(s, "  %-17s %s\n  %-17s %s\n", a, spark, b, fspark);
	if (dd->capped)
		g_string_append(s, "  (capped)          some figures reached 9223372036854775807, "
				   "the largest count kept: a report claims more sessions than "
				   "exist\n");
	text_items(s, "result types", dd->result_types);
	text_items(s, "receiving MX", dd->mx_hosts);
	text_items(s, "sending IPs", dd->ips);
	text_reporters(s, dd->reporters);
	text_items(s, "policy types", dd->policy_types);
	text_items(s, "MTA-STS modes", dd->sts_modes);
	text_strings(s, "no policy found", dd->no_policy);
	text_strings(s, "stopped reporting", dd->missing);
}

char *digest_render_text(const struct digest *d)
{
	g_autofree char *label = digest_period_label(&d->period);
	g_autofree char *prev = digest_period_label(&d->prev);
	GString *s = g_string_new(NULL);

	g_string_append_printf(s, "TLS report digest %s (%u day%s; previous period %s)\n", label,
			       d->period.days, digest_plural(d->period.days), prev);
	if (d->domains->len == 0)
		g_string_append(s, "\nNo reports in this period: nothing to summarise.\n");
	for (guint i = 0; i < d->unmatched->len; i++)
		g_string_append_printf(s, "\nNo policy domain matches '%s'.\n",
				       (char *)g_ptr_array_index(d->unmatched, i));
	for (guint i = 0; i < d->domains->len; i++)
		text_domain(s, d, g_ptr_array_index(d->domains, i));
	return g_string_free(s, FALSE);
}

char *digest_subject(const struct digest *d)
{
	g_autofree char *label = digest_period_label(&d->period);
	struct digest_totals cur, prev;
	g_autofree char *who = NULL;

	digest_overall(d, &cur, &prev);
	if (d->domains->len == 1)
		who = g_strdup(((struct digest_domain *)g_ptr_array_index(d->domains, 0))->domain);
	else
		who = g_strdup_printf("%u domains", d->domains->len);
	if (cur.reports == 0)
		return g_strdup_printf("TLS report digest for %s: no reports, %s", who, label);
	return g_strdup_printf("TLS report digest for %s: %.2f%% failed, %s", who,
			       digest_rate(&cur), label);
}
