/*
 * render_markdown.c: the digest as Markdown, for chat tools, tickets and
 * wikis. The same figures as the text form, as headings, a table of
 * totals and bullet lists; names are escaped so a reporter's name cannot
 * inject formatting.
 */
#include <string.h>

#include "digest/digest.h"

static void md_escaped(GString *s, const char *text)
{
	for (const char *p = text; *p; p++) {
		if (strchr("\\`*_[]<>|#", *p) != NULL)
			g_string_append_c(s, '\\');
		g_string_append_c(s, *p);
	}
}

static void md_items(GString *s, const char *title, GPtrArray *list, gboolean reporters)
{
	if (list->len == 0)
		return;
	g_string_append_printf(s, "\n**%s**\n\n", title);
	for (guint i = 0; i < list->len; i++) {
		const struct digest_item *it = g_ptr_array_index(list, i);

		g_string_append(s, "- ");
		md_escaped(s, it->name);
		if (reporters)
			g_string_append_printf(s,
					       ": %" G_GINT64_FORMAT " report%s, %" G_GINT64_FORMAT
					       " session%s, %" G_GINT64_FORMAT " failed\n",
					       it->reports, digest_plural(it->reports),
					       it->sessions, digest_plural(it->sessions),
					       it->failed);
		else
			g_string_append_printf(s, ": %" G_GINT64_FORMAT "\n", it->sessions);
	}
}

static void md_strings(GString *s, const char *title, GPtrArray *list)
{
	if (list->len == 0)
		return;
	g_string_append_printf(s, "\n**%s**: ", title);
	for (guint i = 0; i < list->len; i++) {
		g_string_append(s, i ? ", " : "");
		md_escaped(s, g_ptr_array_index(list, i));
	}
	g_string_append_c(s, '\n');
}

static void md_totals(GString *s, const struct digest_domain *dd)
{
	const struct digest_totals *c = &dd->cur, *p = &dd->prev;

	g_string_append(s,
			"\n| | this period | previous | change |\n| --- | ---: | ---: | ---: |\n");
	g_string_append_printf(s,
			       "| sessions | %" G_GINT64_FORMAT " | %" G_GINT64_FORMAT
			       " | %+" G_GINT64_FORMAT " |\n",
			       digest_total(c), digest_total(p), digest_total(c) - digest_total(p));
	g_string_append_printf(s,
			       "| failed | %" G_GINT64_FORMAT " | %" G_GINT64_FORMAT
			       " | %+" G_GINT64_FORMAT " |\n",
			       c->failed, p->failed, c->failed - p->failed);
	g_string_append_printf(s, "| failure rate | %.2f%% | %.2f%% | %+.2f points |\n",
			       digest_rate(c), digest_rate(p), digest_rate(c) - digest_rate(p));
}

static void md_domain(GString *s, const struct digest *d, const struct digest_domain *dd)
{
	g_autofree char *spark = NULL, *fspark = NULL, *unit = NULL;
	g_autofree char *unauthenticated = digest_unauthenticated_sentence(dd);
	g_autofree char *check = digest_check_sentence(dd);

	g_string_append(s, "\n## ");
	md_escaped(s, dd->domain);
	g_string_append_printf(s, ": %s\n\n%s\n", digest_state_name(dd->state), dd->reason);
	/* Before the figures: a domain may have nothing else. */
	if (unauthenticated != NULL)
		md_strings(s, unauthenticated, dd->unauthenticated_senders);
	if (check != NULL) {
		g_string_append(s, "\n**");
		md_escaped(s, check);
		g_string_append(s, "**\n");
	}
	for (guint i = 0; i < dd->check_failures->len; i++) {
		g_string_append(s, "- ");
		md_escaped(s, g_ptr_array_index(dd->check_failures, i));
		g_string_append_c(s, '\n');
	}
	if (dd->cur.reports == 0 && dd->prev.reports == 0)
		return;
	md_totals(s, dd);
	unit = digest_series_sparklines(d, dd, &spark, &fspark);
	g_string_append_printf(s,
			       "\nSessions per %s: `%s` (%" G_GINT64_FORMAT
			       " report%s on %u of %u day%s)\n\nFailed per %s: `%s`\n",
			       unit, spark, dd->cur.reports, digest_plural(dd->cur.reports),
			       dd->days_with_data, d->period.days, digest_plural(d->period.days),
			       unit, fspark);
	if (dd->capped)
		g_string_append(s,
				"\n*Capped:* some figures reached 9223372036854775807, the "
				"largest count kept: a report claims more sessions than exist.\n");
	md_items(s, "Failures by result type", dd->result_types, FALSE);
	md_items(s, "Failures by receiving MX", dd->mx_hosts, FALSE);
	md_items(s, "Top sending IPs (failures)", dd->ips, FALSE);
	md_items(s, "Reporters", dd->reporters, TRUE);
	md_items(s, "Policy types (sessions)", dd->policy_types, FALSE);
	md_items(s, "MTA-STS modes (sessions)", dd->sts_modes, FALSE);
	md_strings(s, "No policy found by", dd->no_policy);
	md_strings(s, "Stopped reporting", dd->missing);
}

char *digest_render_markdown(const struct digest *d)
{
	g_autofree char *label = digest_period_label(&d->period);
	g_autofree char *prev = digest_period_label(&d->prev);
	GString *s = g_string_new(NULL);

	g_string_append_printf(s, "# TLS report digest %s\n\n%u day%s; previous period %s.\n",
			       label, d->period.days, digest_plural(d->period.days), prev);
	if (d->domains->len == 0)
		g_string_append(s, "\nNo reports in this period: nothing to summarise.\n");
	for (guint i = 0; i < d->unmatched->len; i++) {
		g_string_append(s, "\nNo policy domain matches `");
		g_string_append(s, g_ptr_array_index(d->unmatched, i));
		g_string_append(s, "`.\n");
	}
	for (guint i = 0; i < d->domains->len; i++)
		md_domain(s, d, g_ptr_array_index(d->domains, i));
	return g_string_free(s, FALSE);
}
