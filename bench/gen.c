/*
 * gen.c: a Maildir of TLS-RPT messages shaped like real reporters' mail.
 *
 * bench/gen [-n COUNT] [-f PERCENT] [-m MAX] [-r ROWS] [-b INDEX]... [-p PREFIX] [-s SEED] DIR
 *
 * Each message is what Google, Microsoft, Yahoo, Mail.ru and friends send:
 * multipart/report; report-type=tlsrpt, a text part, the report gzipped and
 * base64-encoded under one of the labels they use. PERCENT of the reports
 * (default 20) carry failure-details, 1 to MAX rows (log-uniform, default
 * 100), or exactly ROWS rows in every report with -r (the 50,000-row case).
 * -b INDEX (1-based, repeatable) makes that message's report invalid (a
 * negative session count), so it must be quarantined. Output is
 * deterministic for a SEED; report-ids start with PREFIX so that two sets
 * never collide. GMime writes the MIME, zlib the gzip, jansson the JSON.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmime/gmime.h>
#include <jansson.h>
#include <zlib.h>

/* A reporter: who it is and the quirks of its mail. */
struct reporter {
	const char *org;
	const char *submitter;
	const char *contact;
	const char *label;     /* Content-Type of the report part */
	gboolean two_policies; /* Microsoft: sts and tlsa for the same domain */
};

static const struct reporter reporters[] = {
	{ "Google Inc.", "google.com", "smtp-tls-reporting@google.com", "application/tlsrpt+gzip",
	  FALSE },
	{ "Microsoft Corporation", "microsoft.com", "tlsrpt-noreply@microsoft.com",
	  "application/tlsrpt+gzip", TRUE },
	{ "Yahoo", "yahoo.com", "tlsrpt@yahoo.com", "application/gzip", FALSE },
	{ "Mail.Ru", "mail.ru", "tlsrpt@corp.mail.ru", "application/tlsrpt+gzip", FALSE },
	{ "Comcast", "comcast.net", "tlsrpt@comcast.net", "application/octet-stream", FALSE },
};

static const char *const result_types[] = {
	"certificate-expired",	   "certificate-host-mismatch",
	"certificate-not-trusted", "starttls-not-supported",
	"validation-failure",	   "sts-policy-fetch-error",
	"sts-webpki-invalid",	   "tlsa-invalid",
	"dnssec-invalid",	   "dane-required",
};

struct gen {
	GRand *rand;
	guint failure_percent;
	guint max_rows;
	guint fixed_rows; /* 0: random */
	const char *prefix;
};

static char *random_ip(GRand *r)
{
	if (g_rand_int_range(r, 0, 4) == 0)
		return g_strdup_printf("2001:db8:%x::%x", g_rand_int_range(r, 0, 0xffff),
				       g_rand_int_range(r, 1, 0xffff));
	return g_strdup_printf("198.%d.%d.%d", g_rand_int_range(r, 18, 20),
			       g_rand_int_range(r, 0, 256), g_rand_int_range(r, 1, 255));
}

/* failure-details rows for one policy. */
static json_t *gen_failures(struct gen *g, const char *domain, guint rows)
{
	json_t *a = json_array();

	for (guint i = 0; i < rows; i++) {
		const char *type =
			result_types[g_rand_int_range(g->rand, 0, G_N_ELEMENTS(result_types))];
		char *sending = random_ip(g->rand), *receiving = random_ip(g->rand);
		char *mx = g_strdup_printf("mx%d.%s", g_rand_int_range(g->rand, 1, 3), domain);
		json_t *f = json_pack("{s:s, s:s, s:s, s:s, s:i}", "result-type", type,
				      "sending-mta-ip", sending, "receiving-mx-hostname", mx,
				      "receiving-ip", receiving, "failed-session-count",
				      (json_int_t)g_rand_int_range(g->rand, 1, 50));

		if (g_rand_int_range(g->rand, 0, 3) == 0)
			json_object_set_new(f, "receiving-mx-helo", json_string(mx));
		if (g_rand_int_range(g->rand, 0, 2) == 0)
			json_object_set_new(f, "additional-information",
					    json_string("https://tls-reports.example/why"));
		if (g_str_equal(type, "sts-policy-fetch-error"))
			json_object_set_new(f, "failure-reason-code",
					    json_string("bad https response code: 404"));
		json_array_append_new(a, f);
		g_free(sending);
		g_free(receiving);
		g_free(mx);
	}
	return a;
}

