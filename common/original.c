/*
 * original.c: deflate and inflate a report's JSON against a dictionary of
 * RFC 8460's vocabulary (see original.h).
 *
 * The dictionary is part of the stored format: every row written with it
 * needs it to be read. zlib records the dictionary's Adler-32 in the
 * stream (FDICT), so a better dictionary later is a second entry beside
 * this one, chosen on inflate by that id; this text itself never changes.
 * It holds what every report repeats, the field names and the registered
 * result types (RFC 8460 4.3), the most common last: deflate finds
 * matches at the shortest distance from the end.
 */
#include <string.h>
#include <zlib.h>

#include "common/buffer.h"
#include "common/original.h"

static const char original_dictionary[] =
	"\"receiving-mx-helo\":\"\",\"additional-information\":\"\",\"failure-reason-code\":\"\","
	"certificate-host-mismatch certificate-expired certificate-not-trusted "
	"validation-failure tlsa-invalid dnssec-invalid dane-required sts-policy-invalid "
	"sts-webpki-invalid sts-policy-fetch-error starttls-not-supported "
	"{\"result-type\":\"\",\"sending-mta-ip\":\"\",\"receiving-mx-hostname\":\"\","
	"\"receiving-ip\":\"\",\"failed-session-count\":}],\"failure-details\":[{"
	"{\"organization-name\":\"\",\"date-range\":{\"start-datetime\":\"T00:00:00Z\","
	"\"end-datetime\":\"T23:59:59Z\"},\"contact-info\":\"\",\"report-id\":\"\","
	"\"policies\":[{\"policy\":{\"policy-type\":\"sts\",\"policy-string\":[\"version: STSv1\","
	"\"mode: testing\",\"mode: enforce\",\"mx: \",\"max_age: 604800\"],"
	"\"policy-domain\":\"\",\"mx-host\":[\"\"]},\"summary\":{"
	"\"total-successful-session-count\":,\"total-failure-session-count\":0}}]}";

/* The zlib window for len bytes after the dictionary: the smallest that
 * reaches back over both (RFC 1950 allows 2^9 to 2^15). With zlib's
 * defaults (a 32 KiB window, memLevel 8) each stream allocates and clears
 * about 256 KiB: 71 us for a corpus report, against 17 us with a window
 * fitted to it and memLevel 6, for the same sizes (the 40 corpus reports:
 * 8,346 bytes against 8,339). In a perf profile of serve's LMTP run,
 * deflate's set-up was about a tenth of serve's CPU samples. */
static int original_window_bits(gsize len)
{
	int bits = 9;

	while (bits < 15 && ((gsize)1 << bits) < len + sizeof(original_dictionary) - 1)
		bits++;
	return bits;
}

GBytes *original_deflate(const void *json, gsize len)
{
	z_stream zs = { 0 };
	guchar *out = NULL;
	uLong bound;

	if (len > G_MAXUINT32 ||
	    deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, original_window_bits(len), 6,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	if (deflateSetDictionary(&zs, (const Bytef *)original_dictionary,
				 sizeof(original_dictionary) - 1) != Z_OK)
		goto fail;
	bound = deflateBound(&zs, (uLong)len);
	if ((out = g_try_malloc(bound)) == NULL)
		goto fail;
	zs.next_in = (Bytef *)json;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)bound;
	/* deflateBound's room is enough for one call to finish. */
	if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
		goto fail;
	deflateEnd(&zs);
	return g_bytes_new_take(g_realloc(out, zs.total_out), zs.total_out);
fail:
	deflateEnd(&zs);
	g_free(out);
	return NULL;
}

GBytes *original_inflate(const void *data, gsize len, gsize max, struct error *err)
{
	enum { CHUNK = 16384 };
	z_stream zs = { 0 };
	struct buffer out = BUFFER_INIT;
	int zrc = Z_OK;

	if (len > G_MAXUINT32 || inflateInit(&zs) != Z_OK) {
		error_set(err, ERR_TEMP, "cannot inflate a report: out of memory");
		return NULL;
	}
	zs.next_in = (Bytef *)data;
	zs.avail_in = (uInt)len;
	while (zrc != Z_STREAM_END) {
		/* Straight into the result, one byte past max at most. */
		if (buffer_reserve_within(&out, CHUNK, max + 1) < 0) {
			error_set(err, ERR_TEMP, "cannot inflate a report: out of memory");
			goto fail;
		}
		zs.next_out = out.data + out.len;
		zs.avail_out = CHUNK;
		zrc = inflate(&zs, Z_NO_FLUSH);
		out.len += CHUNK - zs.avail_out;
		if (zrc == Z_NEED_DICT &&
		    zs.adler == adler32(1L, (const Bytef *)original_dictionary,
					sizeof(original_dictionary) - 1))
			zrc = inflateSetDictionary(&zs, (const Bytef *)original_dictionary,
						   sizeof(original_dictionary) - 1);
		if ((zrc != Z_OK && zrc != Z_STREAM_END) ||
		    (zrc == Z_OK && zs.avail_in == 0 && zs.avail_out > 0)) {
			error_set(err, ERR_INPUT, "not a stored report: %s",
				  zrc == Z_NEED_DICT ? "an unknown dictionary"
				  : zs.msg != NULL   ? zs.msg
						     : "truncated");
			goto fail;
		}
		if (out.len > max) {
			error_set(err, ERR_INPUT,
				  "a stored report larger than %" G_GSIZE_FORMAT " bytes", max);
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
