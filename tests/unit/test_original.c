/*
 * test_original.c: reports.original round trips byte for byte, is a
 * standard zlib stream that names a preset dictionary, and refuses what
 * it did not make: truncated, foreign or oversized.
 */
#include <string.h>
#include <zlib.h>

#include "common/original.h"

static const char report[] =
	"{\"organization-name\":\"Company-X\",\"date-range\":{\"start-datetime\":"
	"\"2016-04-01T00:00:00Z\",\"end-datetime\":\"2016-04-01T23:59:59Z\"},"
	"\"contact-info\":\"sts-reporting@company-x.example\",\"report-id\":"
	"\"5065427c-23d3-47ca-b6e0-946ea0e8c4be\",\"policies\":[{\"policy\":{"
	"\"policy-type\":\"sts\",\"policy-string\":[\"version: STSv1\",\"mode: testing\","
	"\"mx: *.mail.company-y.example\",\"max_age: 86400\"],\"policy-domain\":"
	"\"company-y.example\",\"mx-host\":[\"*.mail.company-y.example\"]},\"summary\":{"
	"\"total-successful-session-count\":5326,\"total-failure-session-count\":303},"
	"\"failure-details\":[{\"result-type\":\"certificate-expired\",\"sending-mta-ip\":"
	"\"2001:db8:abcd:0012::1\",\"receiving-mx-hostname\":\"mx1.mail.company-y.example\","
	"\"failed-session-count\":100}]}]}";

static GBytes *inflated(GBytes *z, gsize max, struct error *err)
{
	return original_inflate(g_bytes_get_data(z, NULL), g_bytes_get_size(z), max, err);
}

static void test_round_trip(void)
{
	/* A NUL and bytes that are not UTF-8 come back as they went in. */
	static const char odd[] = "{\"x\":\"\0\xff\xfe\"}";
	/* Past the largest window (32 KiB), with matches from far back. */
	g_autoptr(GString) big = g_string_new(NULL);
	struct {
		const char *data;
		gsize len;
	} cases[] = {
		{ report, sizeof(report) - 1 }, { odd, sizeof(odd) - 1 }, { "", 0 }, { NULL, 0 }
	};

	for (guint i = 0; big->len < 200000; i++)
		g_string_append_printf(big, "{\"n\":%u,\"ip\":\"192.0.2.%u\"}", i * 7919 % 100003,
				       i % 256);
	cases[3].data = big->str;
	cases[3].len = big->len;

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct error err = ERROR_INIT;
		g_autoptr(GBytes) z = original_deflate(cases[i].data, cases[i].len);
		g_autoptr(GBytes) back = NULL;

		g_assert_nonnull(z);
		back = inflated(z, 1 << 20, &err);
		g_assert_nonnull(back);
		g_assert_cmpmem(g_bytes_get_data(back, NULL), (int)g_bytes_get_size(back),
				cases[i].data, (int)cases[i].len);
	}
}

/* RFC 1950: CM 8, FDICT set, and plain zlib asks for the dictionary. The
 * dictionary earns its place: the report takes under half of what it
 * takes without one. */
static void test_format(void)
{
	g_autoptr(GBytes) z = original_deflate(report, sizeof(report) - 1);
	const guchar *b = g_bytes_get_data(z, NULL);
	guchar out[4096];
	uLongf plain_len = compressBound(sizeof(report));
	g_autofree guchar *plain = g_malloc(plain_len);
	z_stream zs = { 0 };

	g_assert_cmpuint(b[0] & 0x0f, ==, 8);
	g_assert_cmpuint((b[0] * 256u + b[1]) % 31, ==, 0);
	g_assert_cmpuint(b[1] & 0x20, ==, 0x20);
	g_assert_cmpint(inflateInit(&zs), ==, Z_OK);
	zs.next_in = (Bytef *)b;
	zs.avail_in = (uInt)g_bytes_get_size(z);
	zs.next_out = out;
	zs.avail_out = sizeof(out);
	g_assert_cmpint(inflate(&zs, Z_NO_FLUSH), ==, Z_NEED_DICT);
	inflateEnd(&zs);
	g_assert_cmpint(compress2(plain, &plain_len, (const Bytef *)report, sizeof(report) - 1, 9),
			==, Z_OK);
	g_assert_cmpuint(g_bytes_get_size(z) * 2, <, plain_len + 80);
	g_assert_cmpuint(g_bytes_get_size(z), <, plain_len);
}

static void test_refused(void)
{
	g_autoptr(GBytes) z = original_deflate(report, sizeof(report) - 1);
	g_autoptr(GBytes) cut = g_bytes_new_from_bytes(z, 0, g_bytes_get_size(z) - 6);
	g_autoptr(GBytes) junk = g_bytes_new_static(report, 40);
	g_autoptr(GBytes) empty = g_bytes_new_static("", 0);
	struct error err = ERROR_INIT;
	struct error over = ERROR_INIT;
	struct error bad = ERROR_INIT;
	struct error none = ERROR_INIT;

	g_assert_null(inflated(cut, 1 << 20, &err));
	g_assert_cmpint(err.cls, ==, ERR_INPUT);
	g_assert_nonnull(strstr(err.msg, "truncated"));
	g_assert_null(inflated(z, 100, &over));
	g_assert_cmpint(over.cls, ==, ERR_INPUT);
	g_assert_nonnull(strstr(over.msg, "larger than 100 bytes"));
	g_assert_null(inflated(junk, 1 << 20, &bad));
	g_assert_cmpint(bad.cls, ==, ERR_INPUT);
	g_assert_null(inflated(empty, 1 << 20, &none));
	g_assert_cmpint(none.cls, ==, ERR_INPUT);
	error_clear(&err);
	error_clear(&over);
	error_clear(&bad);
	error_clear(&none);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/original/round-trip", test_round_trip);
	g_test_add_func("/original/format", test_format);
	g_test_add_func("/original/refused", test_refused);
	return g_test_run();
}
