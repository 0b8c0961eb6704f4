/*
 * decode.c: sniff a part's bytes and inflate them under a cap.
 *
 * Labels lie, so the first bytes decide (gzip magic, zip magic, '{', '<').
 * Output goes into one buffer that is checked after every inflate step, so a
 * bomb stops at max_out + one chunk, never after. Memory running out while
 * inflating is a temporary failure (ERR_TEMP, exit 75), never an abort: the
 * output buffer and zlib's state are allocated with g_try_*; one `goto fail`
 * per function.
 */
#include <errno.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>

#include "common/buffer.h"
#include "ingest/decode.h"

/* Inflate output step: small enough that overshooting the cap costs
 * nothing, large enough not to matter for speed. */
#define DECODE_CHUNK (64 * 1024)

/* Below this much output the ratio is not checked: a small, very
 * repetitive report may legitimately compress very well. */
#define DECODE_RATIO_FLOOR (1024 * 1024)

/* The per-message caps of decode_message_begin(); 0 means off. */
static struct {
	guint64 total_left; /* bytes still allowed for this message */
	guint64 max_total;  /* max-total-report-size, for the reason */
	guint max_ratio;    /* max-gzip-ratio */
} decode_message;

void decode_message_begin(guint64 max_total, guint max_ratio)
{
	decode_message.total_left = max_total;
	decode_message.max_total = max_total;
	decode_message.max_ratio = max_ratio;
}

/* The cap for one part: max_out (max-report-size), or less when the
 * message's total is nearer; *key names the config key of the tighter one. */
static gsize decode_part_cap(gsize max_out, const char **key)
{
	*key = "max-report-size";
	if (decode_message.max_total > 0 && decode_message.total_left < max_out) {
		*key = "max-total-report-size";
		return (gsize)decode_message.total_left;
	}
	return max_out;
}

/* Over the cap: the reason names the bytes and the key. */
static int decode_cap_fail(struct error *err, const char *what, gsize cap, const char *key)
{
	if (g_str_equal(key, "max-total-report-size"))
		return error_set(err, ERR_INPUT,
				 "%s exceeds the %" G_GUINT64_FORMAT
				 " bytes left of max-total-report-size for this message",
				 what, (guint64)cap);
	return error_set(err, ERR_INPUT, "%s exceeds %" G_GSIZE_FORMAT " bytes (%s)", what, cap,
			 key);
}

/* TRUE when out bytes from in compressed bytes break max-gzip-ratio. */
static gboolean decode_ratio_broken(gsize out, gsize in)
{
	return decode_message.max_ratio > 0 && out > DECODE_RATIO_FLOOR &&
	       out / MAX(in, (gsize)1) >= decode_message.max_ratio;
}

enum payload_kind decode_sniff(const guint8 *buf, gsize len)
{
	gsize i = 0;

	if (len >= 2 && buf[0] == 0x1f && buf[1] == 0x8b)
		return PAYLOAD_GZIP;
	if (len >= 4 && buf[0] == 'P' && buf[1] == 'K' &&
	    ((buf[2] == 3 && buf[3] == 4) || (buf[2] == 5 && buf[3] == 6)))
		return PAYLOAD_ZIP;
	if (len >= 3 && buf[0] == 0xef && buf[1] == 0xbb && buf[2] == 0xbf)
		i = 3; /* UTF-8 byte order mark */
	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
		i++;
	if (i < len && buf[i] == '{')
		return PAYLOAD_JSON;
	if (i < len && buf[i] == '<')
		return PAYLOAD_XML;
	return PAYLOAD_UNKNOWN;
}

const char *decode_kind_name(enum payload_kind kind)
{
	switch (kind) {
	case PAYLOAD_GZIP:
		return "gzip";
	case PAYLOAD_ZIP:
		return "zip";
	case PAYLOAD_JSON:
		return "JSON";
	case PAYLOAD_XML:
		return "XML";
	case PAYLOAD_UNKNOWN:
		break;
	}
	return "unknown";
}

/* zlib's allocator hooks: a NULL becomes Z_MEM_ERROR, not an abort. */
static voidpf decode_zalloc(voidpf opaque, uInt items, uInt size)
{
	return g_try_malloc_n(items, size);
}

static void decode_zfree(voidpf opaque, voidpf p)
{
	g_free(p);
}

/* Make room for up to DECODE_CHUNK more bytes at the end of out without
 * passing max_out + 1 in total (one byte over is how the cap is detected).
 * Returns the room made after out->len, or 0 with err set when memory ran
 * out. */
