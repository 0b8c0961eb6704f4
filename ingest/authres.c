/*
 * authres.c: RFC 8601 Authentication-Results, the dkim results (authres.h).
 *
 * The field is read in three steps: comments out (CFWS may hold them
 * anywhere, nested), then the resinfo sections split at ';' outside
 * quoted strings, then each section's "name = value" words. Only what a
 * DKIM result needs is kept: method, result, header.d (or header.i's
 * domain) and header.s.
 */
#include <string.h>

#include "ingest/authres.h"
#include "ingest/dkim.h"

/* The dkim results of RFC 8601 2.7.1. */
static const char *const authres_results[] = { "none",	  "pass",      "fail",	    "policy",
					       "neutral", "temperror", "permerror", NULL };

/* value without its comments, with each quoted string kept whole (quotes
 * and escapes included). A new string. */
static char *authres_strip_comments(const char *value)
{
	GString *out = g_string_new(NULL);
	gboolean quoted = FALSE;
	int depth = 0;

	for (const char *c = value; *c != '\0'; c++) {
		if (*c == '\\' && c[1] != '\0' && (quoted || depth > 0)) {
			if (quoted)
				g_string_append_len(out, c, 2);
			c++;
		} else if (quoted) {
			g_string_append_c(out, *c);
			quoted = *c != '"';
		} else if (*c == '(') {
			depth++;
		} else if (*c == ')' && depth > 0) {
			depth--;
			/* A comment separates words as white space does. */
			if (depth == 0)
				g_string_append_c(out, ' ');
		} else if (depth == 0) {
			g_string_append_c(out, *c);
			quoted = *c == '"';
		}
	}
	return g_string_free(out, FALSE);
}

/* s split at sep outside quoted strings. */
static GPtrArray *authres_split(const char *s, char sep)
{
	GPtrArray *parts = g_ptr_array_new_with_free_func(g_free);
	const char *start = s;
	gboolean quoted = FALSE;

	for (const char *c = s;; c++) {
		if (*c == '\\' && quoted && c[1] != '\0') {
			c++;
		} else if (*c == '"') {
			quoted = !quoted;
		} else if (*c == '\0' || (*c == sep && !quoted)) {
			g_ptr_array_add(parts, g_strstrip(g_strndup(start, (gsize)(c - start))));
			if (*c == '\0')
				break;
			start = c + 1;
		}
	}
	return parts;
}

/* The text of a quoted string that starts at q (after its opening quote),
 * each quoted-pair made its character; up to the closing quote or the
 * end. A new string. */
static char *authres_unquote(const char *q)
{
	GString *out = g_string_new(NULL);

	for (const char *c = q; *c != '\0' && *c != '"'; c++) {
		if (*c == '\\' && c[1] != '\0')
			c++;
		g_string_append_c(out, *c);
	}
	return g_string_free(out, FALSE);
}

/* The words of one section, "name=value" with the white space around '='
 * and '.' taken out, quoted values unquoted. */
static GPtrArray *authres_words(const char *section)
{
	GString *joined = g_string_new(NULL);
	GPtrArray *words;

	for (const char *c = section; *c != '\0'; c++) {
		if (g_ascii_isspace(*c)) {
			const char *next = c;

			while (g_ascii_isspace(*next))
				next++;
			/* Drop the space before '=' or '.', and after. */
			if (*next == '=' || *next == '.' || *next == '\0' ||
			    (joined->len > 0 && strchr("=.", joined->str[joined->len - 1])))
				continue;
			g_string_append_c(joined, ' ');
			c = next - 1;
			continue;
		}
		g_string_append_c(joined, *c);
	}
	words = authres_split(joined->str, ' ');
	g_string_free(joined, TRUE);
	for (guint i = 0; i < words->len; i++) {
		char *w = g_ptr_array_index(words, i);
		char *eq = strchr(w, '=');

		if (eq != NULL && eq[1] == '"') {
			g_autofree char *value = authres_unquote(eq + 2);

			*(eq + 1) = '\0';
			g_ptr_array_index(words, i) = g_strconcat(w, value, NULL);
			g_free(w);
		}
	}
	return words;
}

/* The dkim result of one resinfo section, or NULL when it is another
 * method's. */
static struct dkim_signature *authres_section_dkim(const char *section)
{
	g_autoptr(GPtrArray) words = authres_words(section);
	const char *method = words->len > 0 ? g_ptr_array_index(words, 0) : "";
	struct dkim_signature *sig;

	/* "dkim=pass" or "dkim/1=pass" (a method version). */
	if (g_ascii_strncasecmp(method, "dkim", 4) != 0 || (method[4] != '=' && method[4] != '/'))
		return NULL;
	sig = dkim_signature_new();
	sig->result = g_ascii_strdown(strchr(method, '=') ? strchr(method, '=') + 1 : "", -1);
	/* A result RFC 8601 does not define says nothing we can use. */
	if (!g_strv_contains(authres_results, sig->result)) {
		g_free(sig->result);
		sig->result = g_strdup("permerror");
		sig->error = g_strdup("unknown result in Authentication-Results");
	}
	for (guint i = 1; i < words->len; i++) {
		const char *w = g_ptr_array_index(words, i);
		const char *at;

		if (g_ascii_strncasecmp(w, "header.d=", 9) == 0) {
			g_free(sig->domain);
			sig->domain = g_ascii_strdown(w + 9, -1);
		} else if (g_ascii_strncasecmp(w, "header.i=", 9) == 0 && sig->domain == NULL &&
			   (at = strrchr(w, '@')) != NULL) {
			sig->domain = g_ascii_strdown(at + 1, -1);
		} else if (g_ascii_strncasecmp(w, "header.s=", 9) == 0) {
			g_free(sig->selector);
			sig->selector = g_strdup(w + 9);
		}
	}
	/* An MTA that verified the key did not say which services it
	 * allows: a pass from it is taken as the MTA's word. */
	sig->tlsrpt_key = TRUE;
	return sig;
}

gboolean authres_dkim(GPtrArray *fields, const char *authserv_id, GPtrArray *sigs)
{
	for (guint i = 0; fields != NULL && i < fields->len; i++) {
		const char *value = g_ptr_array_index(fields, i);
		g_autofree char *plain = NULL;
		g_autoptr(GPtrArray) sections = NULL;
		g_auto(GStrv) head = NULL;

		plain = authres_strip_comments(value);
		sections = authres_split(plain, ';');
		/* The first section is the authserv-id, then perhaps a
		 * version number. */
		head = g_strsplit_set(g_ptr_array_index(sections, 0), " \t\r\n", 2);
		if (head[0] == NULL || g_ascii_strcasecmp(head[0], authserv_id) != 0)
			continue;
		for (guint j = 1; j < sections->len; j++) {
			struct dkim_signature *sig =
				authres_section_dkim(g_ptr_array_index(sections, j));

			if (sig != NULL)
				g_ptr_array_add(sigs, sig);
		}
		/* A field of the host without a dkim result (one its DMARC
		 * or SPF milter added on top) says nothing of the signatures:
		 * they are verified here instead. */
		return sigs->len > 0;
	}
	return FALSE;
}
