/*
 * render_html.c: the digest as HTML for the mail's text/html part and for
 * browsers. Mail clients drop <style>, scripts and SVG, so everything is
 * inline-styled tables and divs; the per-day chart is one table cell per
 * day holding one div.bar (failed sessions stacked in red on top of the
 * successful ones in green). The output is well-formed XHTML, so that any
 * XML parser (and the tests, with xmllint) can read it.
 */
#include "digest/digest.h"

#define CHART_PX 80

static const char *const state_colour[] = {
	[DIGEST_NO_DATA] = "#757575",
	[DIGEST_NOT_READY] = "#c62828",
	[DIGEST_READY] = "#2e7d32",
	[DIGEST_ENFORCING] = "#1565c0",
};

static void html_text(GString *s, const char *text)
{
	g_autofree char *e = g_markup_escape_text(text, -1);

	g_string_append(s, e);
}

static void html_row(GString *s, const char *name, const char *now, const char *before,
		     const char *change)
{
	const char *td = "<td style=\"padding:2px 10px;text-align:right\">";

	g_string_append_printf(s, "<tr><th style=\"padding:2px 10px;text-align:left\">%s</th>",
			       name);
	g_string_append_printf(s, "%s%s</td>%s%s</td>%s%s</td></tr>\n", td, now, td, before, td,
			       change);
}

static void html_totals(GString *s, const struct digest_domain *dd)
{
	const struct digest_totals *c = &dd->cur, *p = &dd->prev;
	char a[32], b[32], x[40];

	g_string_append(s, "<table style=\"border-collapse:collapse;margin:8px 0\">\n"
			   "<tr><th></th><th style=\"padding:2px 10px\">this period</th>"
			   "<th style=\"padding:2px 10px\">previous</th>"
			   "<th style=\"padding:2px 10px\">change</th></tr>\n");
	g_snprintf(a, sizeof(a), "%" G_GINT64_FORMAT, digest_total(c));
	g_snprintf(b, sizeof(b), "%" G_GINT64_FORMAT, digest_total(p));
	g_snprintf(x, sizeof(x), "%+" G_GINT64_FORMAT, digest_total(c) - digest_total(p));
	html_row(s, "sessions", a, b, x);
	g_snprintf(a, sizeof(a), "%" G_GINT64_FORMAT, c->failed);
	g_snprintf(b, sizeof(b), "%" G_GINT64_FORMAT, p->failed);
	g_snprintf(x, sizeof(x), "%+" G_GINT64_FORMAT, c->failed - p->failed);
	html_row(s, "failed", a, b, x);
	g_snprintf(a, sizeof(a), "%.2f%%", digest_rate(c));
	g_snprintf(b, sizeof(b), "%.2f%%", digest_rate(p));
	g_snprintf(x, sizeof(x), "%+.2f points", digest_rate(c) - digest_rate(p));
	html_row(s, "failure rate", a, b, x);
	g_string_append(s, "</table>\n");
}

/* px of CHART_PX for n out of max; at least 1 px for a non-zero n. */
static gint64 html_px(gint64 n, gint64 max)
{
	gint64 px = max > 0 ? n * CHART_PX / max : 0;

	return n > 0 && px == 0 ? 1 : px;
}

static void html_bar(GString *s, const struct digest *d, const struct digest_domain *dd, guint i,
		     gint64 max)
{
	g_autofree char *day = digest_period_day(&d->period, i);
	gint64 ok = dd->day_ok[i], bad = dd->day_failed[i];
	gint64 fpx = bad > 0 ? MAX(html_px(bad, max), 2) : 0;
	gint64 opx = MAX(html_px(ok + bad, max) - fpx, 0);

	g_string_append_printf(s,
			       "<td style=\"vertical-align:bottom;padding:0 2px\">"
			       "<div class=\"bar\" title=\"%s: %" G_GINT64_FORMAT
			       " sessions, %" G_GINT64_FORMAT " failed\" style=\"width:22px\">",
			       day, ok + bad, bad);
	if (fpx > 0)
		g_string_append_printf(
			s, "<div style=\"height:%" G_GINT64_FORMAT "px;background:#c62828\"></div>",
			fpx);
	g_string_append_printf(s,
			       "<div style=\"height:%" G_GINT64_FORMAT
			       "px;background:#2e7d32\"></div></div></td>",
			       opx);
}

