/*
 * render_html.c: the digest as HTML for the mail's text/html part and for
 * browsers. Mail clients drop <style>, scripts and SVG, so everything is
 * inline-styled tables and divs; the chart is one table cell per day
 * (or week, see series.c) holding one div.bar: sessions in green, and in
 * a row of their own the failure rates in red (div.rate). The output is
 * well-formed XHTML, so that any XML parser (and the tests, with xmllint)
 * can read it.
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

/* px of height for v out of max; at least 1 px for a non-zero v. In
 * double: sessions may reach G_MAXINT64. */
static int html_px(double v, double max, int height)
{
	int px = max > 0 ? (int)(v * height / max) : 0;

	return v > 0 && px == 0 ? 1 : px;
}

/* One cell: a bar of px in colour, titled; class names what it measures. */
static void html_cell(GString *s, const char *class, const char *title, int px, const char *colour)
{
	g_string_append_printf(s,
			       "<td style=\"vertical-align:bottom;padding:0 2px\">"
			       "<div class=\"%s\" title=\"",
			       class);
	html_text(s, title);
	g_string_append_printf(s,
			       "\" style=\"width:22px\"><div style=\"height:%dpx;background:%s\">"
			       "</div></div></td>",
			       px, colour);
}

/* Two rows of bars per bucket of the series: sessions, and under them the
 * failure rate on its own scale (the period's worst bucket is full
 * height), so that 0.5 % failed on a bad day stands out instead of
 * hiding in a 1 px sliver of the sessions bar. Buckets without reports
 * are empty cells. */
static void html_chart(GString *s, const struct digest *d, const struct digest_domain *dd)
{
	struct digest_series sr;
	g_autofree char *unit = NULL;
	double max = 0, max_rate = 0;

	digest_series_init(&sr, d, dd);
	unit = digest_series_unit(&sr);
	for (guint i = 0; i < sr.n; i++) {
		if (sr.sessions[i] <= 0)
			continue;
		max = MAX(max, (double)sr.sessions[i]);
		max_rate = MAX(max_rate, (double)sr.failed[i] / (double)sr.sessions[i]);
	}
	g_string_append_printf(
		s,
		"<table class=\"chart\" role=\"presentation\" style=\"border-collapse:"
		"collapse;margin:8px 0\"><tr style=\"height:%dpx\">",
		CHART_PX);
	for (guint i = 0; i < sr.n; i++) {
		g_autofree char *label = digest_series_label(&sr, d, i);
		g_autofree char *title = g_strdup_printf(
			"%s: %" G_GINT64_FORMAT " sessions, %" G_GINT64_FORMAT " failed", label,
			MAX(sr.sessions[i], 0), MAX(sr.failed[i], 0));

		html_cell(s, "bar", title, html_px((double)sr.sessions[i], max, CHART_PX),
			  "#2e7d32");
	}
	g_string_append_printf(s,
			       "<td style=\"font-size:10px;color:#757575\">sessions per %s</td>"
			       "</tr><tr style=\"height:%dpx\">",
			       unit, CHART_PX / 2);
	for (guint i = 0; i < sr.n; i++) {
		double rate =
			sr.sessions[i] > 0 ? (double)sr.failed[i] / (double)sr.sessions[i] : 0;
		g_autofree char *label = digest_series_label(&sr, d, i);
		g_autofree char *title = g_strdup_printf("%s: %.3f%% failed", label, 100 * rate);

		html_cell(s, "rate", title, html_px(rate, max_rate, CHART_PX / 2), "#c62828");
	}
	g_string_append_printf(s,
			       "<td style=\"font-size:10px;color:#757575\">failure rate, "
			       "0 to %.3f%%</td></tr><tr>",
			       100 * max_rate);
	for (guint i = 0; i < sr.n; i++) {
		g_autofree char *day = digest_period_day(&d->period, i * sr.bucket);

		g_string_append_printf(s,
				       "<td style=\"font-size:10px;color:#757575;text-align:"
				       "center\">%s</td>",
				       day + 8);
	}
	g_string_append(s, "<td></td></tr></table>\n");
	digest_series_release(&sr);
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
				" report%s, %" G_GINT64_FORMAT " session%s, %" G_GINT64_FORMAT
				" failed</td></tr>\n",
				it->reports, digest_plural(it->reports), it->sessions,
				digest_plural(it->sessions), it->failed);
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
	g_autofree char *unauthenticated = digest_unauthenticated_sentence(dd);
	g_autofree char *check = digest_check_sentence(dd);

	g_string_append(s, "<h2 style=\"font-size:18px;margin:24px 0 4px\">");
	html_text(s, dd->domain);
	g_string_append_printf(s,
			       " <span style=\"background:%s;color:#fff;padding:1px 8px;"
			       "border-radius:3px;font-size:13px\">%s</span></h2>\n<p>",
			       state_colour[dd->state], digest_state_name(dd->state));
	html_text(s, dd->reason);
	g_string_append(s, "</p>\n");
	/* Before the figures: a domain may have nothing else. */
	if (unauthenticated != NULL)
		html_strings(s, unauthenticated, dd->unauthenticated_senders);
	if (check != NULL) {
		g_string_append(s, "<p><b>");
		html_text(s, check);
		g_string_append(s, "</b></p>\n");
	}
	for (guint i = 0; i < dd->check_failures->len; i++) {
		g_string_append(s, i == 0 ? "<ul>\n<li>" : "<li>");
		html_text(s, g_ptr_array_index(dd->check_failures, i));
		g_string_append(s, i + 1 == dd->check_failures->len ? "</li>\n</ul>\n" : "</li>\n");
	}
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
			       "</h1>\n<p style=\"color:#757575\">%u day%s; previous period %s."
			       "</p>\n",
			       d->period.days, digest_plural(d->period.days), prev);
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
