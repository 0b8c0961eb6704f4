/*
 * test_mail.c: every fixture in tests/fixtures through mail_parse (and
 * decode_payload for the parts), the limits, and the shared corpus.
 *
 * Fixtures are found through TLSWATCH_FIXTURES, else next to this binary
 * (G_TEST_DIST: tests/unit/../fixtures), which works from any directory.
 * The corpus is TLSWATCH_CORPUS, else ../shared/corpus from the repo root.
 */
#include <string.h>

#include "ingest/decode.h"
#include "ingest/mail.h"

#define MIB (1024u * 1024u)

static char *fixture_path(const char *name)
{
	const char *dir = g_getenv("TLSWATCH_FIXTURES");

	if (dir != NULL)
		return g_build_filename(dir, name, NULL);
	return g_test_build_filename(G_TEST_DIST, "..", "fixtures", name, NULL);
}

static GBytes *load(const char *path)
{
	char *data = NULL;
	gsize len = 0;
	GError *gerr = NULL;

	if (!g_file_get_contents(path, &data, &len, &gerr))
		g_error("%s", gerr->message);
	return g_bytes_new_take(data, len);
}

/* Parse raw, which must succeed, into m (mail_init'ed here). */
static void parse_ok(struct mail *m, GBytes *raw)
{
	struct error err = ERROR_INIT;

	mail_init(m);
	if (mail_parse(m, raw, NULL, &err) < 0)
		g_error("mail_parse: %s", err.msg);
	g_assert_cmpint(err.cls, ==, ERR_NONE);
	g_assert_nonnull(m->parts);
}

static void parse_fixture(struct mail *m, const char *name)
{
	char *path = fixture_path(name);
	GBytes *raw = load(path);

	parse_ok(m, raw);
	g_bytes_unref(raw);
	g_free(path);
}

/* The decoded (decode_payload) bytes of part i, as a string. */
static char *part_decoded(const struct mail *m, guint i, enum payload_kind *kind)
{
	const struct mail_part *p = g_ptr_array_index(m->parts, i);
	struct error err = ERROR_INIT;
	GBytes *out = decode_payload(p->content, 64 * MIB, kind, &err);
	gsize len = 0;
	const char *data;
	char *s;

	if (out == NULL)
		g_error("part %s: %s", p->path, err.msg);
	data = g_bytes_get_data(out, &len);
	s = g_strndup(data, len);
	g_bytes_unref(out);
	return s;
}

/* Part i is at path, labelled type, named filename (or NULL), was packed
 * as kind, and decodes to the fixture report of org with report_id. */
static void check_part(const struct mail *m, guint i, const char *path, const char *type,
		       const char *filename, enum payload_kind kind, const char *org,
		       const char *report_id)
{
	const struct mail_part *p;
	enum payload_kind got = PAYLOAD_UNKNOWN;
	char *json, *want_head, *want_id;

	g_assert_cmpuint(m->parts->len, >, i);
	p = g_ptr_array_index(m->parts, i);
	g_assert_cmpstr(p->path, ==, path);
	g_assert_cmpstr(p->content_type, ==, type);
	g_assert_cmpstr(p->filename, ==, filename);
	json = part_decoded(m, i, &got);
	g_assert_cmpint(got, ==, kind);
	want_head = g_strdup_printf("{\"organization-name\":\"%s\",\"date-range\":", org);
	want_id = g_strdup_printf("\"report-id\":\"%s\",", report_id);
	g_assert_true(g_str_has_prefix(json, want_head));
	g_assert_nonnull(strstr(json, want_id));
	/* The last newline is the boundary's when the part is not encoded. */
	g_assert_true(g_str_has_suffix(json, "}]}]}\n") || g_str_has_suffix(json, "}]}]}"));
	g_free(want_head);
	g_free(want_id);
	g_free(json);
}

