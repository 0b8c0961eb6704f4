/*
 * period.c: which reports a digest covers. Periods are whole UTC days
 * because reports are (RFC 8460 asks for one UTC day each) and because the
 * per-day series buckets reports by their start date in UTC; a report
 * belongs to the period when its date_start falls inside it.
 */
#include <stdio.h>
#include <string.h>

#include "digest/digest.h"

#define DAY 86400

/* "2024-06-01" → unix seconds at 00:00 UTC. */
static int digest_parse_date(const char *s, const char *opt, gint64 *out, struct error *err)
{
	g_autoptr(GDateTime) dt = NULL;
	int y = 0, m = 0, d = 0, n = 0;

	if (s == NULL || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || s[n] != '\0' ||
	    n != 10 || (dt = g_date_time_new_utc(y, m, d, 0, 0, 0)) == NULL)
		return error_set(err, ERR_USAGE, "--%s: expected a date YYYY-MM-DD, got '%s'", opt,
				 s ? s : "");
	*out = g_date_time_to_unix(dt);
	return 0;
}

/* "7d", "2w" → days. */
static int digest_parse_since(const char *s, guint *days, struct error *err)
{
	guint64 n = 0;
	g_autofree char *num = NULL;
	size_t len = strlen(s);
	int unit;

	if (len < 2 || (s[len - 1] != 'd' && s[len - 1] != 'w'))
		goto bad;
	unit = s[len - 1] == 'w' ? 7 : 1;
	num = g_strndup(s, len - 1);
	if (!g_ascii_string_to_unsigned(num, 10, 1, 3660 / unit, &n, NULL))
		goto bad;
	*days = (guint)n * unit;
	return 0;
bad:
	return error_set(err, ERR_USAGE, "--since: expected days or weeks like 7d or 2w, got '%s'",
			 s);
}

int digest_period_parse(const char *since, const char *from, const char *to, gint64 now,
			struct digest_period *p, struct digest_period *prev, struct error *err)
{
	guint days = 7;
	gint64 a = 0, b = 0;

	if (since != NULL && (from != NULL || to != NULL))
		return error_set(err, ERR_USAGE, "--since and --from/--to exclude each other");
	if ((from == NULL) != (to == NULL))
		return error_set(err, ERR_USAGE, "--from and --to go together");
	if (from != NULL) {
		if (digest_parse_date(from, "from", &a, err) < 0 ||
		    digest_parse_date(to, "to", &b, err) < 0)
			return -1;
		if (b < a)
			return error_set(err, ERR_USAGE, "--to %s is before --from %s", to, from);
		b += DAY; /* --to is inclusive */
		if ((b - a) / DAY > 3660)
			return error_set(err, ERR_USAGE, "period longer than 3660 days");
	} else {
		if (since != NULL && digest_parse_since(since, &days, err) < 0)
			return -1;
		b = now - now % DAY; /* today 00:00 UTC: the last complete day ends there */
		a = b - (gint64)days * DAY;
	}
	p->from = a;
	p->to = b;
	p->days = (guint)((b - a) / DAY);
	prev->to = a;
	prev->from = a - (b - a);
	prev->days = p->days;
	return 0;
}

char *digest_period_day(const struct digest_period *p, guint i)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(p->from + (gint64)i * DAY);

	return g_date_time_format(dt, "%Y-%m-%d");
}

char *digest_period_label(const struct digest_period *p)
{
	g_autofree char *a = digest_period_day(p, 0);
	g_autofree char *b = digest_period_day(p, p->days ? p->days - 1 : 0);

	return g_strdup_printf("%s..%s", a, b);
}
