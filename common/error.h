/*
 * error.h: how a function says what went wrong.
 *
 * Every fallible function returns 0 or -1 and, on -1, fills a caller-owned
 * struct error: a class that decides what happens to the message, and one
 * line of text for stderr, the log and the quarantine reason. Only main()
 * turns a class into an exit code (error_exit_code), because the MTA acts on
 * that code.
 */
#ifndef TLSWATCH_ERROR_H
#define TLSWATCH_ERROR_H

#include <glib.h>

enum error_class {
	ERR_NONE = 0,
	ERR_INPUT,  /* this input can never succeed: quarantine it, exit 0 */
	ERR_TEMP,   /* could not finish now (database down, no memory): exit 75 */
	ERR_CONFIG, /* a configuration file is wrong: 75 with a message, else 78 */
	ERR_USAGE,  /* a person typed a bad command line: 64 */
};

struct error {
	enum error_class cls;
	char *msg; /* owned; g_free'd by error_clear */
};

#define ERROR_INIT                                                                                 \
	{                                                                                          \
		ERR_NONE, NULL                                                                     \
	}

/* Record cls and the formatted message (replacing any earlier one); returns -1
 * so that `return error_set(err, ...)` reads naturally. err may be NULL. */
int error_set(struct error *err, enum error_class cls, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

/* Prepend "<formatted>: " to the message already in err; returns -1. */
int error_prefix(struct error *err, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* Free the message and reset to ERR_NONE; err may be NULL. */
void error_clear(struct error *err);

/* The sysexits.h code for a class; in_mta is true while a message from the
 * MTA is in hand, where a configuration error must defer (75), not bounce. */
int error_exit_code(enum error_class cls, gboolean in_mta);

#endif
