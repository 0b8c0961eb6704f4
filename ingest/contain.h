/*
 * contain.h: run the parsers of one message in a child process.
 *
 * GMime, zlib, libarchive and jansson read bytes from anyone. A bug in one
 * of them (a recursion that overflows the stack, an abort, an allocation
 * that fails) must not kill the delivery agent: Postfix takes a signal as
 * "try again later" and retries the message until its queue lifetime ends.
 * So, as Postfix and OpenSMTPD keep their untrusted parsers apart, the
 * parse runs in a forked child under limits (memory, time, no core file),
 * and only its result comes back, over a pipe; the parent keeps the raw
 * message and the database connection. A child that dies or breaks a
 * limit is the message's fault, said in words the parent can quarantine
 * it with. Only the parent's own failures (fork, pipe) are temporary.
 */
#ifndef TLSWATCH_CONTAIN_H
#define TLSWATCH_CONTAIN_H

#include <glib.h>

#include "common/error.h"

struct contain_limits {
	guint64 max_memory; /* bytes the child may allocate beyond what it inherits */
	guint64 max_result; /* bytes of result the parent reads */
	guint max_seconds;  /* wall-clock seconds, 0 for no limit */
};

/* The work done in the child: a new reference in *result, or -1 with err
 * (ERR_TEMP when memory ran out, which the limit makes the input's fault). */
typedef int (*contain_fn)(gpointer data, GBytes **result, struct error *err);

/* Run fn(data) in a child under limits. Returns 0 with *result (a new
 * reference, the caller's) when the child finished its work; 0 with *why (a
 * new string, the caller's) when the child failed, died or broke a limit;
 * -1 with err (ERR_TEMP) when no child could be run. */
int contain_run(const struct contain_limits *limits, contain_fn fn, gpointer data, GBytes **result,
		char **why, struct error *err);

#endif
