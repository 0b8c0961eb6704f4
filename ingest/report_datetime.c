/*
 * report_datetime.c: the RFC 3339 date-times of a report's date-range
 * (report_parse_datetime in report.h), to section 5.6 of the RFC and its
 * one leniency, no zone at all; report.c turns what it says into fields
 * and warnings.
 */
#include "ingest/report.h"

/* n ASCII digits at s; stops at the first non-digit (so never reads past NUL). */
static gboolean report_digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!g_ascii_isdigit(s[i]))
			return FALSE;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return TRUE;
}

/* The zone at s: Z, z, +HH:MM, -HH:MM or nothing; *offset in seconds. */
static gboolean report_parse_zone(const char *s, int *offset, gboolean *no_zone)
{
	int oh, om;

	*offset = 0;
	*no_zone = *s == '\0';
	if (*s == '\0' || ((*s == 'Z' || *s == 'z') && s[1] == '\0'))
		return TRUE;
	if ((*s != '+' && *s != '-') || !report_digits(s + 1, 2, &oh) || s[3] != ':' ||
	    !report_digits(s + 4, 2, &om) || s[6] != '\0' || oh > 23 || om > 59)
		return FALSE;
	*offset = (*s == '-' ? -1 : 1) * (oh * 3600 + om * 60);
	return TRUE;
}

/*
 * RFC 3339 section 5.6 exactly: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM),
 * plus no zone at all (read as UTC, *no_zone set). 't' and 'z' are accepted
 * because RFC 3339 allows lower case; a space instead of 'T' is rejected, as
 * is a leap second (:60, which GDateTime cannot hold). Fractional seconds are
 * kept to the microsecond. The result is in UTC.
 */
GDateTime *report_parse_datetime(const char *s, gboolean *no_zone)
{
	int y, mo, d, h, mi, sec, offset, ndig = 0;
	gint64 usec = 0;
	gboolean nz;
	g_autoptr(GTimeZone) tz = NULL;
	g_autoptr(GDateTime) local = NULL;
	g_autoptr(GDateTime) exact = NULL;

	if (no_zone != NULL)
		*no_zone = FALSE;
	if (s == NULL || !report_digits(s, 4, &y) || s[4] != '-' || !report_digits(s + 5, 2, &mo) ||
	    s[7] != '-' || !report_digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
	    !report_digits(s + 11, 2, &h) || s[13] != ':' || !report_digits(s + 14, 2, &mi) ||
	    s[16] != ':' || !report_digits(s + 17, 2, &sec) || h > 23 || mi > 59 || sec > 59)
		return NULL;
	s += 19;
	if (*s == '.') {
		for (s++; g_ascii_isdigit(*s); s++, ndig++)
			if (ndig < 6)
				usec = usec * 10 + (*s - '0');
		if (ndig == 0)
			return NULL;
		for (; ndig < 6; ndig++)
			usec *= 10;
	}
	if (!report_parse_zone(s, &offset, &nz))
		return NULL;
	tz = nz ? g_time_zone_new_utc() : g_time_zone_new_offset(offset);
	local = g_date_time_new(tz, y, mo, d, h, mi, sec);
	if (local == NULL || (exact = g_date_time_add(local, usec)) == NULL)
		return NULL;
	if (no_zone != NULL)
		*no_zone = nz;
	return g_date_time_to_utc(exact);
}
