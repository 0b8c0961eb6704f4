/*
 * error.c: the single error convention (see error.h).
 */
#include <sysexits.h>
#include <stdarg.h>

#include "common/error.h"

int error_set(struct error *err, enum error_class cls, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	g_free(err->msg);
	va_start(ap, fmt);
	err->msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	err->cls = cls;
	return -1;
}

int error_prefix(struct error *err, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *prefix = NULL;
	char *msg;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	prefix = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	msg = g_strdup_printf("%s: %s", prefix, err->msg ? err->msg : "unknown error");
	g_free(err->msg);
	err->msg = msg;
	return -1;
}

void error_clear(struct error *err)
{
	if (err == NULL)
		return;
	g_clear_pointer(&err->msg, g_free);
	err->cls = ERR_NONE;
}

int error_exit_code(enum error_class cls, gboolean in_mta)
{
	switch (cls) {
	case ERR_NONE:
	case ERR_INPUT:
		return EX_OK;
	case ERR_TEMP:
		return EX_TEMPFAIL;
	case ERR_CONFIG:
		return in_mta ? EX_TEMPFAIL : EX_CONFIG;
	case ERR_USAGE:
		return in_mta ? EX_TEMPFAIL : EX_USAGE;
	}
	return EX_TEMPFAIL;
}
