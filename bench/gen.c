/*
 * gen.c: a Maildir of TLS-RPT messages shaped like real reporters' mail.
 *
 * bench/gen [-n COUNT] [-f PERCENT] [-m MAX] [-r ROWS] [-b INDEX]... [-p PREFIX] [-s SEED] DIR
 * bench/gen -d DOMAINS -D YYYY-MM-DD [-N DAYS] [-R AVG] [-n MAX] [-f PERCENT] [-m MAX]
 *           [-p PREFIX] [-s SEED] (-c | DIR)
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
 *
 * The first form is COUNT messages for random domains in April 2026. The
 * second (-d, for bench/scale.sh) is a calendar, the mail of a real
 * rua address: for each of DAYS UTC days from -D and each policy domain
 * d0000.example .. (DOMAINS - 1), one report from each of AVG (default
 * 2.2: 2 or 3) of the five reporters, covering that day from 00:00:00Z to
 * the next. What a domain gets on a day depends only on SEED, the day and
 * the domain, never on the range asked for, so a year generated in chunks
 * is the same year, and each report-id (PREFIX, day, domain) is unique in
 * it. -n stops after MAX messages; -c writes nothing and prints
 * "YYYY-MM-DD COUNT" per day, to plan the chunks ahead. An MTA-STS domain's
 * mode is fixed per domain there (every third enforces), as in real life.
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
	const char *sts_mode; /* NULL: a random mode per policy */
};

/* What one message is: who sends it, for which domain, over which time. */
struct msg {
	const struct reporter *rep;
	const char *domain;
	gint64 start, end; /* date-range, unix seconds */
	gint64 sent;	   /* Date header */
	const char *report_id;
	const char *msgid;
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
		json_object_set_new(pol, "policy-string",
				    json_pack("[s, s, o, s]", "version: STSv1",
					      g->sts_mode		? g->sts_mode
					      : g_rand_boolean(g->rand) ? "mode: enforce"
									: "mode: testing",
					      json_sprintf("mx: mx1.%s", domain),
					      "max_age: 604800"));
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

static json_t *utc_string(gint64 t)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t);
	g_autofree char *s = g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ");

	return json_string(s);
}

