/*
 * test_text.c: text_cut keeps what fits, cuts on a character boundary and
 * never returns more than max bytes.
 */
#include <string.h>

#include "common/text.h"

static char *cut(const char *in, gsize max)
{
	GString *s = g_string_new(in);

	text_cut(s, max);
	return g_string_free(s, FALSE);
}

static void test_cut(void)
{
	g_autofree char *fits = cut("0123456789", 10);
	g_autofree char *over = cut("0123456789a", 10);
	/* "é" is 2 bytes. Into 9 bytes with "...", 6 bytes fit: "abcdef" and
	 * not half of "é"; "abcdé" (6 bytes) whole. */
	g_autofree char *wide = cut("abcdefé12", 9);
	g_autofree char *keep = cut("abcdé12345", 9);

	g_assert_cmpstr(fits, ==, "0123456789");
	g_assert_cmpstr(over, ==, "0123456...");
	g_assert_cmpuint(strlen(over), ==, 10);
	g_assert_cmpstr(wide, ==, "abcdef...");
	g_assert_cmpstr(keep, ==, "abcdé...");
	g_assert_true(g_utf8_validate(wide, -1, NULL) && g_utf8_validate(keep, -1, NULL));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/text/cut", test_cut);
	return g_test_run();
}