static void test_rfc_gzip(void)
{
	struct mail m;
	char *path = fixture_path("rfc-gzip.eml");
	GBytes *raw = load(path);

	g_assert_nonnull(strstr(g_bytes_get_data(raw, NULL), "\r\n")); /* CRLF file */
	parse_ok(&m, raw);
	g_assert_cmpstr(m.message_id, ==, "fixture-rfc-gzip-1@example.net");
	g_assert_cmpstr(m.from, ==, "tlsrpt-noreply@example.net");
	g_assert_cmpstr(m.subject, ==,
			"Report Domain: example.com Submitter: example.net "
			"Report-ID: <fixture-rfc-gzip-1@example.net>");
	g_assert_cmpstr(m.report_domain, ==, "example.com");
	g_assert_cmpstr(m.report_submitter, ==, "example.net");
	g_assert_cmpstr(
		m.content_type, ==,
		"multipart/report; boundary=\"000000000000fixture0001\"; report-type=tlsrpt");
	g_assert_cmpuint(m.parts->len, ==, 1);
	check_part(&m, 0, "2", "application/tlsrpt+gzip",
		   "example.net!example.com!1778544000!1778630399!001.json.gz", PAYLOAD_GZIP,
		   "Fixture Corp", "fixture-rfc-gzip-1");
	mail_release(&m);
	g_assert_null(m.parts);
	g_bytes_unref(raw);
	g_free(path);
}

/* The same message with LF line endings gives the same parts and bytes. */
static void test_line_endings(void)
{
	struct mail crlf, lf;
	char *path = fixture_path("rfc-gzip.eml");
	GBytes *raw = load(path);
	char **lines = g_strsplit(g_bytes_get_data(raw, NULL), "\r\n", -1);
	char *joined = g_strjoinv("\n", lines);
	GBytes *raw_lf = g_bytes_new_take(joined, strlen(joined));
	const struct mail_part *a, *b;

	g_assert_null(strchr(joined, '\r'));
	parse_ok(&crlf, raw);
	parse_ok(&lf, raw_lf);
	g_assert_cmpuint(lf.parts->len, ==, 1);
	a = g_ptr_array_index(crlf.parts, 0);
	b = g_ptr_array_index(lf.parts, 0);
	g_assert_true(g_bytes_equal(a->content, b->content));
	g_assert_cmpstr(crlf.subject, ==, lf.subject);
	mail_release(&crlf);
	mail_release(&lf);
	g_bytes_unref(raw_lf);
	g_strfreev(lines);
	g_bytes_unref(raw);
	g_free(path);
}

static void test_octet_stream_name(void)
{
	struct mail m;

	parse_fixture(&m, "octet-stream-name.eml");
	g_assert_cmpstr(m.message_id, ==, "fixture-octet-stream-1@example.net");
	g_assert_cmpstr(m.from, ==, "tlsrpt@example.net");
	g_assert_cmpstr(m.subject, ==,
			"Report Domain: example.com Submitter: example.net "
			"Report-ID: <fixture-octet-stream-1> \u2013 pr\u00fcfen");
	g_assert_cmpstr(m.report_domain, ==, "example.com");
	g_assert_cmpstr(m.report_submitter, ==, "example.net");
	g_assert_cmpstr(
		m.content_type, ==,
		"multipart/report; report-type=\"tlsrpt\"; boundary=\"----=_Part_fixture_2\"");
	g_assert_cmpuint(m.parts->len, ==, 1);
	check_part(&m, 0, "2", "application/octet-stream",
		   "example.net!example.com!1778544000!1778630399!octet.json.gz", PAYLOAD_GZIP,
		   "Octet Fixture Ltd", "fixture-octet-stream-1");
	mail_release(&m);
}

static void test_zip_as_gzip(void)
{
	struct mail m;

	parse_fixture(&m, "zip-as-gzip.eml");
	/* Raw Latin-1 bytes in the Subject still come out as valid UTF-8. */
	g_assert_true(g_utf8_validate(m.subject, -1, NULL));
	g_assert_true(g_str_has_prefix(m.subject, "Rapport TLS r"));
	g_assert_cmpstr(m.from, ==, "reports@example.net");
	g_assert_null(m.report_domain);
	g_assert_cmpuint(m.parts->len, ==, 1);
	check_part(&m, 0, "2", "application/gzip", "report.dat", PAYLOAD_ZIP, "Zip Label Fixture",
		   "fixture-zip-as-gzip-1");
	mail_release(&m);
}

