/*
 * fuzz_report.c: the JSON report model alone.
 *
 * bytes -> report_parse (jansson, our caps, every field reader and
 * leniency) -> report_to_json -> text; also report_parse_datetime on the
 * bytes as a string, since dates are the one hand-written parser here.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct report_hints hints = { "company-y.example", "company-x.example" };
	struct report r;
	struct error err = ERROR_INIT;
	char *s = g_strndup((const char *)data, size);
	GDateTime *dt = report_parse_datetime(s, NULL);

	if (dt != NULL)
		g_date_time_unref(dt);
	g_free(s);
	report_init(&r);
	if (report_parse(&r, (const char *)data, size, &hints, NULL, &err) == 0) {
		json_t *o = report_to_json(&r);
		char *text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;

		if (o == NULL || text == NULL)
			abort(); /* a parsed report always has a JSON form */
		free(text);
		json_decref(o);
		report_release(&r);
	}
	error_clear(&err);
	return 0;
}
