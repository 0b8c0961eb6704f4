/*
 * contain.c: what parsing in a child (ingest/contain.c) costs per message.
 *
 * For each message file named on the command line, best of ROUNDS: the
 * parse in this process (parse_message), against the same parse as ingest
 * runs it (contain_run: the message to the parse child over a socket, its
 * answer back, parsed_deserialise). The child is forked once, as in
 * ingest; its fork (contain_start) is timed on its own. This program links
 * what tlswatch links and has set up GMime as it does, so the fork copies
 * the same kind of process.
 * Prints "MESSAGES IN_PROCESS_S IN_CHILD_S FORK_S" (sums of the best
 * times; the fork once).
 */
#include <stdio.h>

#include "ingest/contain.h"
#include "ingest/decode.h"
#include "ingest/mail.h"
#include "ingest/parse.h"

#define ROUNDS 5

static struct config cfg;
static struct contain *parser;

static int parse_in_child(gpointer data, GBytes *raw, GBytes **result, struct error *err)
{
	struct parsed p;
	int rc;

	parsed_init(&p);
	rc = parse_message(&cfg, raw, FALSE, &p, err);
	if (rc == 0)
		*result = parsed_serialise(&p);
	parsed_release(&p);
	return rc;
}

/* Seconds of one parse of raw, in this process or in a child. */
static double parse_once(GBytes *raw, gboolean child)
{
	gint64 start = g_get_monotonic_time();
	struct error err = ERROR_INIT;
	g_autoptr(GBytes) result = NULL;
	g_autofree char *why = NULL;
	struct parsed p;

	parsed_init(&p);
	decode_message_begin(cfg.max_total_report_size, cfg.max_gzip_ratio);
	if (!child)
		parse_message(&cfg, raw, FALSE, &p, &err);
	else if (contain_run(parser, raw, &result, &why, &err) == 0 && result != NULL)
		parsed_deserialise(&cfg, result, &p, &err);
	if (err.cls != ERR_NONE || why != NULL || p.found->len == 0) {
		fprintf(stderr, "bench/contain: no report parsed: %s\n", why ? why : err.msg);
		exit(1);
	}
	parsed_release(&p);
	return (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
}

int main(int argc, char **argv)
{
	const struct contain_limits limits = { 128 << 20, G_MAXUINT32, 60 };
	double in_process = 0, in_child = 0, fork_s;
	struct error err = ERROR_INIT;
	gint64 start;

	config_init(&cfg);
	mail_library_init();
	parser = contain_new(&limits, parse_in_child, NULL);
	start = g_get_monotonic_time();
	if (contain_start(parser, &err) < 0) {
		fprintf(stderr, "bench/contain: %s\n", err.msg);
		return 1;
	}
	fork_s = (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
	for (int i = 1; i < argc; i++) {
		g_autoptr(GMappedFile) file = g_mapped_file_new(argv[i], FALSE, NULL);
		g_autoptr(GBytes) raw = file ? g_mapped_file_get_bytes(file) : NULL;
		double best_in = G_MAXDOUBLE, best_child = G_MAXDOUBLE;

		if (raw == NULL) {
			fprintf(stderr, "bench/contain: cannot read %s\n", argv[i]);
			return 1;
		}
		for (int r = 0; r < ROUNDS; r++) {
			best_in = MIN(best_in, parse_once(raw, FALSE));
			best_child = MIN(best_child, parse_once(raw, TRUE));
		}
		in_process += best_in;
		in_child += best_child;
	}
	contain_free(parser);
	printf("%d %.6f %.6f %.6f\n", argc - 1, in_process, in_child, fork_s);
	return 0;
}
