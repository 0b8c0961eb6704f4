/*
 * buffer.h: a byte buffer that reports running out of memory.
 *
 * GByteArray aborts the process when an allocation fails (g_realloc). For
 * the buffers whose size the sender decides (a message on stdin, an
 * inflated attachment) that abort would be a crash where README promises
 * exit 75 ("could not finish now"): these grow with g_try_realloc instead
 * and let the caller say so.
 */
#ifndef TLSWATCH_BUFFER_H
#define TLSWATCH_BUFFER_H

#include <glib.h>

struct buffer {
	guint8 *data;
	gsize len;   /* bytes in use */
	gsize alloc; /* bytes allocated */
};

#define BUFFER_INIT                                                                                \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

/* Room for n more bytes after len. Returns -1, b unchanged, when memory
 * (or gsize) runs out. */
int buffer_reserve(struct buffer *b, gsize n);

/* buffer_reserve, never allocating more than limit bytes in all unless
 * len + n needs it: for a buffer with a cap, so that the last bytes
 * before the cap do not double the allocation past it. */
int buffer_reserve_within(struct buffer *b, gsize n, gsize limit);

/* Append n bytes of data; -1 as buffer_reserve. */
int buffer_append(struct buffer *b, const void *data, gsize n);

/* The bytes in use as a new GBytes the caller owns; b is left empty. */
GBytes *buffer_steal(struct buffer *b);

/* Free what b holds; b is left empty and reusable. */
void buffer_clear(struct buffer *b);

#endif
