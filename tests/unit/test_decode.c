/*
 * test_decode.c: sniffing, gunzip and unzip under a cap, pass-through.
 *
 * gzip input is made here with zlib and zip input with libarchive's writer,
 * so each test shows the exact bytes it feeds in; the bomb for the memory
 * test is tests/fixtures/bomb.json.gz (see make-fixtures.sh).
 */
#include <string.h>
#include <sys/resource.h>

#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>

#include "ingest/decode.h"

#define MIB (1024u * 1024u)

static const char doc[] = "{\"organization-name\":\"Decode Test Corp\","
			  "\"report-id\":\"decode-test-1\",\"policies\":[]}\n";

/* gzip (RFC 1952, one member) of data, as a gzip tool would write it. */
static GByteArray *gz_make(const void *data, gsize len)
{
	z_stream zs;
	GByteArray *out = g_byte_array_new();

	memset(&zs, 0, sizeof(zs));
	g_assert_cmpint(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), ==,
			Z_OK);
	g_byte_array_set_size(out, (guint)deflateBound(&zs, (uLong)len));
	zs.next_in = (Bytef *)data;
	zs.avail_in = (uInt)len;
	zs.next_out = out->data;
	zs.avail_out = out->len;
	g_assert_cmpint(deflate(&zs, Z_FINISH), ==, Z_STREAM_END);
	g_byte_array_set_size(out, (guint)zs.total_out);
	deflateEnd(&zs);
	return out;
}

static GBytes *gz_bytes(const void *data, gsize len)
{
	return g_byte_array_free_to_bytes(gz_make(data, len));
}

/* decode_payload that must succeed and give exactly want (len bytes). */
static void decode_ok(GBytes *in, gsize cap, enum payload_kind want_kind, const void *want,
		      gsize want_len)
{
	struct error err = ERROR_INIT;
	enum payload_kind kind = PAYLOAD_UNKNOWN;
	GBytes *out = decode_payload(in, cap, &kind, &err);
	gsize len = 0;
	const void *data;

	if (out == NULL)
		g_error("decode_payload failed: %s", err.msg);
	g_assert_cmpint(kind, ==, want_kind);
	g_assert_cmpint(err.cls, ==, ERR_NONE);
	data = g_bytes_get_data(out, &len);
	g_assert_cmpuint(len, ==, want_len);
	g_assert_true(len == 0 || memcmp(data, want, len) == 0);
	g_bytes_unref(out);
}

/* decode_payload that must fail with ERR_INPUT and exactly this reason,
 * or (when the reason ends in '*') a reason starting with it. */
static void decode_fails(GBytes *in, gsize cap, const char *reason)
{
	struct error err = ERROR_INIT;
	GBytes *out = decode_payload(in, cap, NULL, &err);
	gsize n = strlen(reason);

	g_assert_null(out);
	g_assert_cmpint(err.cls, ==, ERR_INPUT);
	g_assert_nonnull(err.msg);
	if (reason[n - 1] == '*')
		g_assert_true(strncmp(err.msg, reason, n - 1) == 0);
	else
		g_assert_cmpstr(err.msg, ==, reason);
	error_clear(&err);
}