static void html_chart(GString *s, const struct digest *d, const struct digest_domain *dd)
{
	gint64 max = 0;

	for (guint i = 0; i < d->period.days; i++)
		max = MAX(max, dd->day_ok[i] + dd->day_failed[i]);
	g_string_append_printf(
		s,
		"<table class=\"chart\" role=\"presentation\" style=\"border-collapse:"
		"collapse;margin:8px 0;height:%dpx\"><tr>",
		CHART_PX);
	for (guint i = 0; i < d->period.days; i++)
		html_bar(s, d, dd, i, max);
	g_string_append(s, "</tr><tr>");
	for (guint i = 0; i < d->period.days; i++) {
		g_autofree char *day = digest_period_day(&d->period, i);

		g_string_append_printf(s,
				       "<td style=\"font-size:10px;color:#757575;text-align:"
				       "center\">%s</td>",
				       day + 8);
	}
	g_string_append(s, "</tr></table>\n");
}

static void html_items(GString *s, const char *title, GPtrArray *list, gboolean reporters)
{
	if (list->len == 0)
		return;
	g_string_append_printf(s,
			       "<h3 style=\"font-size:14px;margin:12px 0 4px\">%s</h3>\n"
			       "<table style=\"border-collapse:collapse\">\n",
			       title);
	for (guint i = 0; i < list->len; i++) {
		const struct digest_item *it = g_ptr_array_index(list, i);

		g_string_append(s, "<tr><td style=\"padding:1px 10px 1px 0\">");
		html_text(s, it->name);
		if (reporters)
			g_string_append_printf(
				s,
				"</td><td style=\"text-align:right\">%" G_GINT64_FORMAT
				" reports, %" G_GINT64_FORMAT " sessions, %" G_GINT64_FORMAT
				" failed</td></tr>\n",
				it->reports, it->sessions, it->failed);
		else
			g_string_append_printf(
				s,
				"</td><td style=\"text-align:right\">%" G_GINT64_FORMAT
				"</td></tr>\n",
				it->sessions);
	}
	g_string_append(s, "</table>\n");
}

static void html_strings(GString *s, const char *title, GPtrArray *list)
{
	if (list->len == 0)
		return;
	g_string_append_printf(s, "<p><b>%s</b>: ", title);
	for (guint i = 0; i < list->len; i++) {
		g_string_append(s, i ? ", " : "");
		html_text(s, g_ptr_array_index(list, i));
	}
	g_string_append(s, "</p>\n");
}

static void html_domain(GString *s, const struct digest *d, const struct digest_domain *dd)
{
	g_string_append(s, "<h2 style=\"font-size:18px;margin:24px 0 4px\">");
	html_text(s, dd->domain);
	g_string_append_printf(s,
			       " <span style=\"background:%s;color:#fff;padding:1px 8px;"
			       "border-radius:3px;font-size:13px\">%s</span></h2>\n<p>",
			       state_colour[dd->state], digest_state_name(dd->state));
	html_text(s, dd->reason);
	g_string_append(s, "</p>\n");
	if (dd->cur.reports == 0 && dd->prev.reports == 0)
		return;
	html_totals(s, dd);
	html_chart(s, d, dd);
	html_items(s, "Failures by result type", dd->result_types, FALSE);
	html_items(s, "Failures by receiving MX", dd->mx_hosts, FALSE);
	html_items(s, "Top sending IPs (failures)", dd->ips, FALSE);
	html_items(s, "Reporters", dd->reporters, TRUE);
	html_items(s, "Policy types (sessions)", dd->policy_types, FALSE);
	html_items(s, "MTA-STS modes (sessions)", dd->sts_modes, FALSE);
	html_strings(s, "No policy found by", dd->no_policy);
	html_strings(s, "Stopped reporting", dd->missing);
}

char *digest_render_html(const struct digest *d)
{
	g_autofree char *subject = digest_subject(d);
	g_autofree char *prev = digest_period_label(&d->prev);
	GString *s = g_string_new("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\">"
				  "<head><meta charset=\"utf-8\"/><title>");

	html_text(s, subject);
	g_string_append(s, "</title></head>\n<body style=\"font-family:Arial,Helvetica,sans-serif;"
			   "font-size:14px;color:#212121;max-width:720px\">\n"
			   "<h1 style=\"font-size:20px\">");
	html_text(s, subject);
	g_string_append_printf(s,
			       "</h1>\n<p style=\"color:#757575\">%u days; previous period %s."
			       "</p>\n",
			       d->period.days, prev);
	if (d->domains->len == 0)
		g_string_append(s, "<p>No reports in this period: nothing to summarise.</p>\n");
	for (guint i = 0; i < d->unmatched->len; i++) {
		g_string_append(s, "<p>No policy domain matches '");
		html_text(s, g_ptr_array_index(d->unmatched, i));
		g_string_append(s, "'.</p>\n");
	}
	for (guint i = 0; i < d->domains->len; i++)
		html_domain(s, d, g_ptr_array_index(d->domains, i));
	g_string_append(s, "</body></html>\n");
	return g_string_free(s, FALSE);
}
