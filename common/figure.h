/*
 * figure.h: sums of session counts that cannot wrap.
 *
 * A report may claim any count up to 2^63 - 1: that is legal JSON, and
 * anyone can mail a rua= address. Two such reports overflow an int64, and
 * a wrapped sum is a wrong figure (a negative session count, a failure
 * rate of -50 %) that nothing downstream could tell from a right one. So
 * every sum of counts saturates at G_MAXINT64 and says that it did: the
 * caller keeps a flag per figure it shows and prints the cap with a
 * warning, never a wrong number and never a failure. PostgreSQL sums in
 * numeric, which does not overflow; figure_read saturates what it returns.
 */
#ifndef TLSWATCH_FIGURE_H
#define TLSWATCH_FIGURE_H

#include <errno.h>

#include <glib.h>

/* *sum += n, stopping at the int64 bounds; *capped is set when the sum
 * reaches G_MAXINT64 (or G_MININT64), untouched otherwise. */
static inline void figure_add(gint64 *sum, gint64 n, gboolean *capped)
{
	if (__builtin_add_overflow(*sum, n, sum))
		*sum = n > 0 ? G_MAXINT64 : G_MININT64;
	if (*sum == G_MAXINT64 || *sum == G_MININT64)
		*capped = TRUE;
}

/* a + b, saturated, for figures computed on the fly (a total of
 * successful and failed sessions). */
static inline gint64 figure_sum(gint64 a, gint64 b)
{
	gboolean ignored = FALSE;

	figure_add(&a, b, &ignored);
	return a;
}

/* A decimal figure from the database (a numeric sum may exceed int64),
 * saturated; *capped is set when it was. */
static inline gint64 figure_read(const char *text, gboolean *capped)
{
	gint64 v;

	errno = 0;
	v = g_ascii_strtoll(text, NULL, 10);
	if (errno == ERANGE || v == G_MAXINT64 || v == G_MININT64)
		*capped = TRUE;
	return v;
}

#endif