static void test_rfc2231_filename(void)
{
	struct mail m;

	parse_fixture(&m, "rfc2231-filename.eml");
	g_assert_cmpuint(m.parts->len, ==, 1);
	check_part(&m, 0, "2", "application/tlsrpt+gzip",
		   "example.net!example.com!1778544000!1778630399!rfc2231.json.gz", PAYLOAD_GZIP,
		   "RFC 2231 Fixture", "fixture-rfc2231-1");
	mail_release(&m);
}

static void test_gzip_trailing_crlf(void)
{
	struct mail m;
	const struct mail_part *p;
	gsize len = 0;
	const guint8 *data;

	parse_fixture(&m, "gzip-trailing-crlf.eml");
	g_assert_cmpuint(m.parts->len, ==, 1);
	p = g_ptr_array_index(m.parts, 0);
	data = g_bytes_get_data(p->content, &len);
	g_assert_cmpmem(data + len - 2, 2, "\r\n", 2); /* the CRLF is in the content */
	check_part(&m, 0, "2", "application/tlsrpt+gzip", "trailing.json.gz", PAYLOAD_GZIP,
		   "Mimecast-like Fixture", "fixture-trailing-crlf-1");
	mail_release(&m);
}

static void test_forwarded_rfc822(void)
{
	struct mail m;

	parse_fixture(&m, "forwarded-rfc822.eml");
	/* The outer message's headers, not the forwarded report's. */
	g_assert_cmpstr(m.message_id, ==, "fixture-forwarded-outer@example.com");
	g_assert_cmpstr(m.from, ==, "postmaster@example.com");
	g_assert_cmpstr(m.subject, ==, "Fwd: TLS report");
	g_assert_null(m.report_domain);
	g_assert_cmpstr(m.content_type, ==, "multipart/mixed; boundary=\"outer\"");
	g_assert_cmpuint(m.parts->len, ==, 1);
	check_part(&m, 0, "2.2", "application/tlsrpt+gzip", "forwarded.json.gz", PAYLOAD_GZIP,
		   "Forwarded Fixture", "fixture-forwarded-1");
	mail_release(&m);
}

static void test_qp_json(void)
{
	struct mail m;
	char *json;

	parse_fixture(&m, "qp-json.eml");
	g_assert_cmpuint(m.parts->len, ==, 1);
	check_part(&m, 0, "2", "application/tlsrpt+json", "qp.json", PAYLOAD_JSON, "QP Fixture",
		   "fixture-qp-json-1");
	/* =3D decoded, soft line breaks gone: one line again (its newline
	 * went with the boundary that follows). */
	json = part_decoded(&m, 0, NULL);
	g_assert_nonnull(strstr(json, "\"https://reports.example.net/info?id=fixture-qp-json-1\""));
	g_assert_null(strchr(json, '\n'));
	g_free(json);
	mail_release(&m);
}

static void test_no_closing_boundary(void)
{
	struct mail m;

	parse_fixture(&m, "no-closing-boundary.eml");
	g_assert_cmpstr(m.content_type, ==,
			"multipart/report; report-type=\"tlsrpt\"; boundary=\"open\"");
	g_assert_cmpuint(m.parts->len, ==, 1);
	check_part(&m, 0, "2", "application/tlsrpt+gzip", "noclose.json.gz", PAYLOAD_GZIP,
		   "Open End Fixture", "fixture-no-closing-1");
	mail_release(&m);
	/* Mail.ru's shape: a last delimiter without "--" opens an empty part. */
	parse_fixture(&m, "no-closing-dangling.eml");
	g_assert_cmpuint(m.parts->len, ==, 1);
	check_part(&m, 0, "2", "application/tlsrpt+gzip", "dangling.json.gz", PAYLOAD_GZIP,
		   "Dangling Fixture", "fixture-dangling-1");
	mail_release(&m);
}

