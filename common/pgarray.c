/*
 * pgarray.c: PostgreSQL array literals (see pgarray.h).
 */
#include <string.h>

#include "common/pgarray.h"

/* The first element opens the literal: a is empty until then. */
static void pg_array_next(GString *a)
{
	g_string_append_c(a, a->len > 0 ? ',' : '{');
}

void pg_array_add(GString *a, const char *s)
{
	pg_array_next(a);
	if (s == NULL) {
		g_string_append(a, "NULL");
		return;
	}
	g_string_append_c(a, '"');
	while (*s != '\0') {
		gsize plain = strcspn(s, "\"\\");

		g_string_append_len(a, s, (gssize)plain);
		s += plain;
		if (*s != '\0') {
			g_string_append_c(a, '\\');
			g_string_append_c(a, *s++);
		}
	}
	g_string_append_c(a, '"');
}

void pg_array_add_int(GString *a, gint64 v)
{
	pg_array_next(a);
	g_string_append_printf(a, "%" G_GINT64_FORMAT, v);
}

char *pg_array_end(GString *a)
{
	if (a->len == 0)
		g_string_append_c(a, '{');
	g_string_append_c(a, '}');
	return g_string_free(a, FALSE);
}

char *pg_array_of_strings(const GPtrArray *strings)
{
	GString *a = g_string_new(NULL);

	for (guint i = 0; strings != NULL && i < strings->len; i++)
		pg_array_add(a, g_ptr_array_index(strings, i));
	return pg_array_end(a);
}
