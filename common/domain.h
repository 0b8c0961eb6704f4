/*
 * domain.h: one spelling per domain name, and domain patterns as SQL.
 *
 * Reporters write Example.COM., example.com and EXAMPLE.com for one
 * domain; the database keeps one form (policies.policy_domain), so that an
 * index finds all of them. DNS compares names case-insensitively in ASCII
 * only (RFC 4343), so the form is ASCII lower-case, trailing dots removed;
 * other bytes are left as they are.
 */
#ifndef TLSWATCH_DOMAIN_H
#define TLSWATCH_DOMAIN_H

#include <glib.h>

/* name in its stored form; NULL for NULL. The caller g_free()s it. */
char *domain_normalise(const char *name);

/* A shell-style pattern (`*` any run, `?` one character, as
 * g_pattern_match_simple) as a LIKE pattern over normalised names, with
 * LIKE's own `%`, `_` and `\` escaped. The caller g_free()s it. */
char *domain_pattern_to_like(const char *glob);

/* A PostgreSQL text[] literal of the LIKE patterns of globs (a NULL-ended
 * list; NULL or empty: NULL, meaning "every domain"). The caller g_free()s
 * it. */
char *domain_patterns_sql_array(char *const *globs);

/* A PostgreSQL text[] literal of the normalised names (NULL or empty:
 * NULL). The caller g_free()s it. */
char *domain_names_sql_array(char *const *names);

/* Add to into (char *, owning them: g_free) a copy of each name of from
 * (char *; NULL: none) not in it yet: the few domains of a message or a
 * burst, so a list, not a table. */
void domain_list_add(GPtrArray *into, const GPtrArray *from);

#endif