static json_t *gen_report(struct gen *g, const struct msg *m, gboolean bad)
{
	static const char *const types[] = { "sts", "sts", "no-policy-found", "tlsa" };
	const char *type = m->rep->two_policies ? "sts" : types[g_rand_int_range(g->rand, 0, 4)];
	json_t *policies = json_array();

	json_array_append_new(policies,
			      gen_policy(g, type, m->domain, MIN(gen_rows(g), 100000), bad));
	if (m->rep->two_policies)
		json_array_append_new(policies, gen_policy(g, "tlsa", m->domain, 0, FALSE));
	return json_pack("{s:s, s:{s:o, s:o}, s:s, s:s, s:o}", "organization-name", m->rep->org,
			 "date-range", "start-datetime", utc_string(m->start), "end-datetime",
			 utc_string(m->end), "contact-info", m->rep->contact, "report-id",
			 m->report_id, "policies", policies);
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

/* One message into path. */
static void gen_message(struct gen *g, const struct msg *m, gboolean bad, const char *path)
{
	const struct reporter *rep = m->rep;
	json_t *report = gen_report(g, m, bad);
	char *json = json_dumps(report, JSON_COMPACT);
	g_autoptr(GBytes) gz = gzip_bytes(json, strlen(json));
	g_autofree char *name =
		g_strdup_printf("%s!%s!%" G_GINT64_FORMAT "!%" G_GINT64_FORMAT "!001.json.gz",
				rep->submitter, m->domain, m->start, m->end);
	g_autofree char *subject =
		g_strdup_printf("Report Domain: %s Submitter: %s Report-ID: <%s>", m->domain,
				rep->submitter, m->msgid);
	g_autofree char *from = g_strdup_printf("noreply-smtp-tls-reporting@%s", rep->submitter);
	GMimeMessage *msg = g_mime_message_new(TRUE);
	GMimeMultipart *mp = g_mime_multipart_new_with_subtype("report");
	GMimeObject *text = gen_text_part(rep), *attachment = gen_report_part(rep, gz, name);
	GDateTime *date = g_date_time_new_from_unix_utc(m->sent);
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
	g_mime_message_set_message_id(msg, m->msgid);
	g_mime_message_set_date(msg, date);
	g_mime_object_set_header(GMIME_OBJECT(msg), "TLS-Report-Domain", m->domain, NULL);
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

/* The first form: COUNT messages, a random reporter and domain each, on
 * the days of April 2026 in turn. */
static void gen_random(struct gen *g, guint count, GArray *bad, const char *newdir)
{
	for (guint i = 1; i <= count; i++) {
		gboolean is_bad = FALSE;
		const struct reporter *rep =
			&reporters[g_rand_int_range(g->rand, 0, G_N_ELEMENTS(reporters))];
		g_autofree char *domain =
			g_strdup_printf("d%04d.example", g_rand_int_range(g->rand, 0, 5000));
		g_autofree char *report_id =
			g_strdup_printf("%s-%06u+%s@%s", g->prefix, i, domain, rep->submitter);
		g_autofree char *msgid =
			g_strdup_printf("%s-%06u.%s@%s", g->prefix, i, domain, rep->submitter);
		g_autofree char *path = g_strdup_printf("%s/%s.%06u.gen", newdir, g->prefix, i);
		struct msg m = {
			.rep = rep, .domain = domain, .report_id = report_id, .msgid = msgid
		};

		m.start = 1775001600 + (gint64)(i % 28) * 86400; /* 2026-04-01 + i % 28 days */
		m.end = m.start + 86399;
		m.sent = m.start + 3723;
		for (guint j = 0; j < bad->len; j++)
			is_bad |= g_array_index(bad, guint, j) == i;
		gen_message(g, &m, is_bad, path);
	}
}

struct calendar {
	guint domains;
	gint64 first; /* unix seconds of the first day, 00:00:00Z */
	guint days;
	double reporters; /* per domain and day, on average */
	guint max;	  /* messages; 0: no limit */
	gboolean count_only;
	guint seed;
};

/* The calendar: see the top of this file. Each domain-day draws from its
 * own generator, seeded by (SEED, day, domain), so that it is the same
 * whatever range or limit it is generated in. */
static void gen_calendar(struct gen *g, const struct calendar *c, const char *newdir)
{
	guint written = 0;

	for (guint day = 0; day < c->days && (c->max == 0 || written < c->max); day++) {
		gint64 start = c->first + (gint64)day * 86400;
		g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(start);
		g_autofree char *date = g_date_time_format(dt, "%Y-%m-%d");
		g_autofree char *compact = g_date_time_format(dt, "%Y%m%d");
		guint on_day = 0;

		for (guint d = 0; d < c->domains && (c->max == 0 || written < c->max); d++) {
			guint32 seed[3] = { c->seed, (guint32)(start / 86400), d };
			guint order[G_N_ELEMENTS(reporters)];
			guint n = (guint)c->reporters;
			g_autofree char *domain = g_strdup_printf("d%04u.example", d);

			g->rand = g_rand_new_with_seed_array(seed, 3);
			/* floor(AVG) or one more, so that the mean is AVG */
			if (g_rand_double(g->rand) < c->reporters - n)
				n++;
			n = MIN(n, G_N_ELEMENTS(reporters));
			/* which n of the five: the head of a shuffle */
			for (guint i = 0; i < G_N_ELEMENTS(reporters); i++)
				order[i] = i;
			for (guint i = 0; i < n; i++) {
				guint j = (guint)g_rand_int_range(g->rand, (gint32)i,
								  G_N_ELEMENTS(reporters));
				guint t = order[i];

				order[i] = order[j];
				order[j] = t;
			}
			on_day += n;
			g->sts_mode = d % 3 == 0 ? "mode: enforce" : "mode: testing";
			for (guint i = 0;
			     i < n && !c->count_only && (c->max == 0 || written < c->max); i++) {
				const struct reporter *rep = &reporters[order[i]];
				g_autofree char *report_id = g_strdup_printf(
					"%s-%s+%s@%s", g->prefix, date, domain, rep->submitter);
				g_autofree char *msgid = g_strdup_printf(
					"%s-%s.%s@%s", g->prefix, compact, domain, rep->submitter);
				g_autofree char *path =
					g_strdup_printf("%s/%s.%s.%04u.%u.gen", newdir, g->prefix,
							compact, d, order[i]);
				struct msg m = { .rep = rep,
						 .domain = domain,
						 .start = start,
						 .end = start + 86400,
						 .sent = start + 86400 + 3723,
						 .report_id = report_id,
						 .msgid = msgid };

				gen_message(g, &m, FALSE, path);
				written++;
			}
			g_rand_free(g->rand);
			g->rand = NULL;
		}
		if (c->count_only)
			printf("%s %u\n", date, on_day);
	}
}

static int usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [-n COUNT] [-f PERCENT] [-m MAX] [-r ROWS] [-b INDEX]... [-p PREFIX] "
		"[-s SEED] MAILDIR\n"
		"       %s -d DOMAINS -D YYYY-MM-DD [-N DAYS] [-R AVG] [-n MAX] [-f PERCENT] "
		"[-m MAX] [-p PREFIX] [-s SEED] (-c | MAILDIR)\n",
		argv0, argv0);
	return 64;
}

