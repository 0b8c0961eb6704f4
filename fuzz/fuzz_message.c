/*
 * fuzz_message.c: the whole message path without a database.
 *
 * bytes -> parse_message (GMime, our MIME walk, decode under the caps,
 * report_parse: what the child of contain.c runs) -> parsed_serialise ->
 * parsed_deserialise (what the parent reads back) -> report_to_json, with
 * the default caps except a smaller max-report-size so that one input
 * stays fast; then the same bytes as a bare report file. The round trip
 * must give back every report the child found, and its signatures. The
 * trust evidence is fuzzed too: Authentication-Results of a trusted
 * host (authres.c), else each DKIM-Signature through libopendkim, whose
 * key lookups go to a port where nothing answers (refused at once).
 */
#include <stdint.h>
#include <stdlib.h>

#include "ingest/decode.h"
#include "ingest/mail.h"
#include "ingest/parse.h"

#define FUZZ_MAX_REPORT (1024 * 1024)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct config fuzz_cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	mail_library_init();
	config_init(&fuzz_cfg);
	fuzz_cfg.max_report_size = FUZZ_MAX_REPORT;
	fuzz_cfg.max_total_report_size = 4 * FUZZ_MAX_REPORT;
	fuzz_cfg.trusted_authserv_id = g_strdup("mx.fuzz.example");
	fuzz_cfg.dns_nameservers = g_strsplit("127.0.0.1:9", ";", -1);
	fuzz_cfg.dns_timeout = 1;
	return 0;
}

/* Serialise p, read it back as the parent does, and check the reports. */
static void fuzz_round_trip(const struct parsed *p)
{
	GBytes *bytes = parsed_serialise(p);
	struct error err = ERROR_INIT;
	struct parsed back;

	parsed_init(&back);
	if (parsed_deserialise(&fuzz_cfg, bytes, &back, &err) < 0 ||
	    back.found->len != p->found->len || back.signatures->len != p->signatures->len)
		abort(); /* the parent must get back what the child found */
	for (guint i = 0; i < back.found->len; i++) {
		const struct found *f = g_ptr_array_index(back.found, i);
		json_t *o = report_to_json(&f->report);
		char *s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;

		if (o == NULL || s == NULL)
			abort(); /* a parsed report always has a JSON form */
		free(s);
		json_decref(o);
	}
	parsed_release(&back);
	g_bytes_unref(bytes);
	error_clear(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	GBytes *raw = g_bytes_new(data, size);
	struct error err = ERROR_INIT;
	struct parsed p;

	/* What watchdog_message_begin() sets per message, without the timer
	 * (libFuzzer's -timeout finds hangs). */
	decode_message_begin(fuzz_cfg.max_total_report_size, fuzz_cfg.max_gzip_ratio);
	parsed_init(&p);
	if (parse_message(&fuzz_cfg, raw, FALSE, &p, &err) == 0)
		fuzz_round_trip(&p);
	parsed_release(&p);
	error_clear(&err);

	/* The same bytes as a bare report file. */
	decode_message_begin(fuzz_cfg.max_total_report_size, fuzz_cfg.max_gzip_ratio);
	parsed_init(&p);
	if (parse_bare_report(&fuzz_cfg, raw, "fuzz.json", &p, &err) == 0)
		fuzz_round_trip(&p);
	parsed_release(&p);
	error_clear(&err);
	g_bytes_unref(raw);
	return 0;
}