static json_t *gen_policy(struct gen *g, const char *type, const char *domain, guint rows,
			  gboolean bad)
{
	json_t *mx = json_pack("[o]", json_sprintf("mx1.%s", domain));
	json_t *pol = json_pack("{s:s, s:s}", "policy-type", type, "policy-domain", domain);
	json_int_t ok = g_rand_int_range(g->rand, 1, 20000);
	json_int_t failed = bad ? -1 : (json_int_t)rows * 3;

	if (g_str_equal(type, "sts")) {
		json_object_set_new(
			pol, "policy-string",
			json_pack("[s, s, o, s]", "version: STSv1",
				  g_rand_boolean(g->rand) ? "mode: enforce" : "mode: testing",
				  json_sprintf("mx: mx1.%s", domain), "max_age: 604800"));
		json_object_set_new(pol, "mx-host", mx);
	} else if (g_str_equal(type, "tlsa")) {
		json_object_set_new(pol, "policy-string",
				    json_pack("[s]", "3 1 1 0C72AC70B745AC19998811B131D662C9AC69"
						     "DBDBE7CB23E5B514B56664C5D3D6"));
		json_object_set_new(pol, "mx-host", mx);
	} else {
		json_decref(mx);
	}
	return json_pack("{s:o, s:{s:I, s:I}, s:o}", "policy", pol, "summary",
			 "total-successful-session-count", ok, "total-failure-session-count",
			 failed, "failure-details", gen_failures(g, domain, rows));
}

/* How many failure-details a report gets: none for most, a log-uniform
 * number for the rest (many small, a few large, like real ones). */
static guint gen_rows(struct gen *g)
{
	if (g->fixed_rows > 0)
		return g->fixed_rows;
	if ((guint)g_rand_int_range(g->rand, 0, 100) >= g->failure_percent)
		return 0;
	return (guint)exp(g_rand_double(g->rand) * log(g->max_rows)) + (g->max_rows > 1);
}

static json_t *gen_report(struct gen *g, const struct reporter *rep, const char *domain,
			  guint index, gboolean bad)
{
	static const char *const types[] = { "sts", "sts", "no-policy-found", "tlsa" };
	const char *type = rep->two_policies ? "sts" : types[g_rand_int_range(g->rand, 0, 4)];
	guint day = 1 + index % 28;
	json_t *policies = json_array();
	json_t *r;

	json_array_append_new(policies, gen_policy(g, type, domain, MIN(gen_rows(g), 100000), bad));
	if (rep->two_policies)
		json_array_append_new(policies, gen_policy(g, "tlsa", domain, 0, FALSE));
	r = json_pack("{s:s, s:{s:o, s:o}, s:s, s:o, s:o}", "organization-name", rep->org,
		      "date-range", "start-datetime", json_sprintf("2026-04-%02uT00:00:00Z", day),
		      "end-datetime", json_sprintf("2026-04-%02uT23:59:59Z", day), "contact-info",
		      rep->contact, "report-id",
		      json_sprintf("%s-%06u+%s@%s", g->prefix, index, domain, rep->submitter),
		      "policies", policies);
	return r;
}

