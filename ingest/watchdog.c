/*
 * watchdog.c: max-processing-time and the per-message caps (watchdog.h).
 *
 * A time limit has to hold inside library code we do not control, so it is
 * a signal, not a check in our loops: alarm(2) and a SIGALRM handler that
 * only calls async-signal-safe functions (write, _exit). Its text is
 * formatted when the timer is armed, never in the handler. Exit 75 is the
 * one exit status not chosen by main(): like Postfix's own time limit.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "ingest/decode.h"
#include "ingest/watchdog.h"

static char watchdog_line[160];
static size_t watchdog_len;

static void watchdog_expired(int sig)
{
	ssize_t n = write(STDERR_FILENO, watchdog_line, watchdog_len);

	(void)n;
	_exit(EX_TEMPFAIL);
}

void watchdog_message_begin(const struct config *cfg)
{
	struct sigaction sa;
	int n;

	decode_message_begin(cfg->max_total_report_size, cfg->max_gzip_ratio);
	alarm(0);
	if (cfg->max_processing_time == 0)
		return;
	n = snprintf(watchdog_line, sizeof(watchdog_line),
		     "tlswatch: message not done within max-processing-time (%u s): deferred, "
		     "nothing committed\n",
		     cfg->max_processing_time);
	watchdog_len = n > 0 ? MIN((size_t)n, sizeof(watchdog_line) - 1) : 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = watchdog_expired;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	alarm(cfg->max_processing_time);
}

guint watchdog_pause(void)
{
	return alarm(0);
}

void watchdog_resume(guint left)
{
	if (left > 0)
		alarm(left);
}

void watchdog_message_end(void)
{
	alarm(0);
}