static void test_contenttype_rewritten(void)
{
	struct mail m;

	parse_fixture(&m, "contenttype-rewritten.eml");
	g_assert_cmpuint(m.parts->len, ==, 1);
	/* GMime sees text/plain; the label comes from the "ContentType:" line. */
	check_part(&m, 0, "2", "application/tlsrpt+gzip", "rewritten.json.gz", PAYLOAD_GZIP,
		   "Rewritten Fixture", "fixture-contenttype-1");
	mail_release(&m);
}

static void test_description_filename(void)
{
	struct mail m;

	parse_fixture(&m, "description-filename.eml");
	g_assert_cmpstr(m.message_id, ==, "fixture-description-1+example.com@example.com");
	g_assert_cmpstr(m.from, ==, "tlsrpt-noreply@example.net");
	g_assert_cmpstr(m.subject, ==,
			"Report Domain: example.com Submitter: example.net Report-ID: "
			"fixture-description-1+example.com");
	g_assert_cmpstr(m.report_domain, ==, "example.com");
	g_assert_cmpstr(m.report_submitter, ==, "example.net");
	g_assert_cmpuint(m.parts->len, ==, 1);
	check_part(&m, 0, "2", "application/tlsrpt+gzip",
		   "example.net!example.com!1778544000!1778630399!133000000000000001.json.gz",
		   PAYLOAD_GZIP, "Description Fixture", "fixture-description-1");
	mail_release(&m);
}

static void test_two_reports(void)
{
	struct mail m;

	parse_fixture(&m, "two-reports.eml");
	g_assert_cmpuint(m.parts->len, ==, 2);
	check_part(&m, 0, "2", "application/tlsrpt+gzip", "two-a.json.gz", PAYLOAD_GZIP,
		   "Two Reports Fixture A", "fixture-two-a-1");
	check_part(&m, 1, "3", "application/tlsrpt", "two-b.json", PAYLOAD_JSON,
		   "Two Reports Fixture B", "fixture-two-b-1");
	mail_release(&m);
}

static void test_toplevel(void)
{
	struct mail m;

	parse_fixture(&m, "toplevel-gzip.eml");
	g_assert_cmpstr(m.content_type, ==,
			"application/gzip; name=\"example.net!example.com!1778544000!1778630399!"
			"top.json.gz\"");
	g_assert_cmpuint(m.parts->len, ==, 1);
	check_part(&m, 0, "1", "application/gzip",
		   "example.net!example.com!1778544000!1778630399!top.json.gz", PAYLOAD_GZIP,
		   "Top Gzip Fixture", "fixture-top-gzip-1");
	mail_release(&m);
	parse_fixture(&m, "toplevel-zip.eml");
	g_assert_cmpuint(m.parts->len, ==, 1);
	/* The archive holds a README too: the .json member is picked. */
	check_part(&m, 0, "1", "application/zip",
		   "example.net!example.com!1778544000!1778630399.zip", PAYLOAD_ZIP,
		   "Top Zip Fixture", "fixture-top-zip-1");
	mail_release(&m);
}

/* Not TLS reports: the DMARC zip is a candidate (decode finds XML), the
 * bounce has none. */
static void test_dmarc_and_bounce(void)
{
	struct mail m;
	enum payload_kind kind = PAYLOAD_UNKNOWN;
	const struct mail_part *p;
	char *xml;

	parse_fixture(&m, "dmarc-zip.eml");
	g_assert_cmpuint(m.parts->len, ==, 1);
	p = g_ptr_array_index(m.parts, 0);
	g_assert_cmpstr(p->path, ==, "2");
	g_assert_cmpstr(p->content_type, ==, "application/zip");
	xml = part_decoded(&m, 0, &kind);
	g_assert_cmpint(kind, ==, PAYLOAD_ZIP);
	g_assert_cmpint(decode_sniff((const guint8 *)xml, strlen(xml)), ==, PAYLOAD_XML);
	g_assert_nonnull(strstr(xml, "<report_id>fixture-dmarc-1</report_id>"));
	g_free(xml);
	mail_release(&m);
	parse_fixture(&m, "bounce-dsn.eml");
	g_assert_cmpstr(m.content_type, ==,
			"multipart/report; report-type=delivery-status; boundary=\"dsn\"");
	g_assert_cmpstr(m.from, ==, "MAILER-DAEMON@example.com");
	g_assert_cmpuint(m.parts->len, ==, 0);
	mail_release(&m);
}