/* gzip as the reporters' libraries write it: one member, no name. */
static GBytes *gzip_bytes(const char *data, gsize len)
{
	z_stream z = { 0 };
	GByteArray *out = g_byte_array_sized_new((guint)(len / 4 + 64));
	guint8 buf[65536];
	int rc;

	if (deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		g_error("deflateInit2 failed");
	z.next_in = (Bytef *)data;
	z.avail_in = (uInt)len;
	do {
		z.next_out = buf;
		z.avail_out = sizeof buf;
		rc = deflate(&z, Z_FINISH);
		g_byte_array_append(out, buf, (guint)(sizeof buf - z.avail_out));
	} while (rc == Z_OK);
	if (rc != Z_STREAM_END)
		g_error("deflate failed: %d", rc);
	deflateEnd(&z);
	return g_byte_array_free_to_bytes(out);
}

static GMimeObject *gen_text_part(const struct reporter *rep)
{
	GMimeTextPart *text = g_mime_text_part_new_with_subtype("plain");
	g_autofree char *body = g_strdup_printf(
		"This is an aggregate TLS report from %s. It is not spam, do not reply.\n",
		rep->submitter);

	g_mime_text_part_set_text(text, body);
	return GMIME_OBJECT(text);
}

static GMimeObject *gen_report_part(const struct reporter *rep, GBytes *gz, const char *name)
{
	GMimePart *part = g_mime_part_new_with_type("application", strchr(rep->label, '/') + 1);
	GMimeStream *mem =
		g_mime_stream_mem_new_with_byte_array(g_bytes_unref_to_array(g_bytes_ref(gz)));
	GMimeDataWrapper *content =
		g_mime_data_wrapper_new_with_stream(mem, GMIME_CONTENT_ENCODING_DEFAULT);

	g_mime_part_set_content(part, content);
	g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
	g_mime_part_set_filename(part, name);
	g_object_unref(content);
	g_object_unref(mem);
	return GMIME_OBJECT(part);
}

/* One message of the set into path. */
static void gen_message(struct gen *g, guint index, gboolean bad, const char *path)
{
	const struct reporter *rep =
		&reporters[g_rand_int_range(g->rand, 0, G_N_ELEMENTS(reporters))];
	g_autofree char *domain =
		g_strdup_printf("d%04d.example", g_rand_int_range(g->rand, 0, 5000));
	json_t *report = gen_report(g, rep, domain, index, bad);
	char *json = json_dumps(report, JSON_COMPACT);
	g_autoptr(GBytes) gz = gzip_bytes(json, strlen(json));
	g_autofree char *name =
		g_strdup_printf("%s!%s!%u!%u!001.json.gz", rep->submitter, domain,
				1775001600 + index % 28 * 86400, 1775087999 + index % 28 * 86400);
	g_autofree char *msgid =
		g_strdup_printf("%s-%06u.%s@%s", g->prefix, index, domain, rep->submitter);
	g_autofree char *subject = g_strdup_printf(
		"Report Domain: %s Submitter: %s Report-ID: <%s>", domain, rep->submitter, msgid);
	g_autofree char *from = g_strdup_printf("noreply-smtp-tls-reporting@%s", rep->submitter);
	GMimeMessage *msg = g_mime_message_new(TRUE);
	GMimeMultipart *mp = g_mime_multipart_new_with_subtype("report");
	GMimeObject *text = gen_text_part(rep), *attachment = gen_report_part(rep, gz, name);
	GDateTime *date = g_date_time_new_utc(2026, 4, 1 + index % 28, 1, 2, 3);
	GMimeStream *out;
	FILE *fp = fopen(path, "wb");

	if (fp == NULL)
		g_error("%s: %s", path, g_strerror(errno));
	g_mime_object_set_content_type_parameter(GMIME_OBJECT(mp), "report-type", "tlsrpt");
	g_mime_multipart_add(mp, text);
	g_mime_multipart_add(mp, attachment);
	g_mime_message_set_mime_part(msg, GMIME_OBJECT(mp));
	g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_FROM, rep->org, from);
	g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_TO, NULL, "tlsrpt@example.com");
	g_mime_message_set_subject(msg, subject, NULL);
	g_mime_message_set_message_id(msg, msgid);
	g_mime_message_set_date(msg, date);
	g_mime_object_set_header(GMIME_OBJECT(msg), "TLS-Report-Domain", domain, NULL);
	g_mime_object_set_header(GMIME_OBJECT(msg), "TLS-Report-Submitter", rep->submitter, NULL);
	out = g_mime_stream_file_new(fp); /* owns fp */
	if (g_mime_object_write_to_stream(GMIME_OBJECT(msg), NULL, out) < 0 ||
	    g_mime_stream_flush(out) < 0)
		g_error("%s: write failed", path);
	g_object_unref(out);
	g_date_time_unref(date);
	g_object_unref(text);
	g_object_unref(attachment);
	g_object_unref(mp);
	g_object_unref(msg);
	free(json);
	json_decref(report);
}

static void mkdir_or_die(const char *path)
{
	if (g_mkdir_with_parents(path, 0755) < 0)
		g_error("%s: %s", path, g_strerror(errno));
}

int main(int argc, char **argv)
{
	struct gen g = { .failure_percent = 20, .max_rows = 100, .prefix = "bench" };
	guint count = 100, seed = 1;
	g_autoptr(GArray) bad = g_array_new(FALSE, FALSE, sizeof(guint));
	g_autofree char *newdir = NULL;
	int opt;

	while ((opt = getopt(argc, argv, "n:f:m:r:b:p:s:")) != -1) {
		guint v = (guint)g_ascii_strtoull(optarg ? optarg : "0", NULL, 10);

		switch (opt) {
		case 'n':
			count = v;
			break;
		case 'f':
			g.failure_percent = MIN(v, 100);
			break;
		case 'm':
			g.max_rows = MAX(v, 1);
			break;
		case 'r':
			g.fixed_rows = v;
			break;
		case 'b':
			g_array_append_val(bad, v);
			break;
		case 'p':
			g.prefix = optarg;
			break;
		case 's':
			seed = v;
			break;
		default:
			fprintf(stderr,
				"usage: %s [-n COUNT] [-f PERCENT] [-m MAX] [-r ROWS] "
				"[-b INDEX]... [-p PREFIX] [-s SEED] MAILDIR\n",
				argv[0]);
			return 64;
		}
	}
	if (optind != argc - 1)
		return fprintf(stderr, "%s: one MAILDIR expected\n", argv[0]), 64;
	g_mime_init();
	g.rand = g_rand_new_with_seed(seed);
	newdir = g_build_filename(argv[optind], "new", NULL);
	mkdir_or_die(argv[optind]);
	mkdir_or_die(newdir);
	for (gsize i = 0; i < 2; i++) {
		g_autofree char *d = g_build_filename(argv[optind], i ? "tmp" : "cur", NULL);

		mkdir_or_die(d);
	}
	for (guint i = 1; i <= count; i++) {
		gboolean is_bad = FALSE;
		g_autofree char *path = NULL;

		for (guint j = 0; j < bad->len; j++)
			is_bad |= g_array_index(bad, guint, j) == i;
		path = g_strdup_printf("%s/%s.%06u.gen", newdir, g.prefix, i);
		gen_message(&g, i, is_bad, path);
	}
	g_rand_free(g.rand);
	g_mime_shutdown();
	return 0;
}
