/*
 * test_watchdog.c: max-processing-time stops a stuck message with exit 75
 * and one line on stderr; re-arming per message and 0 (off) both hold; the
 * per-message decode caps are restarted from the configuration.
 */
#include <sys/wait.h>
#include <unistd.h>

#include "ingest/decode.h"
#include "ingest/watchdog.h"

/* A message that never finishes: the child must exit 75 within ~1 s,
 * with the line on stderr. */
static void test_expires(void)
{
	g_autofree char *path = g_build_filename(g_get_tmp_dir(), "test_watchdog.XXXXXX", NULL);
	g_autofree char *text = NULL;
	int fd = g_mkstemp(path), status = 0;
	pid_t pid;

	g_assert_cmpint(fd, >=, 0);
	pid = fork();
	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		struct config cfg;

		dup2(fd, STDERR_FILENO);
		config_init(&cfg);
		cfg.max_processing_time = 1;
		watchdog_message_begin(&cfg);
		for (int i = 0; i < 30; i++)
			sleep(1);
		_exit(0); /* not reached: the watchdog exits first */
	}
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 75);
	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	g_assert_cmpstr(text, ==,
			"tlswatch: message not done within max-processing-time (1 s): deferred, "
			"nothing committed\n");
	close(fd);
	unlink(path);
}

/* Re-armed per message: three messages of 0.6 s each under a 1 s limit
 * pass; 0 turns the timer off. */
static void test_rearm_and_off(void)
{
	if (g_test_subprocess()) {
		struct config cfg;

		config_init(&cfg);
		cfg.max_processing_time = 1;
		for (int i = 0; i < 3; i++) {
			watchdog_message_begin(&cfg);
			g_usleep(600 * 1000);
		}
		cfg.max_processing_time = 0;
		watchdog_message_begin(&cfg);
		g_usleep(1500 * 1000);
		return;
	}
	g_test_trap_subprocess(NULL, 20 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
	g_test_trap_assert_passed();
}

/* The decode caps come from the configuration of each message. */
static void test_decode_caps(void)
{
	static const char json[] = "{\"organization-name\": \"x\"}";
	GBytes *in = g_bytes_new_static(json, sizeof(json) - 1);
	struct config cfg;
	struct error err = ERROR_INIT;
	GBytes *out;

	config_init(&cfg);
	cfg.max_processing_time = 0;
	cfg.max_total_report_size = 30;
	watchdog_message_begin(&cfg);
	out = decode_payload(in, 1024, NULL, &err);
	g_assert_nonnull(out);
	g_bytes_unref(out);
	g_assert_null(decode_payload(in, 1024, NULL, &err));
	g_assert_true(g_str_has_suffix(err.msg, "max-total-report-size for this message"));
	error_clear(&err);
	watchdog_message_begin(&cfg); /* the next message starts afresh */
	out = decode_payload(in, 1024, NULL, &err);
	g_assert_nonnull(out);
	g_bytes_unref(out);
	g_bytes_unref(in);
	decode_message_begin(0, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/watchdog/expires", test_expires);
	g_test_add_func("/watchdog/rearm-and-off", test_rearm_and_off);
	g_test_add_func("/watchdog/decode-caps", test_decode_caps);
	return g_test_run();
}