static void test_not_mail(void)
{
	static const char *const names[] = { "junk.eml", "empty.eml" };

	for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
		struct mail m;
		struct error err = ERROR_INIT;
		char *path = fixture_path(names[i]);
		GBytes *raw = load(path);

		mail_init(&m);
		g_assert_cmpint(mail_parse(&m, raw, NULL, &err), ==, -1);
		g_assert_cmpint(err.cls, ==, ERR_INPUT);
		g_assert_cmpstr(err.msg, ==, "not a mail message");
		g_assert_null(m.message_id);
		mail_release(&m);
		error_clear(&err);
		g_bytes_unref(raw);
		g_free(path);
	}
}

/* A message with `parts` text leaves under one multipart. */
static GBytes *make_wide(guint parts)
{
	GString *s = g_string_new("Message-ID: <wide@example.com>\nMIME-Version: 1.0\n"
				  "Content-Type: multipart/mixed; boundary=\"w\"\n\n");

	for (guint i = 0; i < parts; i++)
		g_string_append_printf(s, "--w\nContent-Type: text/plain\n\npart %u\n", i);
	g_string_append(s, "--w--\n");
	return g_string_free_to_bytes(s);
}

/* A JSON leaf inside `depth` nested multiparts. */
static GBytes *make_deep(guint depth)
{
	GString *s = g_string_new("Message-ID: <deep@example.com>\nMIME-Version: 1.0\n");

	for (guint i = 0; i < depth; i++)
		g_string_append_printf(
			s, "Content-Type: multipart/mixed; boundary=\"d%u\"\n\n--d%u\n", i, i);
	g_string_append(s, "Content-Type: application/json\n\n{\"deep\":true}\n");
	for (guint i = depth; i-- > 0;)
		g_string_append_printf(s, "--d%u--\n", i);
	return g_string_free_to_bytes(s);
}

static void parse_fails(GBytes *raw, const struct mail_limits *limits, const char *reason,
			const char *message_id)
{
	struct mail m;
	struct error err = ERROR_INIT;

	mail_init(&m);
	g_assert_cmpint(mail_parse(&m, raw, limits, &err), ==, -1);
	g_assert_cmpint(err.cls, ==, ERR_INPUT);
	g_assert_cmpstr(err.msg, ==, reason);
	/* The header is still there for the quarantine record. */
	g_assert_cmpstr(m.message_id, ==, message_id);
	g_assert_cmpuint(m.parts->len, ==, 0);
	mail_release(&m);
	error_clear(&err);
}

/* max-header-size: one field, its continuation lines included, before
 * GMime sees it; the body is not the header. */
static void test_limit_header_field(void)
{
	const struct mail_limits cap = { 0, 0, 100 };
	/* Subject over three lines: 40 + 32 + 31 bytes = 103, over 100. */
	static const char text[] =
		"Message-ID: <f@example.com>\nSubject: 123456789012345678901234567890\n"
		"\t123456789012345678901234567890\n 12345678901234567890123456789\n"
		"From: a@example.com\n\n";
	GBytes *folded = g_bytes_new_static(text, strlen(text));
	g_autoptr(GString) body = g_string_new("Subject: short\nMessage-ID: <b@example.com>\n\n");
	struct mail m;
	struct error err = ERROR_INIT;

	mail_init(&m);
	g_assert_cmpint(mail_parse(&m, folded, &cap, &err), ==, -1);
	g_assert_cmpint(err.cls, ==, ERR_INPUT);
	g_assert_cmpstr(err.msg, ==,
			"header field Subject is 103 bytes, over max-header-size (100)");
	/* Refused before GMime: no header field was read. */
	g_assert_null(m.message_id);
	mail_release(&m);
	error_clear(&err);

	g_string_append(body, "a line of the body, longer than one hundred bytes: ");
	for (guint i = 0; i < 10; i++)
		g_string_append(body, "0123456789");
	g_string_append_c(body, '\n');
	{
		g_autoptr(GBytes) raw = g_bytes_new(body->str, body->len);

		mail_init(&m);
		g_assert_cmpint(mail_parse(&m, raw, &cap, &err), ==, 0);
		g_assert_cmpstr(m.message_id, ==, "b@example.com");
		mail_release(&m);
	}
	g_bytes_unref(folded);
}