static void test_sniff(void)
{
	static const guint8 gz[] = { 0x1f, 0x8b, 0x08, 0x00 };
	static const guint8 bom_json[] = { 0xef, 0xbb, 0xbf, ' ', '\n', '{', '}' };

	g_assert_cmpint(decode_sniff(gz, sizeof(gz)), ==, PAYLOAD_GZIP);
	g_assert_cmpint(decode_sniff(gz, 1), ==, PAYLOAD_UNKNOWN);
	g_assert_cmpint(decode_sniff((const guint8 *)"PK\3\4rest", 8), ==, PAYLOAD_ZIP);
	g_assert_cmpint(decode_sniff((const guint8 *)"PK\5\6", 4), ==, PAYLOAD_ZIP);
	g_assert_cmpint(decode_sniff((const guint8 *)"PK\1\2", 4), ==, PAYLOAD_UNKNOWN);
	g_assert_cmpint(decode_sniff((const guint8 *)"PK", 2), ==, PAYLOAD_UNKNOWN);
	g_assert_cmpint(decode_sniff((const guint8 *)"{\"a\":1}", 7), ==, PAYLOAD_JSON);
	g_assert_cmpint(decode_sniff((const guint8 *)" \r\n\t{", 5), ==, PAYLOAD_JSON);
	g_assert_cmpint(decode_sniff(bom_json, sizeof(bom_json)), ==, PAYLOAD_JSON);
	g_assert_cmpint(decode_sniff((const guint8 *)"\n<?xml version", 14), ==, PAYLOAD_XML);
	g_assert_cmpint(decode_sniff((const guint8 *)"[1,2]", 5), ==, PAYLOAD_UNKNOWN);
	g_assert_cmpint(decode_sniff((const guint8 *)"   ", 3), ==, PAYLOAD_UNKNOWN);
	g_assert_cmpint(decode_sniff(NULL, 0), ==, PAYLOAD_UNKNOWN);
	g_assert_cmpstr(decode_kind_name(PAYLOAD_GZIP), ==, "gzip");
	g_assert_cmpstr(decode_kind_name(PAYLOAD_ZIP), ==, "zip");
	g_assert_cmpstr(decode_kind_name(PAYLOAD_JSON), ==, "JSON");
	g_assert_cmpstr(decode_kind_name(PAYLOAD_XML), ==, "XML");
	g_assert_cmpstr(decode_kind_name(PAYLOAD_UNKNOWN), ==, "unknown");
}

static void test_gunzip(void)
{
	GBytes *in = gz_bytes(doc, strlen(doc));

	decode_ok(in, MIB, PAYLOAD_GZIP, doc, strlen(doc));
	g_bytes_unref(in);
}

/* Bytes after the member: Mimecast's CRLF, garbage, a second member. */
static void test_gunzip_trailing(void)
{
	static const char *const tails[] = { "\r\n", "garbage after the member", NULL };

	for (int i = 0; i < 3; i++) {
		GByteArray *a = gz_make(doc, strlen(doc));
		GBytes *in;

		if (tails[i] != NULL) {
			g_byte_array_append(a, (const guint8 *)tails[i], (guint)strlen(tails[i]));
		} else {
			GByteArray *second = gz_make("{\"second\":true}", 15);

			g_byte_array_append(a, second->data, second->len);
			g_byte_array_unref(second);
		}
		in = g_byte_array_free_to_bytes(a);
		decode_ok(in, MIB, PAYLOAD_GZIP, doc, strlen(doc));
		g_bytes_unref(in);
	}
}

static void test_gunzip_truncated(void)
{
	GByteArray *a = gz_make(doc, strlen(doc));
	GBytes *in = g_bytes_new(a->data, a->len - 6); /* the trailer cut short */
	GBytes *head = g_bytes_new(a->data, 10);       /* the header alone */
	GBytes *magic = g_bytes_new(a->data, 2);

	decode_fails(in, MIB, "truncated gzip data");
	decode_fails(head, MIB, "truncated gzip data");
	decode_fails(magic, MIB, "truncated gzip data");
	g_bytes_unref(in);
	g_bytes_unref(head);
	g_bytes_unref(magic);
	g_byte_array_unref(a);
}

static void test_gunzip_corrupt(void)
{
	GByteArray *a = gz_make(doc, strlen(doc));
	GBytes *in;

	/* A wrong CRC-32 in the trailer. */
	a->data[a->len - 8] ^= 0xff;
	in = g_bytes_new(a->data, a->len);
	decode_fails(in, MIB, "corrupt gzip data: incorrect data check");
	g_bytes_unref(in);
	/* A wrong compression method in the header. */
	a->data[a->len - 8] ^= 0xff;
	a->data[2] = 7;
	in = g_bytes_new(a->data, a->len);
	decode_fails(in, MIB, "corrupt gzip data: unknown compression method");
	g_bytes_unref(in);
	/* Deflate data that is not deflate: block type 3 is invalid. */
	a->data[2] = 8;
	a->data[10] = 0x07;
	in = g_bytes_new(a->data, a->len);
	decode_fails(in, MIB, "corrupt gzip data: invalid block type");
	g_bytes_unref(in);
	g_byte_array_unref(a);
}

