/*
 * domain.c: normalised domain names and patterns (see domain.h).
 */
#include <string.h>

#include "common/domain.h"
#include "common/pgarray.h"

char *domain_normalise(const char *name)
{
	char *d;
	gsize len;

	if (name == NULL)
		return NULL;
	d = g_ascii_strdown(name, -1);
	len = strlen(d);
	while (len > 0 && d[len - 1] == '.')
		d[--len] = '\0';
	return d;
}

char *domain_pattern_to_like(const char *glob)
{
	g_autofree char *norm = domain_normalise(glob);
	GString *like = g_string_sized_new(strlen(norm) + 8);

	for (const char *s = norm; *s != '\0'; s++) {
		switch (*s) {
		case '*':
			g_string_append_c(like, '%');
			break;
		case '?':
			g_string_append_c(like, '_');
			break;
		case '%':
		case '_':
		case '\\':
			g_string_append_c(like, '\\');
			g_string_append_c(like, *s);
			break;
		default:
			g_string_append_c(like, *s);
		}
	}
	return g_string_free(like, FALSE);
}

/* The array literal of f applied to each of list; NULL for none. */
static char *sql_array(char *const *list, char *(*f)(const char *))
{
	GString *a;

	if (list == NULL || list[0] == NULL)
		return NULL;
	a = g_string_new(NULL);
	for (guint i = 0; list[i] != NULL; i++) {
		g_autofree char *item = f(list[i]);

		pg_array_add(a, item);
	}
	return pg_array_end(a);
}

char *domain_patterns_sql_array(char *const *globs)
{
	return sql_array(globs, domain_pattern_to_like);
}

char *domain_names_sql_array(char *const *names)
{
	return sql_array(names, domain_normalise);
}

void domain_list_add(GPtrArray *into, const GPtrArray *from)
{
	for (guint i = 0; from != NULL && i < from->len; i++) {
		const char *d = g_ptr_array_index(from, i);

		if (!g_ptr_array_find_with_equal_func(into, d, g_str_equal, NULL))
			g_ptr_array_add(into, g_strdup(d));
	}
}
