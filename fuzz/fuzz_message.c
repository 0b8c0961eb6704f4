/*
 * fuzz_message.c: the whole message path without a database.
 *
 * bytes -> mail_parse (GMime, our MIME walk and caps) -> decode_payload
 * (gunzip/unzip under the cap) -> report_parse -> report_to_json -> text,
 * the same chain as ingest_try_part() with the default caps, except a
 * smaller max-report-size so that one input stays fast.
 */
#include <stdint.h>
#include <stdlib.h>

#include "ingest/decode.h"
#include "ingest/mail.h"
#include "ingest/report.h"

#define FUZZ_MAX_REPORT (1024 * 1024)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	mail_library_init();
	return 0;
}

static void fuzz_part(GBytes *content, const struct report_hints *hints)
{
	struct error err = ERROR_INIT;
	struct report r;
	GBytes *json = decode_payload(content, FUZZ_MAX_REPORT, NULL, &err);
	gsize len = 0;
	const char *text;

	if (json == NULL)
		goto done;
	text = g_bytes_get_data(json, &len);
	report_init(&r);
	if (decode_sniff((const guint8 *)text, len) == PAYLOAD_JSON &&
	    report_parse(&r, text, len, hints, NULL, &err) == 0) {
		json_t *o = report_to_json(&r);
		char *s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;

		if (o == NULL || s == NULL)
			abort(); /* a parsed report always has a JSON form */
		free(s);
		json_decref(o);
		report_release(&r);
	}
	g_bytes_unref(json);
done:
	error_clear(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	GBytes *raw = g_bytes_new(data, size);
	struct mail m;
	struct mail_limits limits = { 0, 0 };
	struct error err = ERROR_INIT;

	/* What watchdog_message_begin() sets per message, without the timer
	 * (libFuzzer's -timeout finds hangs). */
	decode_message_begin(4 * FUZZ_MAX_REPORT, 200);
	mail_init(&m);
	if (mail_parse(&m, raw, &limits, &err) == 0) {
		struct report_hints hints = { m.report_domain, m.report_submitter };

		for (guint i = 0; i < m.parts->len; i++) {
			struct mail_part *part = g_ptr_array_index(m.parts, i);

			fuzz_part(part->content, &hints);
		}
	}
	/* The same bytes as a bare report file. */
	fuzz_part(raw, NULL);
	error_clear(&err);
	mail_release(&m);
	g_bytes_unref(raw);
	return 0;
}
