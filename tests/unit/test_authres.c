/*
 * test_authres.c: the dkim results of an Authentication-Results field
 * (RFC 8601): comments (nested, holding ';'), quoted strings (holding ';'
 * and escapes), white space around '=', method versions, the trusted
 * host's topmost field only (none when it has no dkim result), and
 * results RFC 8601 does not define. Each
 * expected value is read off the field by hand.
 */
#include "ingest/authres.h"
#include "ingest/dkim.h"

/* The dkim results of the fields (NULL-terminated) for authserv-id mx,
 * as "result domain selector" lines joined by '|'; "(none)" when no field
 * is mx's. */
static char *results(const char *const *fields)
{
	g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) sigs = g_ptr_array_new_with_free_func(dkim_signature_free);
	GString *out = g_string_new(NULL);

	for (gsize i = 0; fields[i] != NULL; i++)
		g_ptr_array_add(list, g_strdup(fields[i]));
	if (!authres_dkim(list, "mx.example.com", sigs))
		g_string_append(out, "(none)");
	for (guint i = 0; i < sigs->len; i++) {
		const struct dkim_signature *sig = g_ptr_array_index(sigs, i);

		g_string_append_printf(out, "%s%s %s %s", i ? "|" : "", sig->result,
				       sig->domain ? sig->domain : "-",
				       sig->selector ? sig->selector : "-");
	}
	return g_string_free(out, FALSE);
}

#define CHECK(want, ...)                                                                           \
	do {                                                                                       \
		const char *const fields[] = { __VA_ARGS__, NULL };                                \
		g_autofree char *got = results(fields);                                            \
		g_assert_cmpstr(got, ==, want);                                                    \
	} while (0)

static void test_syntax(void)
{
	CHECK("pass example.net s1",
	      "mx.example.com; dkim=pass (a comment (nested; with a semicolon)) "
	      "header.d=Example.NET header.s=s1");
	CHECK("fail x.example -",
	      "mx.example.com; dkim=fail reason=\"bad; very bad\" header.d=x.example; spf=pass "
	      "smtp.mailfrom=y.example");
	CHECK("pass x.example s",
	      "mx.example.com 1; dkim/1 = pass header . d = x.example header.s=s");
	CHECK("pass ex\"ample.net -", "mx.example.com; dkim=pass header.d=\"ex\\\"ample.net\"");
	CHECK("pass i.example -", "mx.example.com; dkim=pass header.i=user@I.example");
	CHECK("pass a.example a|fail b.example b",
	      "mx.example.com; dkim=pass header.d=a.example header.s=a; dkim=fail "
	      "header.d=b.example header.s=b");
	CHECK("permerror x.example -", "mx.example.com; dkim=maybe header.d=x.example");
	/* No dkim result in the host's field: the signatures are verified
	 * instead. */
	CHECK("(none)", "mx.example.com; spf=pass smtp.mailfrom=x.example");
	CHECK("(none)", "mx.example.com; none");
	/* Unbalanced quote and comment: read to the end, never past it. */
	CHECK("pass x.example -", "mx.example.com; dkim=pass header.d=x.example (open");
	CHECK("pass x.example -", "mx.example.com; dkim=pass header.d=x.example reason=\"open\\");
}

static void test_trusted_host(void)
{
	CHECK("(none)", "other.example.com; dkim=pass header.d=x.example");
	CHECK("(none)", "mx.example.com.evil; dkim=pass header.d=x.example");
	CHECK("none - -", "other.example.com; dkim=pass header.d=x.example",
	      "MX.Example.COM; dkim=none", "mx.example.com; dkim=pass header.d=forged.example");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/authres/syntax", test_syntax);
	g_test_add_func("/authres/trusted-host", test_trusted_host);
	return g_test_run();
}
