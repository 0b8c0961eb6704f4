/*
 * test_check.c: MX patterns as RFC 8461 4.1 defines them: a name matches
 * itself (without case), and "*.example.com" stands for exactly one
 * label, never for the domain itself or for two labels.
 */
#include "check/check.h"

static void test_mx_matches(void)
{
	g_assert_true(check_mx_matches("mx1.example.com", "mx1.example.com"));
	g_assert_true(check_mx_matches("MX1.Example.COM", "mx1.example.com"));
	g_assert_true(check_mx_matches("*.example.com", "mx1.example.com"));
	g_assert_true(check_mx_matches("*.example.com", "MX2.EXAMPLE.COM"));
	g_assert_false(check_mx_matches("*.example.com", "example.com"));
	g_assert_false(check_mx_matches("*.example.com", "a.b.example.com"));
	g_assert_false(check_mx_matches("*.example.com", "mx1.example.net"));
	g_assert_false(check_mx_matches("*.example.com", ".example.com"));
	g_assert_false(check_mx_matches("mx1.example.com", "mx2.example.com"));
	g_assert_false(check_mx_matches("mx*.example.com", "mx1.example.com"));
	g_assert_false(check_mx_matches("*example.com", "mx1.example.com"));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/check/mx-matches", test_mx_matches);
	return g_test_run();
}
