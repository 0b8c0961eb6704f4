/*
 * log.c: stderr or syslog, one line each (see log.h for why).
 */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#include "common/log.h"

static gboolean use_syslog;
static GPtrArray *held; /* struct held_line *, while log_hold is on */

struct held_line {
	int priority;
	char *text;
};

static void held_line_free(gpointer p)
{
	struct held_line *h = p;

	g_free(h->text);
	g_free(h);
}

void log_use_syslog(void)
{
	if (!use_syslog)
		openlog("tlswatch", LOG_PID, LOG_MAIL);
	use_syslog = TRUE;
}

static void log_write(int priority, const char *line)
{
	if (use_syslog)
		syslog(priority, "%s", line);
	else
		fprintf(stderr, "tlswatch: %s\n", line);
}

/* Newlines would split one event over several Postfix log lines. */
static void log_line(int priority, const char *fmt, va_list ap)
{
	g_autofree char *line = g_strdup_vprintf(fmt, ap);
	struct held_line *h;

	g_strdelimit(line, "\r\n", ' ');
	if (held == NULL) {
		log_write(priority, line);
		return;
	}
	h = g_new(struct held_line, 1);
	h->priority = priority;
	h->text = g_steal_pointer(&line);
	g_ptr_array_add(held, h);
}

void log_hold(void)
{
	if (held == NULL)
		held = g_ptr_array_new_with_free_func(held_line_free);
}

void log_release(const char *first, gboolean warn)
{
	g_autoptr(GPtrArray) lines = g_steal_pointer(&held);
	g_autofree char *line = g_strdup(first);

	if (line != NULL)
		log_write(warn ? LOG_WARNING : LOG_INFO, g_strdelimit(line, "\r\n", ' '));
	for (guint i = 0; lines != NULL && i < lines->len; i++) {
		const struct held_line *h = g_ptr_array_index(lines, i);

		log_write(h->priority, h->text);
	}
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
