/*
 * fuzz_decode.c: the gzip (and zip) decoder.
 *
 * bytes -> decode_payload under a 1 MiB cap, and the per-message total
 * and gzip ratio caps. Output must never pass the
 * cap, and a failure must always say why.
 */
#include <stdint.h>
#include <stdlib.h>

#include "ingest/decode.h"

#define FUZZ_MAX_OUT (1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	GBytes *in = g_bytes_new_static(data, size);
	struct error err = ERROR_INIT;
	enum payload_kind kind;
	GBytes *out;

	/* The per-message caps too, tight enough to be reached. */
	decode_message_begin(size > 0 && data[0] & 1 ? FUZZ_MAX_OUT / 2 : 0, 200);
	out = decode_payload(in, FUZZ_MAX_OUT, &kind, &err);

	if (out != NULL && g_bytes_get_size(out) > FUZZ_MAX_OUT)
		abort(); /* the cap did not hold */
	if (out == NULL && (err.cls == ERR_NONE || err.msg == NULL))
		abort(); /* a failure without a reason */
	if (out != NULL)
		g_bytes_unref(out);
	error_clear(&err);
	g_bytes_unref(in);
	return 0;
}
