/*
 * test_log.c: log_hold keeps every line, in order, until log_release,
 * which writes its first line before them (the MTA's status line, known
 * last, must be the first Postfix sees); without a hold lines go out at
 * once.
 */
#include "common/log.h"

static void test_hold(void)
{
	if (g_test_subprocess()) {
		log_info("at once");
		log_hold();
		log_warning("detail one");
		log_info("detail two");
		log_release("stored 1 report, 1 alert not sent: example.com", FALSE);
		log_info("after the release");
		return;
	}
	g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
	g_test_trap_assert_passed();
	g_test_trap_assert_stderr("tlswatch: at once\n"
				  "tlswatch: stored 1 report, 1 alert not sent: example.com\n"
				  "tlswatch: detail one\n"
				  "tlswatch: detail two\n"
				  "tlswatch: after the release\n");
}

/* No first line (a failure: the error goes first), and a line break in
 * the first line would split it in Postfix's log. */
static void test_release_without_first(void)
{
	if (g_test_subprocess()) {
		log_hold();
		log_error("cannot connect to database");
		log_release(NULL, FALSE);
		log_hold();
		log_release("quarantined: a\nb", TRUE);
		return;
	}
	g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
	g_test_trap_assert_passed();
	g_test_trap_assert_stderr("tlswatch: cannot connect to database\n"
				  "tlswatch: quarantined: a b\n");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/log/hold", test_hold);
	g_test_add_func("/log/release-without-first", test_release_without_first);
	return g_test_run();
}