/* 10 MiB of zeros against a 1 MiB cap; exactly the cap still passes. */
static void test_gunzip_cap(void)
{
	guint8 *zeros = g_malloc0(10 * MIB);
	GBytes *bomb = gz_bytes(zeros, 10 * MIB);
	GBytes *exact = gz_bytes(zeros, MIB);

	g_assert_cmpuint(g_bytes_get_size(bomb), <, 64 * 1024);
	decode_fails(bomb, MIB, "decompressed size exceeds 1048576 bytes (max-report-size)");
	decode_fails(exact, MIB - 1, "decompressed size exceeds 1048575 bytes (max-report-size)");
	decode_ok(exact, MIB, PAYLOAD_GZIP, zeros, MIB);
	g_bytes_unref(bomb);
	g_bytes_unref(exact);
	g_free(zeros);
}

/* max-gzip-ratio: past 1 MiB out, output per input byte is capped; below
 * that floor even zeros pass. Off again with a ratio of 0. */
static void test_gunzip_ratio(void)
{
	guint8 *zeros = g_malloc0(4 * MIB);
	GBytes *bomb = gz_bytes(zeros, 4 * MIB);
	GBytes *small = gz_bytes(zeros, MIB);
	struct error err = ERROR_INIT;
	GBytes *out;

	decode_message_begin(0, 200);
	decode_ok(small, 64 * MIB, PAYLOAD_GZIP, zeros, MIB);
	out = decode_payload(bomb, 64 * MIB, NULL, &err);
	g_assert_null(out);
	g_assert_cmpint(err.cls, ==, ERR_INPUT);
	g_assert_true(g_str_has_prefix(err.msg, "gzip ratio exceeds max-gzip-ratio (200:1)"));
	error_clear(&err);
	decode_message_begin(0, 0);
	decode_ok(bomb, 64 * MIB, PAYLOAD_GZIP, zeros, 4 * MIB);
	g_bytes_unref(bomb);
	g_bytes_unref(small);
	g_free(zeros);
}

/* max-total-report-size: the parts of one message share one budget, and
 * the next message starts afresh. */
static void test_message_total(void)
{
	guint8 *zeros = g_malloc0(MIB);
	GBytes *part = gz_bytes(zeros, MIB);
	GBytes *plain = g_bytes_new_static(doc, sizeof(doc) - 1);

	decode_message_begin(2 * MIB + 50, 0);
	decode_ok(part, 64 * MIB, PAYLOAD_GZIP, zeros, MIB);
	decode_ok(part, 64 * MIB, PAYLOAD_GZIP, zeros, MIB);
	decode_fails(part, 64 * MIB,
		     "decompressed size exceeds the 50 bytes left of max-total-report-size for "
		     "this message");
	decode_fails(plain, 64 * MIB,
		     "size exceeds the 50 bytes left of max-total-report-size for this message");
	decode_message_begin(2 * MIB + 50, 0);
	decode_ok(part, 64 * MIB, PAYLOAD_GZIP, zeros, MIB);
	decode_message_begin(0, 0);
	g_bytes_unref(part);
	g_bytes_unref(plain);
	g_free(zeros);
}

static char *fixture_path(const char *name)
{
	const char *dir = g_getenv("TLSWATCH_FIXTURES");

	if (dir != NULL)
		return g_build_filename(dir, name, NULL);
	return g_test_build_filename(G_TEST_DIST, "..", "fixtures", name, NULL);
}

static long maxrss_kib(void)
{
	struct rusage ru;

	g_assert_cmpint(getrusage(RUSAGE_SELF, &ru), ==, 0);
	return ru.ru_maxrss;
}

/* In a fresh process, so that the peak is this decode's alone: inflating
 * bomb.json.gz (72 MiB of spaces) with a 64 MiB cap must fail naming the
 * cap, and the peak resident size must grow by less than twice the cap. */
