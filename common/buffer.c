/*
 * buffer.c: a byte buffer that reports running out of memory (see
 * buffer.h).
 */
#include <string.h>

#include "common/buffer.h"

int buffer_reserve(struct buffer *b, gsize n)
{
	return buffer_reserve_within(b, n, G_MAXSIZE);
}

int buffer_reserve_within(struct buffer *b, gsize n, gsize limit)
{
	gsize want, alloc;
	guint8 *data;

	if (n > G_MAXSIZE - b->len)
		return -1;
	want = b->len + n;
	if (want <= b->alloc)
		return 0;
	/* Doubling keeps appends linear; past half of gsize or past limit,
	 * just enough. */
	alloc = MAX(b->alloc, 4096);
	while (alloc < want)
		alloc = alloc <= G_MAXSIZE / 2 ? alloc * 2 : want;
	if (alloc > limit)
		alloc = MAX(want, limit);
	data = g_try_realloc(b->data, alloc);
	if (data == NULL)
		return -1;
	b->data = data;
	b->alloc = alloc;
	return 0;
}

int buffer_append(struct buffer *b, const void *data, gsize n)
{
	if (buffer_reserve(b, n) < 0)
		return -1;
	if (n > 0)
		memcpy(b->data + b->len, data, n);
	b->len += n;
	return 0;
}

GBytes *buffer_steal(struct buffer *b)
{
	GBytes *bytes = g_bytes_new_take(b->data, b->len);

	*b = (struct buffer)BUFFER_INIT;
	return bytes;
}

void buffer_clear(struct buffer *b)
{
	g_free(b->data);
	*b = (struct buffer)BUFFER_INIT;
}
