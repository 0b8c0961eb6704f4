/*
 * log.c: stderr or syslog, one line each (see log.h for why).
 */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#include "common/log.h"

static gboolean use_syslog;

void log_use_syslog(void)
{
	if (!use_syslog)
		openlog("tlswatch", LOG_PID, LOG_MAIL);
	use_syslog = TRUE;
}

/* Newlines would split one event over several Postfix log lines. */
static void log_line(int priority, const char *fmt, va_list ap)
{
	g_autofree char *line = g_strdup_vprintf(fmt, ap);

	g_strdelimit(line, "\r\n", ' ');
	if (use_syslog)
		syslog(priority, "%s", line);
	else
		fprintf(stderr, "tlswatch: %s\n", line);
}

void log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(LOG_ERR, fmt, ap);
	va_end(ap);
}

void log_warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(LOG_INFO, fmt, ap);
	va_end(ap);
}