static void test_bomb_memory(void)
{
	if (g_test_subprocess()) {
		char *path = fixture_path("bomb.json.gz");
		char *data = NULL;
		gsize len = 0;
		GBytes *in;
		long before, after;

		g_assert_true(g_file_get_contents(path, &data, &len, NULL));
		g_assert_cmpuint(len, <, 200 * 1024);
		in = g_bytes_new_take(data, len);
		before = maxrss_kib();
		decode_fails(in, 64 * MIB,
			     "decompressed size exceeds 67108864 bytes (max-report-size)");
		after = maxrss_kib();
		g_test_message("peak RSS grew by %ld KiB", after - before);
		g_assert_cmpint(after - before, <, 2 * 64 * 1024);
		g_bytes_unref(in);
		g_free(path);
		return;
	}
	g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
	g_test_trap_assert_passed();
}

/* A zip (deflated members) with the given names and bodies; a body of
 * NULL makes a directory entry. */
static GBytes *zip_make(const char *const *names, const char *const *bodies, int n)
{
	struct archive *a = archive_write_new();
	gsize cap = 4 * MIB;
	guint8 *buf = g_malloc(cap);
	size_t used = 0;

	g_assert_cmpint(archive_write_set_format_zip(a), ==, ARCHIVE_OK);
	g_assert_cmpint(archive_write_open_memory(a, buf, cap, &used), ==, ARCHIVE_OK);
	for (int i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		gsize len = bodies[i] != NULL ? strlen(bodies[i]) : 0;

		archive_entry_set_pathname(e, names[i]);
		archive_entry_set_filetype(e, bodies[i] != NULL ? AE_IFREG : AE_IFDIR);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)len);
		g_assert_cmpint(archive_write_header(a, e), ==, ARCHIVE_OK);
		if (len > 0)
			g_assert_cmpint(archive_write_data(a, bodies[i], len), ==, (la_ssize_t)len);
		archive_entry_free(e);
	}
	g_assert_cmpint(archive_write_close(a), ==, ARCHIVE_OK);
	archive_write_free(a);
	return g_bytes_new_take(g_realloc(buf, used), used);
}

static void test_unzip_one(void)
{
	const char *names[] = { "report.dat" };
	const char *bodies[] = { doc };
	GBytes *in = zip_make(names, bodies, 1);

	/* The only file is taken whatever its name. */
	decode_ok(in, MIB, PAYLOAD_ZIP, doc, strlen(doc));
	g_bytes_unref(in);
}

static void test_unzip_pick_json(void)
{
	const char *names[] = { "docs/", "README.txt", "example.net!example.com!1!2.json",
				"x.xml" };
	const char *bodies[] = { NULL, "read me\n", doc, "<feedback/>" };
	GBytes *in = zip_make(names, bodies, 4);

	decode_ok(in, MIB, PAYLOAD_ZIP, doc, strlen(doc));
	g_bytes_unref(in);
}

static void test_unzip_ambiguous(void)
{
	const char *names[] = { "a.json", "b.json", "c.txt", "d.txt" };
	const char *bodies[] = { doc, doc, "c", "d" };
	const char *dir_name[] = { "empty/" };
	const char *dir_body[] = { NULL };
	static const guint8 empty_zip[22] = { 'P', 'K', 5, 6 };
	GBytes *two = zip_make(names, bodies, 2);
	GBytes *none = zip_make(names + 2, bodies + 2, 2);
	GBytes *dirs = zip_make(dir_name, dir_body, 1);
	GBytes *empty = g_bytes_new_static(empty_zip, sizeof(empty_zip));

	decode_fails(two, MIB, "zip archive holds 2 .json files, expected one");
	decode_fails(none, MIB, "zip archive holds 2 files and none ends in .json");
	decode_fails(dirs, MIB, "zip archive holds no file");
	decode_fails(empty, MIB, "zip archive holds no file");
	g_bytes_unref(two);
	g_bytes_unref(none);
	g_bytes_unref(dirs);
	g_bytes_unref(empty);
}

