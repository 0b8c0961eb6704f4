/*
 * text.c: cutting text for people to read in a log line (text.h).
 */
#include "common/text.h"

void text_cut(GString *s, gsize max)
{
	const char *cut;

	if (s->len <= max)
		return;
	/* The character that ends before byte max - 3 is kept whole. */
	cut = g_utf8_find_prev_char(s->str, s->str + max - 2);
	g_string_truncate(s, cut ? (gsize)(cut - s->str) : 0);
	g_string_append(s, "...");
}
