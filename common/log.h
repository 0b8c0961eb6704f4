/*
 * log.h: one line per problem, the way MTA helpers log.
 *
 * stderr is public: Postfix copies a pipe program's output into its log and
 * into bounce notices. So every line is "tlswatch: <what>", never holds a
 * secret, and never starts with a digit (Postfix would read "4.x.x" or
 * "5.x.x" as a status). With log_use_syslog() lines go to syslog, facility
 * mail, instead.
 */
#ifndef TLSWATCH_LOG_H
#define TLSWATCH_LOG_H

#include <glib.h>

/* Send further lines to syslog (facility LOG_MAIL, ident "tlswatch"). */
void log_use_syslog(void);

/* An error: stderr or syslog LOG_ERR. */
void log_error(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

/* A warning: stderr or syslog LOG_WARNING. */
void log_warning(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

/* A normal event (one summary line per message): stderr or LOG_INFO. */
void log_info(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

/* Keep further lines in memory, in order, until log_release: in the MTA's
 * pipe the first line must say the outcome, which is known only once the
 * alerts after the commit have run. */
void log_hold(void);

/* Write first (a line of its own, a warning when warn, else info; NULL for
 * none), then every held line, and stop holding. */
void log_release(const char *first, gboolean warn);

#endif
