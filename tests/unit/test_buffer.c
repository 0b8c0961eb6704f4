/*
 * test_buffer.c: a buffer grows by doubling, and a buffer with a limit
 * never allocates past it for bytes that fit under it.
 */
#include <string.h>

#include "common/buffer.h"

/* Appends grow the allocation by doubling, from 4 KiB. */
static void test_doubling(void)
{
	struct buffer b = BUFFER_INIT;
	guint8 chunk[1000];

	memset(chunk, 'x', sizeof(chunk));
	for (int i = 0; i < 5; i++)
		g_assert_cmpint(buffer_append(&b, chunk, sizeof(chunk)), ==, 0);
	g_assert_cmpuint(b.len, ==, 5000);
	g_assert_cmpuint(b.alloc, ==, 8192);
	g_assert_cmpint(buffer_reserve(&b, 0), ==, 0);
	g_assert_cmpint(buffer_reserve(&b, G_MAXSIZE), ==, -1);
	g_assert_cmpuint(b.alloc, ==, 8192);
	buffer_clear(&b);
}

/* A cap of 10,001 bytes (10,000 and the one that tells it is passed):
 * the step from 8,192 that doubling would make 16,384 stops at the
 * limit, and only a request past the limit goes past it, by no more than
 * asked. */
static void test_within(void)
{
	struct buffer b = BUFFER_INIT;

	g_assert_cmpint(buffer_reserve_within(&b, 8000, 10001), ==, 0);
	g_assert_cmpuint(b.alloc, ==, 8192);
	b.len = 8000;
	g_assert_cmpint(buffer_reserve_within(&b, 2001, 10001), ==, 0);
	g_assert_cmpuint(b.alloc, ==, 10001);
	b.len = 10001;
	g_assert_cmpint(buffer_reserve_within(&b, 10, 10001), ==, 0);
	g_assert_cmpuint(b.alloc, ==, 10011);
	buffer_clear(&b);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/buffer/doubling", test_doubling);
	g_test_add_func("/buffer/within", test_within);
	return g_test_run();
}
