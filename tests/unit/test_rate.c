/*
 * test_rate.c: [serve] http-rate's table on its own: a budget of N POSTs
 * per address, the wait it names past it, one budget per address, shared
 * by a forked process (as the workers share it), and an address pushed
 * out by a flood of others starting again with a full budget.
 */
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "serve/serve.h"

static void address(guint8 out[16], guint32 n)
{
	memset(out, 0, 16);
	out[10] = out[11] = 0xff;
	out[12] = (guint8)(n >> 24);
	out[13] = (guint8)(n >> 16);
	out[14] = (guint8)(n >> 8);
	out[15] = (guint8)n;
}

static void test_budget(void)
{
	guint8 a[16], b[16];
	guint wait;

	address(a, 0x7f000001);
	address(b, 0x7f000002);
	for (int i = 0; i < 3; i++)
		g_assert_cmpuint(serve_rate_take(a, 3), ==, 0);
	/* A token every 20 s: the next one 20 s away, plus the second begun. */
	wait = serve_rate_take(a, 3);
	g_assert_cmpuint(wait, >=, 20);
	g_assert_cmpuint(wait, <=, 21);
	g_assert_cmpuint(serve_rate_take(b, 3), ==, 0);
}

static void test_shared(void)
{
	guint8 a[16];
	pid_t pid;
	int st = 0;

	address(a, 0xc0000201);
	g_assert_cmpuint(serve_rate_take(a, 2), ==, 0);
	pid = fork();
	if (pid == 0)
		_exit(serve_rate_take(a, 2) == 0 ? 0 : 1);
	g_assert_cmpint(waitpid(pid, &st, 0), ==, pid);
	g_assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* The child took the second token of this process's table. */
	g_assert_cmpuint(serve_rate_take(a, 2), >, 0);
}

static void test_pushed_out(void)
{
	guint8 a[16], other[16];

	address(a, 0xc6336401);
	g_assert_cmpuint(serve_rate_take(a, 1), ==, 0);
	g_assert_cmpuint(serve_rate_take(a, 1), >, 0);
	/* More addresses than the table holds: a is pushed out. */
	for (guint32 n = 0; n < 100000; n++) {
		address(other, 0x0a000000 + n);
		serve_rate_take(other, 1);
	}
	g_assert_cmpuint(serve_rate_take(a, 1), ==, 0);
}

int main(int argc, char **argv)
{
	struct error err = ERROR_INIT;

	g_test_init(&argc, &argv, NULL);
	if (serve_rate_init(&err) < 0)
		g_error("%s", err.msg);
	g_test_add_func("/rate/budget", test_budget);
	g_test_add_func("/rate/shared", test_shared);
	g_test_add_func("/rate/pushed-out", test_pushed_out);
	return g_test_run();
}
