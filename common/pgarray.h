/*
 * pgarray.h: PostgreSQL array literals ({"a","b",NULL}), built in a
 * GString, for sending many values as one parameter ($1::text[]) instead
 * of building SQL.
 */
#ifndef TLSWATCH_PGARRAY_H
#define TLSWATCH_PGARRAY_H

#include <glib.h>

/* Append s (NULL: SQL NULL) as a quoted element, " and \ escaped. */
void pg_array_add(GString *a, const char *s);

void pg_array_add_int(GString *a, gint64 v);

/* Close the literal ({} when nothing was added) and free a; the caller
 * g_free()s the result. */
char *pg_array_end(GString *a);

/* The literal of a list of strings (NULL: the empty array). The caller
 * g_free()s it. */
char *pg_array_of_strings(const GPtrArray *strings);

#endif