int main(int argc, char **argv)
{
	struct gen g = { .failure_percent = 20, .max_rows = 100, .prefix = "bench" };
	struct calendar cal = { .days = 1, .reporters = 2.2 };
	guint count = 100, seed = 1;
	g_autoptr(GArray) bad = g_array_new(FALSE, FALSE, sizeof(guint));
	g_autofree char *newdir = NULL;
	int opt, y, mo, d;
	char tail;
	gboolean have_first = FALSE;

	while ((opt = getopt(argc, argv, "n:f:m:r:b:p:s:d:D:N:R:c")) != -1) {
		guint v = (guint)g_ascii_strtoull(optarg ? optarg : "0", NULL, 10);

		switch (opt) {
		case 'n':
			count = v;
			cal.max = v;
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
		case 'd':
			cal.domains = MAX(v, 1);
			break;
		case 'D':
			if (sscanf(optarg, "%4d-%2d-%2d%c", &y, &mo, &d, &tail) != 3 ||
			    !g_date_valid_dmy((GDateDay)d, (GDateMonth)mo, (GDateYear)y))
				return fprintf(stderr, "%s: -D %s: expected YYYY-MM-DD\n", argv[0],
					       optarg),
				       64;
			{
				g_autoptr(GDateTime) dt = g_date_time_new_utc(y, mo, d, 0, 0, 0);

				cal.first = g_date_time_to_unix(dt);
				have_first = TRUE;
			}
			break;
		case 'N':
			cal.days = v;
			break;
		case 'R':
			cal.reporters = CLAMP(g_ascii_strtod(optarg, NULL), 1.0,
					      (double)G_N_ELEMENTS(reporters));
			break;
		case 'c':
			cal.count_only = TRUE;
			break;
		default:
			return usage(argv[0]);
		}
	}
	if (cal.domains > 0 && !have_first)
		return fprintf(stderr, "%s: -d needs -D (the first day)\n", argv[0]), 64;
	if (cal.count_only) {
		if (cal.domains == 0 || optind != argc)
			return usage(argv[0]);
		cal.seed = seed;
		gen_calendar(&g, &cal, NULL);
		return 0;
	}
	if (optind != argc - 1)
		return fprintf(stderr, "%s: one MAILDIR expected\n", argv[0]), 64;
	g_mime_init();
	newdir = g_build_filename(argv[optind], "new", NULL);
	mkdir_or_die(argv[optind]);
	mkdir_or_die(newdir);
	for (gsize i = 0; i < 2; i++) {
		g_autofree char *sub = g_build_filename(argv[optind], i ? "tmp" : "cur", NULL);

		mkdir_or_die(sub);
	}
	if (cal.domains > 0) {
		cal.seed = seed;
		gen_calendar(&g, &cal, newdir);
	} else {
		g.rand = g_rand_new_with_seed(seed);
		gen_random(&g, count, bad, newdir);
		g_rand_free(g.rand);
	}
	g_mime_shutdown();
	return 0;
}