static gsize decode_grow(struct buffer *out, gsize max_out, struct error *err)
{
	gsize room = DECODE_CHUNK;

	if (max_out - MIN(out->len, max_out) + 1 < room)
		room = max_out - MIN(out->len, max_out) + 1;
	/* Doubling up to the cap's last byte would allocate twice the cap:
	 * over max-parse-memory at the default caps, and the reason would name
	 * the budget instead of the cap. */
	if (buffer_reserve_within(out, room, max_out + 1) < 0) {
		error_set(err, ERR_TEMP,
			  "out of memory after decompressing %" G_GSIZE_FORMAT " bytes", out->len);
		return 0;
	}
	return room;
}

/* A first guess at the output size from the gzip trailer (ISIZE, the size
 * mod 2^32; wrong when bytes trail the member), capped: it only saves
 * reallocations, and the cap is enforced while inflating anyway. */
static gsize decode_gzip_hint(const guint8 *data, gsize len, gsize max_out)
{
	guint32 isize;

	if (len < 18)
		return 0;
	isize = (guint32)data[len - 4] | (guint32)data[len - 3] << 8 |
		(guint32)data[len - 2] << 16 | (guint32)data[len - 1] << 24;
	return MIN((gsize)isize, max_out) + 1;
}

/* gunzip the first member of data. Bytes after the member are ignored:
 * Mimecast appends CRLF, and a second member (RFC 1952 allows it) has
 * never been seen in a report, so only the first counts. */
static GBytes *decode_gunzip(const guint8 *data, gsize len, gsize max_out, const char *key,
			     struct error *err)
{
	z_stream zs;
	struct buffer out = BUFFER_INIT;
	int ret = Z_OK;
	gsize room;

	memset(&zs, 0, sizeof(zs));
	zs.zalloc = decode_zalloc;
	zs.zfree = decode_zfree;
	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
		error_set(err, ERR_TEMP, "cannot start zlib: %s",
			  zs.msg ? zs.msg : "out of memory");
		return NULL;
	}
	/* Only a hint: if it cannot be had, decode_grow will say so. */
	(void)buffer_reserve_within(&out, decode_gzip_hint(data, len, max_out), max_out + 1);
	zs.next_in = (Bytef *)data;
	while (ret != Z_STREAM_END) {
		if (zs.avail_in == 0 && len > 0) {
			zs.avail_in = (uInt)MIN(len, (gsize)G_MAXUINT32);
			len -= zs.avail_in;
		}
		if ((room = decode_grow(&out, max_out, err)) == 0)
			goto fail;
		zs.next_out = out.data + out.len;
		zs.avail_out = (uInt)room;
		ret = inflate(&zs, Z_NO_FLUSH);
		out.len += room - zs.avail_out;
		if (ret == Z_MEM_ERROR) {
			error_set(err, ERR_TEMP, "out of memory in zlib");
			goto fail;
		}
		if (out.len > max_out) {
			decode_cap_fail(err, "decompressed size", max_out, key);
			goto fail;
		}
		if (decode_ratio_broken(out.len, zs.total_in)) {
			error_set(err, ERR_INPUT,
				  "gzip ratio exceeds max-gzip-ratio (%u:1): %" G_GSIZE_FORMAT
				  " bytes from %lu",
				  decode_message.max_ratio, out.len, zs.total_in);
			goto fail;
		}
		if (ret != Z_OK && ret != Z_STREAM_END && ret != Z_BUF_ERROR) {
			error_set(err, ERR_INPUT, "corrupt gzip data: %s",
				  zs.msg ? zs.msg : zError(ret));
			goto fail;
		}
		if (ret != Z_STREAM_END && zs.avail_in == 0 && len == 0 && zs.avail_out > 0) {
			error_set(err, ERR_INPUT, "truncated gzip data");
			goto fail;
		}
	}
	inflateEnd(&zs);
	return buffer_steal(&out);
fail:
	inflateEnd(&zs);
	buffer_clear(&out);
	return NULL;
}

/* libarchive reports what failed in its own words; memory exhaustion is
 * the only thing that is not the archive's fault. */
static void decode_zip_error(struct archive *a, const char *what, struct error *err)
{
	const char *why = archive_error_string(a);

	error_set(err, archive_errno(a) == ENOMEM ? ERR_TEMP : ERR_INPUT, "%s: %s", what,
		  why ? why : "unknown error");
}

static struct archive *decode_zip_open(const guint8 *data, gsize len, struct error *err)
{
	struct archive *a = archive_read_new();

	if (a == NULL) {
		error_set(err, ERR_TEMP, "cannot start libarchive");
		return NULL;
	}
	archive_read_support_format_zip(a);
	if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
		decode_zip_error(a, "corrupt zip data", err);
		archive_read_free(a);
		return NULL;
	}
	return a;
}

/* Pass one: which member to read, by its index among all entries. The
 * only regular file, else the only one whose name ends in .json. */
