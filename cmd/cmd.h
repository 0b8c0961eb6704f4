/*
 * cmd.h: the subcommands, thin wrappers over the stages.
 *
 * Each takes the arguments after its name and returns the process exit
 * status (sysexits.h); main() only dispatches. Option parsing, opening the
 * configuration and the database are done here, once per run.
 */
#ifndef TLSWATCH_CMD_H
#define TLSWATCH_CMD_H

#include "common/config.h"
#include "common/error.h"

int cmd_ingest(int argc, char **argv);
int cmd_db(int argc, char **argv);
int cmd_quarantine(int argc, char **argv);
int cmd_digest(int argc, char **argv);
int cmd_alert(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_fetch(int argc, char **argv);
int cmd_check(int argc, char **argv);

/* Parse argv with entries (may be NULL) plus the common --config option,
 * then load the configuration into cfg. Returns 0, or the exit status to
 * return after printing why: 64 for usage and 78 for configuration, except
 * while a message from the MTA is in hand (stdin_is_mail and no argument
 * left after the options, or options that did not parse), where it is 75. */
int cmd_setup(int *argc, char ***argv, const char *params, const char *summary,
	      const GOptionEntry *entries, gboolean stdin_is_mail, struct config *cfg);

/* --now TIME (RFC 3339 or @unix-seconds), to replay a run as of then; NULL
 * is the clock. ERR_USAGE on nonsense. */
int cmd_parse_now(const char *s, gint64 *now, struct error *err);

/* Log err and return the exit status for its class. */
int cmd_fail(struct error *err, gboolean in_mta);

#endif
