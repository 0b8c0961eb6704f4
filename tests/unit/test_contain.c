/*
 * test_contain.c: the parse child on its own (ingest/contain.c). A job's
 * text says what the child does with it: echo it, crash, abort, fail for
 * memory, allocate past the limit, keep memory, sleep. Every way a child
 * can end becomes a reason, and the next job gets a working child.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ingest/contain.h"

#define MiB (1024 * 1024)

static GPtrArray *kept; /* what "keep" jobs hold on to, in the child */

static int job_run(gpointer data, GBytes *job, GBytes **result, struct error *err)
{
	g_autofree char *text = g_strndup(g_bytes_get_data(job, NULL), g_bytes_get_size(job));
	char *answer;

	/* GTest's own handler would print "Bail out!" for the child's fatal
	 * message before contain.c's writer sees it: in the child, GLib's. */
	g_log_set_default_handler(g_log_default_handler, NULL);

	if (g_str_equal(text, "crash"))
		raise(SIGSEGV);
	if (g_str_equal(text, "abort"))
		abort();
	if (g_str_equal(text, "temp"))
		return error_set(err, ERR_TEMP, "out of memory in the test");
	if (g_str_equal(text, "hog")) /* past the 64 MiB limit: g_malloc gives up */
		for (;;)
			memset(g_malloc(MiB), 1, MiB);
	if (g_str_equal(text, "keep")) { /* 40 MiB, past half the limit, kept */
		for (int i = 0; i < 40; i++)
			g_ptr_array_add(kept, memset(g_malloc(MiB), 1, MiB));
	}
	if (g_str_equal(text, "sleep"))
		sleep(30);
	answer = g_strdup_printf("%s %d", text, (int)getpid());
	*result = g_bytes_new_take(answer, strlen(answer));
	return 0;
}

static struct contain *parser_new(void)
{
	const struct contain_limits limits = { 64 * MiB, 1024, 2 };

	kept = g_ptr_array_new();
	return contain_new(&limits, job_run, NULL);
}

/* Run job: its reason (or NULL) and, for a result, the child's pid. */
static char *run(struct contain *c, const char *job, int *pid)
{
	g_autoptr(GBytes) bytes = g_bytes_new(job, strlen(job));
	g_autoptr(GBytes) result = NULL;
	struct error err = ERROR_INIT;
	char *why = NULL;

	g_assert_cmpint(contain_run(c, bytes, &result, &why, &err), ==, 0);
	g_assert_cmpint(err.cls, ==, ERR_NONE);
	g_assert_true((result == NULL) != (why == NULL));
	*pid = 0;
	if (result != NULL) {
		g_autofree char *text =
			g_strndup(g_bytes_get_data(result, NULL), g_bytes_get_size(result));
		char *space = strrchr(text, ' ');

		g_assert_nonnull(space);
		g_assert_true(g_str_has_prefix(text, job));
		*pid = (int)g_ascii_strtoll(space + 1, NULL, 10);
	}
	return why;
}

/* ASan handles SIGSEGV itself (a report, exit 1), allocates from a heap
 * it mapped up front (out of RLIMIT_DATA's reach) and keeps no mallinfo:
 * under it those cases cannot say what they say here. */
#ifdef __SANITIZE_ADDRESS__
#define SKIP_UNDER_ASAN(why)                                                                       \
	do {                                                                                       \
		g_test_skip("ASan build: " why);                                                   \
		return;                                                                            \
	} while (0)
#else
#define SKIP_UNDER_ASAN(why) ((void)0)
#endif

/* One child for many jobs; a new one after a child ends. */
static void test_reuse(void)
{
	struct contain *c = parser_new();
	struct error err = ERROR_INIT;
	char *why;
	int first, pid;

	g_assert_cmpint(contain_start(c, &err), ==, 0);
	g_assert_null(run(c, "echo", &first));
	g_assert_null(run(c, "echo again", &pid));
	g_assert_cmpint(pid, ==, first);

	why = run(c, "abort", &pid);
	g_assert_true(g_str_has_prefix(why, "the parser died of signal 6 (Aborted"));
	g_free(why);
	g_assert_null(run(c, "echo", &pid));
	g_assert_cmpint(pid, !=, first);

	why = run(c, "temp", &pid);
	g_assert_cmpstr(why, ==,
			"parsing it needs more memory than max-parse-memory (64 MiB): out of "
			"memory in the test");
	g_free(why);

	why = run(c, "sleep", &pid);
	g_assert_cmpstr(why, ==, "parsing it took longer than max-processing-time (2 s)");
	g_free(why);
	g_assert_null(run(c, "echo", &pid));
	contain_free(c);
	g_ptr_array_unref(kept);
}

static void test_crash(void)
{
	struct contain *c;
	char *why;
	int pid;

	SKIP_UNDER_ASAN("its SIGSEGV handler turns the signal into exit 1");
	c = parser_new();
	why = run(c, "crash", &pid);
	g_assert_true(g_str_has_prefix(why, "the parser died of signal 11 (Segmentation fault"));
	g_free(why);
	g_assert_null(run(c, "echo", &pid));
	contain_free(c);
	g_ptr_array_unref(kept);
}

/* Past the limit, and past half of it. */
static void test_memory(void)
{
	struct contain *c;
	char *why;
	int first, pid;

	SKIP_UNDER_ASAN("its heap is out of RLIMIT_DATA's reach and has no mallinfo");
	c = parser_new();
	why = run(c, "hog", &pid);
	g_assert_true(g_str_has_prefix(why, "parsing it needs more memory than max-parse-memory "
					    "(64 MiB): "));
	g_assert_nonnull(strstr(why, "failed to allocate"));
	g_free(why);

	/* A child left holding past half its budget answers, then leaves. */
	g_assert_null(run(c, "keep", &first));
	g_assert_null(run(c, "echo", &pid));
	g_assert_cmpint(pid, !=, first);
	contain_free(c);
	g_ptr_array_unref(kept);
}

/* An answer over max_result is refused, the child killed. */
static void test_answer_cap(void)
{
	struct contain *c = parser_new();
	g_autofree char *job = g_strnfill(2000, 'x');
	char *why;
	int pid;

	why = run(c, job, &pid);
	g_assert_cmpstr(why, ==, "the parser's answer is over 1024 bytes");
	g_free(why);
	g_assert_null(run(c, "echo", &pid));
	contain_free(c);
	g_ptr_array_unref(kept);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/contain/reuse", test_reuse);
	g_test_add_func("/contain/crash", test_crash);
	g_test_add_func("/contain/memory", test_memory);
	g_test_add_func("/contain/answer-cap", test_answer_cap);
	return g_test_run();
}