static void test_limits(void)
{
	struct mail_limits small = { 50, 5, 0 };
	GBytes *wide = make_wide(1100);
	GBytes *deep = make_deep(30);
	GBytes *edge = make_deep(20);
	GBytes *over = make_deep(21);
	struct mail m;
	const struct mail_part *p;

	parse_fails(wide, NULL, "too many MIME parts (over max-mime-parts, 1000)",
		    "wide@example.com");
	parse_fails(wide, &small, "too many MIME parts (over max-mime-parts, 50)",
		    "wide@example.com");
	parse_fails(deep, NULL, "MIME nesting too deep (over max-mime-depth, 20 levels)",
		    "deep@example.com");
	parse_fails(edge, &small, "MIME nesting too deep (over max-mime-depth, 5 levels)",
		    "deep@example.com");
	parse_fails(over, NULL, "MIME nesting too deep (over max-mime-depth, 20 levels)",
		    "deep@example.com");
	/* Exactly at the default depth: the leaf is found, 20 levels down. */
	parse_ok(&m, edge);
	g_assert_cmpuint(m.parts->len, ==, 1);
	p = g_ptr_array_index(m.parts, 0);
	g_assert_cmpstr(p->path, ==, "1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1");
	g_assert_cmpstr(p->content_type, ==, "application/json");
	mail_release(&m);
	g_bytes_unref(wide);
	g_bytes_unref(deep);
	g_bytes_unref(edge);
	g_bytes_unref(over);
}

/* Header values: cut past 998*4 bytes on a character boundary, always
 * valid UTF-8; From inside a group; an empty TLS-Report-Domain is NULL. */
static void test_headers(void)
{
	GString *s = g_string_new("From: Reporters: tlsrpt@example.net, other@example.net;\n"
				  "TLS-Report-Domain:  \nSubject: ");
	GBytes *raw;
	struct mail m;

	for (int i = 0; i < 3000; i++)
		g_string_append(s, "\xc3\xa9"); /* 6000 bytes of "é" */
	g_string_append(s, "\nTLS-Report-Submitter: \xff\xfe bad.example.net\n\nbody\n");
	raw = g_string_free_to_bytes(s);
	parse_ok(&m, raw);
	g_assert_cmpstr(m.from, ==, "tlsrpt@example.net");
	g_assert_null(m.report_domain);
	g_assert_cmpuint(strlen(m.subject), ==, 998 * 4);
	g_assert_true(g_utf8_validate(m.subject, -1, NULL));
	g_assert_true(g_utf8_validate(m.report_submitter, -1, NULL));
	g_assert_true(g_str_has_suffix(m.report_submitter, " bad.example.net"));
	g_assert_null(m.content_type);
	g_assert_cmpuint(m.parts->len, ==, 0); /* text/plain "body" */
	mail_release(&m);
	g_bytes_unref(raw);
}

static char *corpus_dir(const char *sub)
{
	const char *dir = g_getenv("TLSWATCH_CORPUS");

	return g_build_filename(dir != NULL ? dir : "../shared/corpus", sub, NULL);
}

/* Every .eml/.elm file under dir (recursively) into files. */
static void collect_mail(const char *dir, GPtrArray *files)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *name;

	if (d == NULL)
		return;
	while ((name = g_dir_read_name(d)) != NULL) {
		char *path = g_build_filename(dir, name, NULL);

		if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
			collect_mail(path, files);
			g_free(path);
		} else if (g_str_has_suffix(name, ".eml") || g_str_has_suffix(name, ".elm")) {
			g_ptr_array_add(files, path);
		} else {
			g_free(path);
		}
	}
	g_dir_close(d);
}

