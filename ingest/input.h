/*
 * input.h: where messages come from: stdin, files, Maildirs, mboxes.
 *
 * Each input is cut into single messages here and handed to
 * ingest_message() (or ingest_bare_report() for a .json/.json.gz/.zip
 * file); nothing here looks inside a message. Files are mapped, not read,
 * so a large mbox costs address space, not memory.
 */
#ifndef TLSWATCH_INPUT_H
#define TLSWATCH_INPUT_H

#include <signal.h>

#include <glib.h>

#include "common/error.h"
#include "ingest/ingest.h"

/* Read all of stdin, keeping at most max bytes: *truncated says that more
 * followed (it is read and dropped, so the MTA's write never fails). On
 * success *out is a new GBytes the caller owns. A read error is ERR_TEMP. */
int input_read_stdin(guint64 max, GBytes **out, gboolean *truncated, struct error *err);

/* Ingest every message at path: a message file (.eml and anything else), a
 * bare report (.json, .json.gz, .gz, .zip, or content that sniffs as one), a
 * Maildir (a folder with cur/ or new/), an mbox file (starting "From ") or
 * a plain folder of any of these, walked recursively in name order.
 * Returns -1 with err set for a path that cannot be read (ERR_USAGE) or a
 * failure that stops the run (ERR_TEMP, ERR_CONFIG: the database). */
int input_ingest_path(struct ingest_ctx *ctx, const char *path, struct error *err);

/* Set from a signal handler (to the signal's number) to stop
 * input_ingest_path between two messages; it then returns 0. */
extern volatile sig_atomic_t input_stop;

/* How many messages input_ingest_path would find at path (for a progress
 * line): the files of a Maildir, the From_ lines of an mbox, 1 for any
 * other file, the sum for a plain folder, 0 for what cannot be read. */
guint input_count_path(const char *path);

#endif
