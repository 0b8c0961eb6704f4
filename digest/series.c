/*
 * series.c: a domain's per-day figures as a line of at most SERIES_MAX
 * buckets, for the sparklines and the HTML chart.
 *
 * A digest of a week shows seven days; one of --since 3000d would print a
 * 3,000-character line that no terminal or mail client wraps usefully. So
 * past SERIES_MAX days the days are summed into weeks, and past
 * SERIES_MAX weeks into runs of 30 days (or a multiple, whatever keeps
 * the line within SERIES_MAX): whole buckets counted from the first day,
 * the last one possibly shorter.
 */
#include "common/figure.h"
#include "digest/digest.h"

#define SERIES_MAX 62

static const char *const bars[] = { "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" };

char *digest_sparkline(const gint64 *values, guint n)
{
	GString *s = g_string_new(NULL);
	gint64 max = 0;

	for (guint i = 0; i < n; i++)
		max = MAX(max, values[i]);
	for (guint i = 0; i < n; i++) {
		if (values[i] < 0)
			g_string_append(s, "·"); /* no report */
		else if (values[i] == 0)
			g_string_append(s, bars[0]);
		else /* in double: values may reach G_MAXINT64 */
			g_string_append(s, bars[(guint)((double)values[i] * 7.0 / (double)max)]);
	}
	return g_string_free(s, FALSE);
}

void digest_series_init(struct digest_series *s, const struct digest *d,
			const struct digest_domain *dd)
{
	guint days = d->period.days;
	gboolean capped = FALSE; /* the daily figures were flagged already */

	s->bucket = 1;
	if (days > SERIES_MAX)
		s->bucket = days <= SERIES_MAX * 7
				    ? 7
				    : (days + SERIES_MAX * 30 - 1) / (SERIES_MAX * 30) * 30;
	s->n = days ? (days + s->bucket - 1) / s->bucket : 0;
	s->sessions = g_new(gint64, MAX(s->n, 1));
	s->failed = g_new(gint64, MAX(s->n, 1));
	for (guint b = 0; b < s->n; b++) {
		gint64 reports = 0;

		s->sessions[b] = s->failed[b] = 0;
		for (guint i = b * s->bucket; i < MIN((b + 1) * s->bucket, days); i++) {
			figure_add(&s->sessions[b], figure_sum(dd->day_ok[i], dd->day_failed[i]),
				   &capped);
			figure_add(&s->failed[b], dd->day_failed[i], &capped);
			figure_add(&reports, dd->day_reports[i], &capped);
		}
		if (reports == 0)
			s->sessions[b] = s->failed[b] = -1;
	}
}

void digest_series_release(struct digest_series *s)
{
	g_free(s->sessions);
	g_free(s->failed);
}

char *digest_series_unit(const struct digest_series *s)
{
	if (s->bucket == 1)
		return g_strdup("day");
	if (s->bucket == 7)
		return g_strdup("week");
	return g_strdup_printf("%u days", s->bucket);
}

char *digest_series_sparklines(const struct digest *d, const struct digest_domain *dd,
			       char **sessions, char **failed)
{
	struct digest_series s;
	char *unit;

	digest_series_init(&s, d, dd);
	*sessions = digest_sparkline(s.sessions, s.n);
	*failed = digest_sparkline(s.failed, s.n);
	unit = digest_series_unit(&s);
	digest_series_release(&s);
	return unit;
}

char *digest_series_label(const struct digest_series *s, const struct digest *d, guint b)
{
	g_autofree char *day = digest_period_day(&d->period, b * s->bucket);

	if (s->bucket == 1)
		return g_steal_pointer(&day);
	if (s->bucket == 7)
		return g_strdup_printf("week of %s", day);
	return g_strdup_printf("%u days from %s", s->bucket, day);
}