/* Offset of the first 4-byte signature sig in a, or -1. */
static gssize find_sig(GByteArray *a, const char *sig)
{
	for (guint i = 0; i + 4 <= a->len; i++) {
		if (memcmp(a->data + i, sig, 4) == 0)
			return i;
	}
	return -1;
}

static void test_unzip_corrupt(void)
{
	char *big = g_strnfill(300 * 1024, 'x');
	const char *names[] = { "r.json" };
	const char *bodies[] = { big };
	GBytes *good = zip_make(names, bodies, 1);
	GByteArray *a = g_byte_array_new();
	gssize local, central, data;
	GBytes *in;

	g_byte_array_append(a, g_bytes_get_data(good, NULL), (guint)g_bytes_get_size(good));
	/* The member over the cap. */
	decode_fails(good, 100 * 1024, "decompressed size exceeds 102400 bytes (max-report-size)");
	/* Cut in the middle: no central directory left. */
	in = g_bytes_new(a->data, a->len / 2);
	decode_fails(in, MIB, "corrupt zip data: *");
	g_bytes_unref(in);
	/* The deflate data damaged: it starts after the 30-byte local header,
	 * the name and the extra field. */
	local = find_sig(a, "PK\3\4");
	g_assert_cmpint(local, ==, 0);
	data = 30 + (a->data[26] | a->data[27] << 8) + (a->data[28] | a->data[29] << 8);
	a->data[data] ^= 0xff;
	a->data[data + 1] ^= 0xff;
	in = g_bytes_new(a->data, a->len);
	decode_fails(in, MIB, "cannot read zip member: *");
	g_bytes_unref(in);
	/* The "encrypted" flag (general purpose bit 0) set in both headers. */
	a->data[data] ^= 0xff;
	a->data[data + 1] ^= 0xff;
	central = find_sig(a, "PK\1\2");
	g_assert_cmpint(central, >, 0);
	a->data[6] |= 1;
	a->data[central + 8] |= 1;
	in = g_bytes_new(a->data, a->len);
	decode_fails(in, MIB, "zip member is encrypted");
	g_bytes_unref(in);
	g_byte_array_unref(a);
	g_bytes_unref(good);
	g_free(big);
}

/* JSON, XML and unknown bytes come back as the same GBytes, capped. */
static void test_passthrough(void)
{
	static const char *const inputs[] = { "  {\"a\": 1}", "<feedback/>", "plain words" };
	static const enum payload_kind kinds[] = { PAYLOAD_JSON, PAYLOAD_XML, PAYLOAD_UNKNOWN };

	for (int i = 0; i < 3; i++) {
		struct error err = ERROR_INIT;
		enum payload_kind kind = PAYLOAD_GZIP;
		GBytes *in = g_bytes_new_static(inputs[i], strlen(inputs[i]));
		GBytes *out = decode_payload(in, 1024, &kind, &err);

		g_assert_true(out == in);
		g_assert_cmpint(kind, ==, kinds[i]);
		g_bytes_unref(out);
		decode_fails(in, 4, "size exceeds 4 bytes (max-report-size)");
		g_bytes_unref(in);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/decode/sniff", test_sniff);
	g_test_add_func("/decode/gunzip", test_gunzip);
	g_test_add_func("/decode/gunzip-trailing", test_gunzip_trailing);
	g_test_add_func("/decode/gunzip-truncated", test_gunzip_truncated);
	g_test_add_func("/decode/gunzip-corrupt", test_gunzip_corrupt);
	g_test_add_func("/decode/gunzip-cap", test_gunzip_cap);
	g_test_add_func("/decode/gunzip-ratio", test_gunzip_ratio);
	g_test_add_func("/decode/message-total", test_message_total);
	g_test_add_func("/decode/bomb-memory", test_bomb_memory);
	g_test_add_func("/decode/unzip-one", test_unzip_one);
	g_test_add_func("/decode/unzip-pick-json", test_unzip_pick_json);
	g_test_add_func("/decode/unzip-ambiguous", test_unzip_ambiguous);
	g_test_add_func("/decode/unzip-corrupt", test_unzip_corrupt);
	g_test_add_func("/decode/passthrough", test_passthrough);
	return g_test_run();
}
