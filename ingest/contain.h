/*
 * contain.h: run the parsers of each message in a child process.
 *
 * GMime, zlib, libarchive and jansson read bytes from anyone. A bug in one
 * of them (a recursion that overflows the stack, an abort, an allocation
 * that fails) must not kill the delivery agent: Postfix takes a signal as
 * "try again later" and retries the message until its queue lifetime ends.
 * So, as Postfix and OpenSMTPD keep their untrusted parsers apart, parsing
 * happens in a child process under limits (memory, time, no core file):
 * the parent sends it a job, the child answers with what it found, and
 * the parent keeps the raw message and the database connection. A child
 * that dies or breaks a limit is the message's fault, said in words the
 * parent can quarantine it with; the next job gets a new child. Only the
 * parent's own failures (fork, socket) are temporary.
 *
 * The child lives for many jobs: forking costs in proportion to the
 * parent's memory (1.2 ms for a small process here, 20 ms at 64 MiB), so
 * it is forked once, early, while the parent is small (contain_start).
 */
#ifndef TLSWATCH_CONTAIN_H
#define TLSWATCH_CONTAIN_H

#include <glib.h>

#include "common/error.h"

struct contain_limits {
	guint64 max_memory; /* bytes the child may allocate beyond what it inherits */
	guint64 max_result; /* bytes of one answer the parent reads */
	guint max_seconds;  /* wall-clock seconds per job, 0 for no limit */
};

/* The work done in the child for one job, with the data given to
 * contain_new: a new reference in *result, or -1 with err (ERR_TEMP when
 * memory ran out, which the limit makes the input's fault). */
typedef int (*contain_fn)(gpointer data, GBytes *job, GBytes **result, struct error *err);

struct contain;

/* A parser for jobs, under limits (copied): fn(data, ...) in the child
 * (data borrowed, read by the child as it was at contain_start). No child
 * yet. Returns a new struct the caller frees with contain_free. */
struct contain *contain_new(const struct contain_limits *limits, contain_fn fn, gpointer data);

/* Fork the child now, while this process is small. Returns -1 with err
 * (ERR_TEMP) when it cannot. */
int contain_start(struct contain *c, struct error *err);

/* Run fn(job) in the child (started first if there is none). Returns 0
 * with *result (a new reference, the caller's) when the child finished the
 * job; 0 with *why (a new string, the caller's) when it failed, died or
 * broke a limit; -1 with err (ERR_TEMP) when no child could be run. */
int contain_run(struct contain *c, GBytes *job, GBytes **result, char **why, struct error *err);

/* End the child (it exits at end of file) and free c; NULL is fine. */
void contain_free(struct contain *c);

#endif
