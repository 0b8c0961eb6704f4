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

#include <glib.h>

#include "common/error.h"
#include "ingest/ingest.h"

/* Read all of stdin, keeping at most max bytes: *truncated says that more
 * followed (it is read and dropped, so the MTA's write never fails). On
 * success *out is a new GBytes the caller owns. A read error is ERR_TEMP. */
int input_read_stdin(guint64 max, GBytes **out, gboolean *truncated, struct error *err);

/* Ingest every message at path: a message file (.eml and anything else), a
 * bare report (.json, .json.gz, .gz, .zip, or content that sniffs as one), a
 * Maildir (a folder with cur/ or new/) or an mbox file (starting "From ").
 * Returns -1 with err set for a path that cannot be read (ERR_USAGE) or a
 * failure that stops the run (ERR_TEMP, ERR_CONFIG: the database). */
int input_ingest_path(struct ingest_ctx *ctx, const char *path, struct error *err);

#endif