static int decode_zip_pick(const guint8 *data, gsize len, struct error *err)
{
	struct archive *a = decode_zip_open(data, len, err);
	struct archive_entry *entry;
	int files = 0, jsons = 0, index = 0, only_file = -1, only_json = -1, ret;

	if (a == NULL)
		return -1;
	while ((ret = archive_read_next_header(a, &entry)) == ARCHIVE_OK || ret == ARCHIVE_WARN) {
		const char *name = archive_entry_pathname(entry);

		if (archive_entry_filetype(entry) == AE_IFREG) {
			files++;
			only_file = index;
			if (name != NULL && g_str_has_suffix(name, ".json")) {
				jsons++;
				only_json = index;
			}
		}
		index++;
	}
	if (ret != ARCHIVE_EOF) {
		decode_zip_error(a, "corrupt zip data", err);
		goto fail;
	}
	archive_read_free(a);
	if (files == 1)
		return only_file;
	if (jsons == 1)
		return only_json;
	if (files == 0)
		return error_set(err, ERR_INPUT, "zip archive holds no file");
	if (jsons == 0)
		return error_set(err, ERR_INPUT,
				 "zip archive holds %d files and none ends in .json", files);
	return error_set(err, ERR_INPUT, "zip archive holds %d .json files, expected one", jsons);
fail:
	archive_read_free(a);
	return -1;
}

/* Read the current member's data into out, in blocks, under the cap. */
static int decode_zip_read(struct archive *a, struct buffer *out, gsize max_out, const char *key,
			   gsize in_len, struct error *err)
{
	la_ssize_t n;
	gsize room;

	for (;;) {
		if ((room = decode_grow(out, max_out, err)) == 0)
			return -1;
		n = archive_read_data(a, out->data + out->len, room);
		out->len += n > 0 ? (gsize)n : 0;
		if (n < 0) {
			decode_zip_error(a, "cannot read zip member", err);
			return -1;
		}
		if (out->len > max_out)
			return decode_cap_fail(err, "decompressed size", max_out, key);
		if (decode_ratio_broken(out->len, in_len))
			return error_set(err, ERR_INPUT,
					 "zip ratio exceeds max-gzip-ratio (%u:1): %" G_GSIZE_FORMAT
					 " bytes from %" G_GSIZE_FORMAT,
					 decode_message.max_ratio, out->len, in_len);
		if (n == 0)
			return 0;
	}
}

/* Pass two: skip to member `want` and read it. */
static GBytes *decode_unzip(const guint8 *data, gsize len, gsize max_out, const char *key,
			    struct error *err)
{
	struct archive *a = NULL;
	struct archive_entry *entry;
	struct buffer out = BUFFER_INIT;
	gsize hint = 0;
	int want = decode_zip_pick(data, len, err);

	if (want < 0 || (a = decode_zip_open(data, len, err)) == NULL)
		return NULL;
	for (int i = 0; i <= want; i++) {
		int ret = archive_read_next_header(a, &entry);

		if (ret != ARCHIVE_OK && ret != ARCHIVE_WARN) {
			decode_zip_error(a, "corrupt zip data", err);
			goto fail;
		}
	}
	if (archive_entry_is_encrypted(entry)) {
		error_set(err, ERR_INPUT, "zip member is encrypted");
		goto fail;
	}
	/* The declared size is only a hint, capped like the gzip one. */
	if (archive_entry_size_is_set(entry) && archive_entry_size(entry) > 0)
		hint = MIN((gsize)archive_entry_size(entry), max_out) + 1;
	(void)buffer_reserve_within(&out, hint, max_out + 1); /* a hint, as for gzip */
	if (decode_zip_read(a, &out, max_out, key, len, err) < 0)
		goto fail;
	archive_read_free(a);
	return buffer_steal(&out);
fail:
	buffer_clear(&out);
	archive_read_free(a);
	return NULL;
}

GBytes *decode_payload(GBytes *in, gsize max_out, enum payload_kind *kind, struct error *err)
{
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(in, &len);
	enum payload_kind k = decode_sniff(data, len);
	const char *key;
	GBytes *out = NULL;

	if (kind != NULL)
		*kind = k;
	/* One byte over the cap must still fit in a gsize. */
	max_out = decode_part_cap(MIN(max_out, G_MAXSIZE - 1), &key);
	if (k == PAYLOAD_GZIP)
		out = decode_gunzip(data, len, max_out, key, err);
	else if (k == PAYLOAD_ZIP)
		out = decode_unzip(data, len, max_out, key, err);
	else if (len > max_out)
		decode_cap_fail(err, "size", max_out, key);
	else
		out = g_bytes_ref(in);
	if (out != NULL && decode_message.max_total > 0)
		decode_message.total_left -= g_bytes_get_size(out);
	return out;
}