/* Whether some candidate of m decodes to JSON; all are decoded. */
static gboolean any_json(const struct mail *m)
{
	gboolean found = FALSE;

	for (guint i = 0; i < m->parts->len; i++) {
		const struct mail_part *p = g_ptr_array_index(m->parts, i);
		struct error err = ERROR_INIT;
		GBytes *out = decode_payload(p->content, 64 * MIB, NULL, &err);
		gsize len = 0;
		const guint8 *data = out != NULL ? g_bytes_get_data(out, &len) : NULL;

		if (out != NULL && decode_sniff(data, len) == PAYLOAD_JSON)
			found = TRUE;
		if (out != NULL)
			g_bytes_unref(out);
		error_clear(&err);
	}
	return found;
}

static void test_corpus(gconstpointer sub)
{
	char *dir = corpus_dir(sub);
	GPtrArray *files = g_ptr_array_new_with_free_func(g_free);

	if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
		g_test_skip("corpus not found (set TLSWATCH_CORPUS)");
		goto done;
	}
	collect_mail(dir, files);
	g_assert_cmpuint(files->len, >, 0);
	for (guint i = 0; i < files->len; i++) {
		const char *path = g_ptr_array_index(files, i);
		GBytes *raw = load(path);
		struct mail m;
		struct error err = ERROR_INIT;

		mail_init(&m);
		if (strcmp(sub, "tlsrpt") == 0) {
			if (mail_parse(&m, raw, NULL, &err) < 0)
				g_error("%s: %s", path, err.msg);
			if (!any_json(&m))
				g_error("%s: no candidate decodes to JSON", path);
		} else if (mail_parse(&m, raw, NULL, &err) == 0 && any_json(&m)) {
			/* DMARC reports, bounces, notifications: XML or text,
			 * never a JSON candidate that ingest would parse. */
			g_error("%s: a mail that is not a TLS report has a JSON candidate", path);
		}
		g_test_message("%s: %u candidate(s)", path, m.parts ? m.parts->len : 0);
		mail_release(&m);
		error_clear(&err);
		g_bytes_unref(raw);
	}
done:
	g_ptr_array_unref(files);
	g_free(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	mail_library_init();
	g_test_add_func("/mail/rfc-gzip", test_rfc_gzip);
	g_test_add_func("/mail/line-endings", test_line_endings);
	g_test_add_func("/mail/octet-stream-name", test_octet_stream_name);
	g_test_add_func("/mail/zip-as-gzip", test_zip_as_gzip);
	g_test_add_func("/mail/rfc2231-filename", test_rfc2231_filename);
	g_test_add_func("/mail/gzip-trailing-crlf", test_gzip_trailing_crlf);
	g_test_add_func("/mail/forwarded-rfc822", test_forwarded_rfc822);
	g_test_add_func("/mail/qp-json", test_qp_json);
	g_test_add_func("/mail/no-closing-boundary", test_no_closing_boundary);
	g_test_add_func("/mail/contenttype-rewritten", test_contenttype_rewritten);
	g_test_add_func("/mail/description-filename", test_description_filename);
	g_test_add_func("/mail/two-reports", test_two_reports);
	g_test_add_func("/mail/toplevel", test_toplevel);
	g_test_add_func("/mail/dmarc-and-bounce", test_dmarc_and_bounce);
	g_test_add_func("/mail/not-mail", test_not_mail);
	g_test_add_func("/mail/limits", test_limits);
	g_test_add_func("/mail/limit-header-field", test_limit_header_field);
	g_test_add_func("/mail/headers", test_headers);
	g_test_add_data_func("/mail/corpus/tlsrpt", "tlsrpt", test_corpus);
	g_test_add_data_func("/mail/corpus/other", "other", test_corpus);
	return g_test_run();
}
