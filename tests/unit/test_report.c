/*
 * test_report.c: RFC 8460 JSON into struct report, each error and leniency,
 * report_to_json, and every real report in the shared corpus.
 *
 * Documents are written with single quotes for readability; sq() turns them
 * into JSON. Variants are made by editing a parsed copy of FULL (doc_set).
 */
#include <string.h>

#include "ingest/report.h"

/* The RFC 8460 example, with a helo, a second policy and two mx hosts. */
static const char *const FULL =
	"{'organization-name': 'Company-X',"
	" 'date-range': {'start-datetime': '2016-04-01T00:00:00Z',"
	"                'end-datetime': '2016-04-01T23:59:59Z'},"
	" 'contact-info': 'sts-reporting@company-x.example',"
	" 'report-id': '5065427c-23d3-47ca-b6e0-946ea0e8c4be',"
	" 'policies': [{"
	"   'policy': {'policy-type': 'sts',"
	"              'policy-string': ['version: STSv1', 'mode: testing',"
	"                                'mx: *.mail.company-y.example', 'max_age: 86400'],"
	"              'policy-domain': 'company-y.example',"
	"              'mx-host': ['*.mail.company-y.example', 'mx9.company-y.example']},"
	"   'summary': {'total-successful-session-count': 5326,"
	"               'total-failure-session-count': 303},"
	"   'failure-details': ["
	"     {'result-type': 'certificate-expired', 'sending-mta-ip': '2001:db8:abcd:0012::1',"
	"      'receiving-mx-hostname': 'mx1.mail.company-y.example', 'failed-session-count': 100},"
	"     {'result-type': 'starttls-not-supported', 'sending-mta-ip': '2001:db8:abcd:0013::1',"
	"      'receiving-mx-hostname': 'mx2.mail.company-y.example',"
	"      'receiving-mx-helo': 'mx2-helo.company-y.example',"
	"      'receiving-ip': '203.0.113.56', 'failed-session-count': 200,"
	"      'additional-information': 'https://reports.company-x.example/info?id=1'},"
	"     {'result-type': 'validation-failure', 'sending-mta-ip': '198.51.100.62',"
	"      'receiving-ip': '203.0.113.58',"
	"      'receiving-mx-hostname': 'mx-backup.mail.company-y.example',"
	"      'failed-session-count': 3,"
	"      'failure-reason-code': 'X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED'}]},"
	"  {'policy': {'policy-type': 'no-policy-found', 'policy-domain': 'company-y.example'},"
	"   'summary': {'total-successful-session-count': 7,"
	"               'total-failure-session-count': 0}}]}";

/* ---- helpers --------------------------------------------------------- */

static char *sq(const char *text)
{
	return g_strdelimit(g_strdup(text), "'", '"');
}

static json_t *doc_new(const char *single_quoted)
{
	g_autofree char *text = sq(single_quoted);
	json_error_t jerr;
	json_t *doc = json_loads(text, JSON_DECODE_ANY, &jerr);

	if (doc == NULL)
		g_error("bad test JSON: %s: %s", jerr.text, text);
	return doc;
}

/* The node at "a/0/b" (array indexes as numbers); "" is the root. */
static json_t *doc_at(json_t *doc, const char *path)
{
	g_auto(GStrv) parts = NULL;

	if (path == NULL || *path == '\0')
		return doc;
	parts = g_strsplit(path, "/", -1);
	for (guint i = 0; parts[i] != NULL && doc != NULL; i++) {
		if (json_is_array(doc))
			doc = json_array_get(doc, g_ascii_strtoull(parts[i], NULL, 10));
		else
			doc = json_object_get(doc, parts[i]);
	}
	g_assert_nonnull(doc);
	return doc;
}

/* Set parent[key] to value (single-quoted JSON), or delete it when NULL. */
static void doc_set(json_t *doc, const char *parent, const char *key, const char *value)
{
	json_t *obj = doc_at(doc, parent);

	if (value == NULL) {
		g_assert_cmpint(json_object_del(obj, key), ==, 0);
		return;
	}
	g_assert_cmpint(json_object_set_new(obj, key, doc_new(value)), ==, 0);
}

static int parse_text(struct report *r, const char *text, size_t len,
		      const struct report_hints *hints, const struct report_limits *limits,
		      struct error *err)
{
	report_init(r);
	return report_parse(r, text, len, hints, limits, err);
}

static int parse_doc(struct report *r, json_t *doc, const struct report_hints *hints,
		     const struct report_limits *limits, struct error *err)
{
	char *text = json_dumps(doc, JSON_COMPACT);
	int rc;

	g_assert_nonnull(text);
	rc = parse_text(r, text, strlen(text), hints, limits, err);
	free(text);
	return rc;
}

/* Parse doc (consumed), expect success; the caller releases r. */
static void parse_ok(struct report *r, json_t *doc, const struct report_hints *hints)
{
	struct error err = ERROR_INIT;
	int rc = parse_doc(r, doc, hints, NULL, &err);

	g_assert_cmpstr(err.msg, ==, NULL);
	g_assert_cmpint(rc, ==, 0);
	json_decref(doc);
}

/* Parse doc (consumed), expect exactly msg as the error. */
static void parse_fails(json_t *doc, const struct report_limits *limits, const char *msg)
{
	struct report r;
	struct error err = ERROR_INIT;

	g_assert_cmpint(parse_doc(&r, doc, NULL, limits, &err), ==, -1);
	g_assert_cmpint(err.cls, ==, ERR_INPUT);
	g_assert_cmpstr(err.msg, ==, msg);
	g_assert_null(r.document);
	g_assert_null(r.policies);
	error_clear(&err);
	json_decref(doc);
}

/* The one warning that starts with path; fails the test if none. */
static const char *warning(const struct report *r, const char *path)
{
	for (guint i = 0; i < r->warnings->len; i++) {
		const char *w = g_ptr_array_index(r->warnings, i);

		if (g_str_has_prefix(w, path) && w[strlen(path)] == ':')
			return w;
	}
	g_error("no warning for %s (%u warnings)", path, r->warnings->len);
	return NULL;
}

static struct policy *policy_at(const struct report *r, guint i)
{
	g_assert_cmpuint(i, <, r->policies->len);
	return &g_array_index(r->policies, struct policy, i);
}

static struct failure_detail *failure_at(const struct report *r, guint p, guint f)
{
	struct policy *pol = policy_at(r, p);

	g_assert_cmpuint(f, <, pol->failures->len);
	return &g_array_index(pol->failures, struct failure_detail, f);
}

static void assert_utc(GDateTime *dt, const char *expect)
{
	g_autofree char *s = g_date_time_format(dt, "%Y-%m-%dT%H:%M:%S.%fZ");

	g_assert_nonnull(dt);
	g_assert_cmpint(g_date_time_get_utc_offset(dt), ==, 0);
	g_assert_cmpstr(s, ==, expect);
}

static void assert_strings(const GPtrArray *a, const char *const *expect)
{
	guint n = g_strv_length((char **)expect);

	g_assert_nonnull(a);
	g_assert_cmpuint(a->len, ==, n);
	for (guint i = 0; i < n; i++)
		g_assert_cmpstr(g_ptr_array_index(a, i), ==, expect[i]);
}

static void assert_same_strings(const GPtrArray *a, const GPtrArray *b)
{
	g_assert_cmpuint(a->len, ==, b->len);
	for (guint i = 0; i < a->len; i++)
		g_assert_cmpstr(g_ptr_array_index(a, i), ==, g_ptr_array_index(b, i));
}

static void assert_same_failure(const struct failure_detail *a, const struct failure_detail *b)
{
	g_assert_cmpstr(a->result_type, ==, b->result_type);
	g_assert_cmpstr(a->sending_mta_ip, ==, b->sending_mta_ip);
	g_assert_cmpstr(a->receiving_mx_hostname, ==, b->receiving_mx_hostname);
	g_assert_cmpstr(a->receiving_mx_helo, ==, b->receiving_mx_helo);
	g_assert_cmpstr(a->receiving_ip, ==, b->receiving_ip);
	g_assert_cmpint(a->failed_sessions, ==, b->failed_sessions);
	g_assert_cmpstr(a->additional_information, ==, b->additional_information);
	g_assert_cmpstr(a->failure_reason_code, ==, b->failure_reason_code);
}

static void assert_same_policy(const struct policy *a, const struct policy *b)
{
	g_assert_cmpstr(a->type, ==, b->type);
	g_assert_cmpstr(a->domain, ==, b->domain);
	assert_same_strings(a->strings, b->strings);
	assert_same_strings(a->mx_hosts, b->mx_hosts);
	g_assert_cmpstr(a->sts_mode, ==, b->sts_mode);
	g_assert_cmpint(a->sts_max_age, ==, b->sts_max_age);
	g_assert_cmpint(a->successful_sessions, ==, b->successful_sessions);
	g_assert_cmpint(a->failed_sessions, ==, b->failed_sessions);
	g_assert_cmpuint(a->failures->len, ==, b->failures->len);
	for (guint i = 0; i < a->failures->len; i++)
		assert_same_failure(&g_array_index(a->failures, struct failure_detail, i),
				    &g_array_index(b->failures, struct failure_detail, i));
}

/* report_to_json, dumped and parsed again, gives the same report (dates to
 * the second), and its own report_to_json is the same JSON. */
static void assert_round_trip(const struct report *r)
{
	struct report r2;
	struct error err = ERROR_INIT;
	json_t *j = report_to_json(r), *j2;
	char *text;

	g_assert_nonnull(j);
	text = json_dumps(j, JSON_COMPACT);
	g_assert_cmpint(parse_text(&r2, text, strlen(text), NULL, NULL, &err), ==, 0);
	g_assert_cmpstr(r->organization_name, ==, r2.organization_name);
	g_assert_cmpstr(r->report_id, ==, r2.report_id);
	g_assert_cmpstr(r->contact_info, ==, r2.contact_info);
	g_assert_cmpint(g_date_time_to_unix(r->date_start), ==, g_date_time_to_unix(r2.date_start));
	g_assert_cmpint(g_date_time_to_unix(r->date_end), ==, g_date_time_to_unix(r2.date_end));
	g_assert_cmpuint(r->policies->len, ==, r2.policies->len);
	for (guint i = 0; i < r->policies->len; i++)
		assert_same_policy(policy_at(r, i), policy_at(&r2, i));
	for (guint i = 0; i < r2.warnings->len; i++) {
		const char *w = g_ptr_array_index(r2.warnings, i);

		/* the only leniencies left in normalised output */
		g_assert_true(g_str_equal(w, "contact-info: null, read as absent") ||
			      g_str_equal(w, "policies: empty array"));
	}
	j2 = report_to_json(&r2);
	json_object_del(j, "warnings");
	json_object_del(j2, "warnings");
	g_assert_true(json_equal(j, j2));
	json_decref(j);
	json_decref(j2);
	free(text);
	report_release(&r2);
}

/* ---- a full report --------------------------------------------------- */

static void test_full(void)
{
	static const char *const strings[] = { "version: STSv1", "mode: testing",
					       "mx: *.mail.company-y.example", "max_age: 86400",
					       NULL };
	static const char *const mx[] = { "*.mail.company-y.example", "mx9.company-y.example",
					  NULL };
	static const char *const none[] = { NULL };
	struct report_hints hints = { "company-y.example", "company-x.example" };
	struct report r;
	struct policy *p;
	struct failure_detail *f;

	parse_ok(&r, doc_new(FULL), &hints);
	g_assert_cmpstr(r.organization_name, ==, "Company-X");
	g_assert_cmpstr(r.report_id, ==, "5065427c-23d3-47ca-b6e0-946ea0e8c4be");
	g_assert_cmpstr(r.contact_info, ==, "sts-reporting@company-x.example");
	assert_utc(r.date_start, "2016-04-01T00:00:00.000000Z");
	assert_utc(r.date_end, "2016-04-01T23:59:59.000000Z");
	g_assert_true(json_is_object(r.document));
	g_assert_cmpuint(r.warnings->len, ==, 0);
	g_assert_cmpuint(r.policies->len, ==, 2);

	p = policy_at(&r, 0);
	g_assert_cmpstr(p->type, ==, "sts");
	g_assert_cmpstr(p->domain, ==, "company-y.example");
	assert_strings(p->strings, strings);
	assert_strings(p->mx_hosts, mx);
	g_assert_cmpstr(p->sts_mode, ==, "testing");
	g_assert_cmpint(p->sts_max_age, ==, 86400);
	g_assert_cmpint(p->successful_sessions, ==, 5326);
	g_assert_cmpint(p->failed_sessions, ==, 303);
	g_assert_cmpuint(p->failures->len, ==, 3);

	f = failure_at(&r, 0, 0);
	g_assert_cmpstr(f->result_type, ==, "certificate-expired");
	g_assert_cmpstr(f->sending_mta_ip, ==, "2001:db8:abcd:0012::1");
	g_assert_cmpstr(f->receiving_mx_hostname, ==, "mx1.mail.company-y.example");
	g_assert_null(f->receiving_mx_helo);
	g_assert_null(f->receiving_ip);
	g_assert_cmpint(f->failed_sessions, ==, 100);
	g_assert_null(f->additional_information);
	g_assert_null(f->failure_reason_code);

	f = failure_at(&r, 0, 1);
	g_assert_cmpstr(f->result_type, ==, "starttls-not-supported");
	g_assert_cmpstr(f->sending_mta_ip, ==, "2001:db8:abcd:0013::1");
	g_assert_cmpstr(f->receiving_mx_hostname, ==, "mx2.mail.company-y.example");
	g_assert_cmpstr(f->receiving_mx_helo, ==, "mx2-helo.company-y.example");
	g_assert_cmpstr(f->receiving_ip, ==, "203.0.113.56");
	g_assert_cmpint(f->failed_sessions, ==, 200);
	g_assert_cmpstr(f->additional_information, ==,
			"https://reports.company-x.example/info?id=1");
	g_assert_null(f->failure_reason_code);

	f = failure_at(&r, 0, 2);
	g_assert_cmpstr(f->result_type, ==, "validation-failure");
	g_assert_cmpstr(f->sending_mta_ip, ==, "198.51.100.62");
	g_assert_cmpstr(f->receiving_ip, ==, "203.0.113.58");
	g_assert_cmpstr(f->receiving_mx_hostname, ==, "mx-backup.mail.company-y.example");
	g_assert_cmpint(f->failed_sessions, ==, 3);
	g_assert_cmpstr(f->failure_reason_code, ==, "X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED");

	p = policy_at(&r, 1);
	g_assert_cmpstr(p->type, ==, "no-policy-found");
	g_assert_cmpstr(p->domain, ==, "company-y.example");
	assert_strings(p->strings, none);
	assert_strings(p->mx_hosts, none);
	g_assert_null(p->sts_mode);
	g_assert_cmpint(p->sts_max_age, ==, -1);
	g_assert_cmpint(p->successful_sessions, ==, 7);
	g_assert_cmpint(p->failed_sessions, ==, 0);
	g_assert_cmpuint(p->failures->len, ==, 0);
	report_release(&r);
	g_assert_null(r.organization_name);
	g_assert_null(r.document);
}

/* ---- errors: a required field missing -------------------------------- */

struct edit_case {
	const char *name;
	const char *parent; /* doc_at path of the object to edit */
	const char *key;
	const char *value; /* single-quoted JSON, NULL to delete key */
	const char *msg;   /* the exact error */
};

static const struct edit_case missing_cases[] = {
	{ "organization-name", "", "organization-name", NULL, "organization-name: missing" },
	{ "report-id", "", "report-id", NULL, "report-id: missing" },
	{ "date-range", "", "date-range", NULL, "date-range: missing" },
	{ "start-datetime", "date-range", "start-datetime", NULL,
	  "date-range.start-datetime: missing" },
	{ "end-datetime", "date-range", "end-datetime", NULL, "date-range.end-datetime: missing" },
	{ "policies", "", "policies", NULL, "policies: missing" },
	{ "policy", "policies/1", "policy", NULL, "policies[1].policy: missing" },
	{ "policy-type", "policies/0/policy", "policy-type", NULL,
	  "policies[0].policy.policy-type: missing" },
	{ "summary", "policies/0", "summary", NULL, "policies[0].summary: missing" },
	{ "total-successful-session-count", "policies/0/summary", "total-successful-session-count",
	  NULL, "policies[0].summary.total-successful-session-count: missing" },
	{ "total-failure-session-count", "policies/0/summary", "total-failure-session-count", NULL,
	  "policies[0].summary.total-failure-session-count: missing" },
	{ "result-type", "policies/0/failure-details/1", "result-type", NULL,
	  "policies[0].failure-details[1].result-type: missing" },
	{ "failed-session-count", "policies/0/failure-details/2", "failed-session-count", NULL,
	  "policies[0].failure-details[2].failed-session-count: missing" },
	{ "policy-domain", "policies/1/policy", "policy-domain", NULL,
	  "policies[1].policy.policy-domain: missing, and no TLS-Report-Domain" },
};

static const struct edit_case type_cases[] = {
	{ "policies-object", "", "policies", "{}", "policies: expected array" },
	{ "policies-null", "", "policies", "null", "policies: expected array" },
	{ "top-string-field", "", "organization-name", "5", "organization-name: expected string" },
	{ "org-empty", "", "organization-name", "''", "organization-name: empty" },
	{ "report-id-empty", "", "report-id", "''", "report-id: empty" },
	{ "report-id-null", "", "report-id", "null", "report-id: expected string" },
	{ "contact-number", "", "contact-info", "[]", "contact-info: expected string" },
	{ "date-range-string", "", "date-range", "'2016'", "date-range: expected object" },
	{ "date-number", "date-range", "end-datetime", "1459468800",
	  "date-range.end-datetime: expected string" },
	{ "date-garbage", "date-range", "start-datetime", "'yesterday'",
	  "date-range.start-datetime: not an RFC 3339 date-time" },
	{ "date-month-13", "date-range", "start-datetime", "'2024-13-01T00:00:00Z'",
	  "date-range.start-datetime: not an RFC 3339 date-time" },
	{ "date-empty", "date-range", "end-datetime", "''",
	  "date-range.end-datetime: not an RFC 3339 date-time" },
	{ "policy-entry-string", "", "policies", "['sts']", "policies[0]: expected object" },
	{ "policy-array", "policies/1", "policy", "[]", "policies[1].policy: expected object" },
	{ "policy-type-number", "policies/0/policy", "policy-type", "1",
	  "policies[0].policy.policy-type: expected string" },
	{ "policy-string-object", "policies/0/policy", "policy-string", "{}",
	  "policies[0].policy.policy-string: expected array" },
	{ "mx-host-number", "policies/0/policy", "mx-host", "['a.example', 2]",
	  "policies[0].policy.mx-host[1]: expected string" },
	{ "summary-array", "policies/1", "summary", "[]", "policies[1].summary: expected object" },
	{ "failures-object", "policies/0", "failure-details", "{}",
	  "policies[0].failure-details: expected array" },
	{ "failure-string", "policies/0", "failure-details", "['x']",
	  "policies[0].failure-details[0]: expected object" },
	{ "ip-number", "policies/0/failure-details/0", "sending-mta-ip", "5",
	  "policies[0].failure-details[0].sending-mta-ip: expected string" },
	{ "count-abc", "policies/0/summary", "total-successful-session-count", "'abc'",
	  "policies[0].summary.total-successful-session-count: expected a non-negative integer" },
	{ "count-real", "policies/0/summary", "total-failure-session-count", "1.5",
	  "policies[0].summary.total-failure-session-count: expected a non-negative integer" },
	{ "count-real-whole", "policies/0/summary", "total-failure-session-count", "1.0",
	  "policies[0].summary.total-failure-session-count: expected a non-negative integer" },
	{ "count-negative", "policies/0/failure-details/0", "failed-session-count", "-1",
	  "policies[0].failure-details[0].failed-session-count: expected a non-negative integer" },
	{ "count-negative-string", "policies/0/summary", "total-successful-session-count", "'-1'",
	  "policies[0].summary.total-successful-session-count: expected a non-negative integer" },
	{ "count-empty-string", "policies/0/summary", "total-successful-session-count", "''",
	  "policies[0].summary.total-successful-session-count: expected a non-negative integer" },
	{ "count-spaced-string", "policies/0/summary", "total-successful-session-count", "' 5'",
	  "policies[0].summary.total-successful-session-count: expected a non-negative integer" },
	{ "count-string-over-int64", "policies/0/summary", "total-successful-session-count",
	  "'9223372036854775808'",
	  "policies[0].summary.total-successful-session-count: expected a non-negative integer" },
	{ "count-bool", "policies/0/summary", "total-successful-session-count", "true",
	  "policies[0].summary.total-successful-session-count: expected a non-negative integer" },
	{ "count-null", "policies/1/summary", "total-failure-session-count", "null",
	  "policies[1].summary.total-failure-session-count: expected a non-negative integer" },
};

static void test_edit_fails(gconstpointer data)
{
	const struct edit_case *tc = data;
	json_t *doc = doc_new(FULL);

	doc_set(doc, tc->parent, tc->key, tc->value);
	parse_fails(doc, NULL, tc->msg);
}

static void test_count_int64_max(void)
{
	json_t *doc = doc_new(FULL);
	struct report r;

	doc_set(doc, "policies/0/summary", "total-successful-session-count", "9223372036854775807");
	doc_set(doc, "policies/0/summary", "total-failure-session-count", "'9223372036854775807'");
	parse_ok(&r, doc, NULL);
	g_assert_cmpint(policy_at(&r, 0)->successful_sessions, ==, INT64_MAX);
	g_assert_cmpint(policy_at(&r, 0)->failed_sessions, ==, INT64_MAX);
	report_release(&r);
}

/* ---- errors: the JSON itself ----------------------------------------- */

static void assert_invalid_json(const char *text, size_t len, const char *contains)
{
	struct report r;
	struct error err = ERROR_INIT;

	g_assert_cmpint(parse_text(&r, text, len, NULL, NULL, &err), ==, -1);
	g_assert_cmpint(err.cls, ==, ERR_INPUT);
	g_assert_true(g_str_has_prefix(err.msg, "invalid JSON: "));
	g_assert_nonnull(strstr(err.msg, contains));
	g_assert_nonnull(strstr(err.msg, "line "));
	g_assert_null(r.document);
	error_clear(&err);
}

static void test_syntax(void)
{
	g_autofree char *full = sq(FULL);
	g_autofree char *trailing = g_strconcat(full, " {}", NULL);
	g_autofree char *dup = sq("{'report-id': 'a', 'report-id': 'b'}");
	g_autofree char *big = sq("{'n': 99999999999999999999}");
	struct report r;
	struct error err = ERROR_INIT;

	assert_invalid_json(trailing, strlen(trailing), "end of file expected");
	assert_invalid_json(full, strlen(full) + 1, "end of file expected"); /* raw NUL */
	assert_invalid_json(dup, strlen(dup), "duplicate object key");
	assert_invalid_json(big, strlen(big), "too big integer");
	assert_invalid_json("", 0, "");
	assert_invalid_json("{\"a\":", 5, "");
	/* trailing whitespace is fine */
	g_assert_cmpint(parse_text(&r, trailing, strlen(full) + 1, NULL, NULL, &err), ==, 0);
	report_release(&r);

	g_assert_cmpint(parse_text(&r, "[]", 2, NULL, NULL, &err), ==, -1);
	g_assert_cmpstr(err.msg, ==, "not a JSON object");
	g_assert_cmpint(err.cls, ==, ERR_INPUT);
	g_assert_cmpint(parse_text(&r, NULL, 0, NULL, NULL, &err), ==, -1);
	g_assert_cmpint(err.cls, ==, ERR_INPUT);
	error_clear(&err);
}

/* ---- text PostgreSQL cannot hold ------------------------------------- */

/* \u0000 in a string: U+FFFD in the field and in the stored document, the
 * rest of the string kept, one warning naming the first path and the count. */
static void test_text_nul(void)
{
	g_autofree char *full = sq(FULL);
	g_autoptr(GString) text = g_string_new(full);
	struct report r;
	struct error err = ERROR_INIT;
	const char *id;

	g_string_replace(text, "5065427c-", "5065\\u0000427c-", 1);
	g_string_replace(text, "mx1.mail", "mx1\\u0000\\u0000.mail", 1);
	g_assert_cmpint(parse_text(&r, text->str, text->len, NULL, NULL, &err), ==, 0);
	g_assert_cmpstr(r.report_id, ==,
			"5065\xef\xbf\xbd"
			"427c-23d3-47ca-b6e0-946ea0e8c4be");
	g_assert_cmpstr(failure_at(&r, 0, 0)->receiving_mx_hostname, ==,
			"mx1\xef\xbf\xbd\xef\xbf\xbd.mail.company-y.example");
	id = json_string_value(json_object_get(r.document, "report-id"));
	g_assert_cmpuint(strlen(id), ==,
			 json_string_length(json_object_get(r.document, "report-id")));
	g_assert_cmpuint(r.warnings->len, ==, 1);
	g_assert_cmpstr(g_ptr_array_index(r.warnings, 0), ==,
			"report-id: NUL bytes replaced by U+FFFD (in 2 strings of the document)");
	report_release(&r);

	/* NUL in a key is still refused (jansson cannot hold it) */
	g_assert_cmpint(parse_text(&r, "{\"a\\u0000\": 1}", 14, NULL, NULL, &err), ==, -1);
	g_assert_true(g_str_has_prefix(err.msg, "invalid JSON: "));
	error_clear(&err);
}

/* Bytes that are not UTF-8: U+FFFD, a warning, nothing else lost. */
static void test_text_invalid_utf8(void)
{
	g_autofree char *full = sq(FULL);
	g_autoptr(GString) text = g_string_new(full);
	struct report r;
	struct error err = ERROR_INIT;

	g_string_replace(text, "Company-X", "Company\xff\xc3-X", 1);
	g_assert_cmpint(parse_text(&r, text->str, text->len, NULL, NULL, &err), ==, 0);
	g_assert_cmpstr(r.organization_name, ==, "Company\xef\xbf\xbd\xef\xbf\xbd-X");
	g_assert_cmpuint(r.warnings->len, ==, 1);
	g_assert_cmpstr(g_ptr_array_index(r.warnings, 0), ==,
			"(document): invalid UTF-8 replaced by U+FFFD");
	g_assert_cmpuint(r.policies->len, ==, 2);
	report_release(&r);
}

/* Years in the future are kept with a warning; end before start too. */
static void test_dates_odd(void)
{
	json_t *doc = doc_new(FULL);
	struct report r;

	doc_set(doc, "date-range", "start-datetime", "'9998-04-02T00:00:00Z'");
	doc_set(doc, "date-range", "end-datetime", "'9998-04-01T00:00:00Z'");
	parse_ok(&r, doc, NULL);
	g_assert_cmpuint(r.warnings->len, ==, 3);
	g_assert_cmpstr(g_ptr_array_index(r.warnings, 0), ==,
			"date-range: end-datetime is before start-datetime");
	g_assert_cmpstr(g_ptr_array_index(r.warnings, 1), ==,
			"date-range.start-datetime: in the future (year 9998)");
	report_release(&r);
	/* year 0000 is not a date GLib (or PostgreSQL's range) holds */
	doc = doc_new(FULL);
	doc_set(doc, "date-range", "start-datetime", "'0000-01-01T00:00:00Z'");
	parse_fails(doc, NULL, "date-range.start-datetime: not an RFC 3339 date-time");
}

/* ---- limits ---------------------------------------------------------- */

/* A JSON value nested n arrays deep around 1. */
static json_t *nested(size_t n)
{
	json_t *v = json_integer(1);

	for (size_t i = 0; i < n; i++) {
		json_t *a = json_array();

		json_array_append_new(a, v);
		v = a;
	}
	return v;
}

static void test_limit_string(void)
{
	g_autofree char *longest = g_strnfill(REPORT_DEFAULT_MAX_STRING, 'a');
	g_autofree char *too_long = g_strnfill(REPORT_DEFAULT_MAX_STRING + 1, 'a');
	struct report_limits small = { 0, 0, 0, 16 };
	json_t *doc = doc_new(FULL);
	struct report r;

	json_object_set_new(doc, "report-id", json_string(longest));
	parse_ok(&r, doc, NULL);
	g_assert_cmpuint(strlen(r.report_id), ==, REPORT_DEFAULT_MAX_STRING);
	report_release(&r);

	doc = doc_new(FULL);
	json_object_set_new(doc_at(doc, "policies/0/failure-details/1"), "failure-reason-code",
			    json_string(too_long));
	parse_fails(doc, NULL,
		    "policies[0].failure-details[1].failure-reason-code: string length of 65537 "
		    "exceeds max-string-length (65536)");

	doc = doc_new(FULL);
	json_object_set_new(doc, too_long, json_true());
	parse_fails(doc, NULL,
		    "(top level): key length of 65537 exceeds max-string-length (65536)");

	doc = doc_new("{'organization-name': 'Company-X, a long name'}");
	parse_fails(doc, &small, "(top level): key length of 17 exceeds max-string-length (16)");
	doc = doc_new("{'name': 'Company-X, a long name'}");
	parse_fails(doc, &small, "name: string length of 22 exceeds max-string-length (16)");
}

static void test_limit_depth(void)
{
	struct report_limits four = { 4, 0, 0, 0 }, five = { 5, 0, 0, 0 };
	struct report r;
	struct error err = ERROR_INIT;
	json_t *doc = doc_new(FULL);
	g_autofree char *deep = NULL;
	char *text;

	/* the top object is depth 1: 63 arrays inside it are allowed */
	json_object_set_new(doc, "x", nested(63));
	parse_ok(&r, doc, NULL);
	report_release(&r);

	doc = doc_new(FULL);
	json_object_set_new(doc, "x", nested(64));
	deep = g_strconcat("x", "[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]",
			   "[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]",
			   "[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]",
			   "[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]",
			   ": nesting depth of 65 exceeds max-json-depth (64)", NULL);
	parse_fails(doc, NULL, deep);

	/* policy-string and each failure object sit at depth 5 */
	parse_fails(
		doc_new(FULL), &four,
		"policies[0].policy.policy-string: nesting depth of 5 exceeds max-json-depth (4)");
	doc = doc_new(FULL);
	g_assert_cmpint(parse_doc(&r, doc, NULL, &five, &err), ==, 0);
	report_release(&r);
	json_decref(doc);

	/* beyond jansson's own cap (2048) the parser stops first */
	doc = doc_new(FULL);
	json_object_set_new(doc, "x", nested(3000));
	text = json_dumps(doc, JSON_COMPACT);
	g_assert_cmpint(parse_text(&r, text, strlen(text), NULL, NULL, &err), ==, -1);
	g_assert_true(g_str_has_prefix(err.msg, "JSON nesting depth exceeds max-json-depth (64)"));
	g_assert_cmpint(err.cls, ==, ERR_INPUT);
	free(text);
	json_decref(doc);
	error_clear(&err);
}

static void test_limit_counts(void)
{
	struct report_limits one_policy = { 0, 1, 0, 0 }, two_failures = { 0, 0, 2, 0 };
	struct report_limits exact = { 0, 2, 3, 0 };
	struct report r;
	struct error err = ERROR_INIT;
	json_t *doc = doc_new(FULL);

	parse_fails(doc_new(FULL), &one_policy, "policies: 2 entries exceed max-policies (1)");
	parse_fails(doc_new(FULL), &two_failures,
		    "policies[0].failure-details: 3 entries exceed max-failure-details (2 per "
		    "report)");
	g_assert_cmpint(parse_doc(&r, doc, NULL, &exact, &err), ==, 0);
	g_assert_cmpuint(r.policies->len, ==, 2);
	report_release(&r);
	json_decref(doc);
}

/* max-failure-details counts the whole report: two policies of 3 details
 * each are 6, whatever each policy holds alone. */
static json_t *doc_two_failing_policies(void)
{
	json_t *doc = doc_new(FULL);
	json_t *policies = json_object_get(doc, "policies");
	json_t *details = json_object_get(json_array_get(policies, 0), "failure-details");

	g_assert_cmpuint(json_array_size(details), ==, 3);
	json_object_set_new(json_array_get(policies, 1), "failure-details",
			    json_deep_copy(details));
	return doc;
}

static void test_limit_failures_per_report(void)
{
	struct report_limits five = { 0, 0, 5, 0 }, six = { 0, 0, 6, 0 };
	struct report r;
	struct error err = ERROR_INIT;
	json_t *doc = doc_two_failing_policies();

	parse_fails(doc_two_failing_policies(), &five,
		    "policies[1].failure-details: 3 entries exceed max-failure-details (5 per "
		    "report) with those of the policies before");
	g_assert_cmpint(parse_doc(&r, doc, NULL, &six, &err), ==, 0);
	g_assert_cmpuint(r.policies->len, ==, 2);
	g_assert_cmpuint(g_array_index(r.policies, struct policy, 1).failures->len, ==, 3);
	report_release(&r);
	json_decref(doc);
}

/* ---- leniencies ------------------------------------------------------ */

static void test_lenient_no_zone(void)
{
	json_t *doc = doc_new(FULL);
	struct report r;

	doc_set(doc, "date-range", "start-datetime", "'2023-01-10T00:00:00'");
	doc_set(doc, "date-range", "end-datetime", "'2023-01-10T23:59:59Z'");
	parse_ok(&r, doc, NULL);
	assert_utc(r.date_start, "2023-01-10T00:00:00.000000Z");
	assert_utc(r.date_end, "2023-01-10T23:59:59.000000Z");
	g_assert_cmpuint(r.warnings->len, ==, 1);
	g_assert_cmpstr(warning(&r, "date-range.start-datetime"), ==,
			"date-range.start-datetime: no time zone, read as UTC");
	report_release(&r);
}

/* A byte order mark before the JSON: the report is read, with a warning. */
static void test_lenient_bom(void)
{
	json_t *doc = doc_new(FULL);
	char *json = json_dumps(doc, JSON_COMPACT);
	g_autofree char *text = g_strconcat("\xef\xbb\xbf", json, NULL);
	struct error err = ERROR_INIT;
	struct report r;

	g_assert_cmpint(parse_text(&r, text, strlen(text), NULL, NULL, &err), ==, 0);
	g_assert_cmpuint(r.policies->len, ==, 2);
	g_assert_cmpuint(r.warnings->len, ==, 1);
	g_assert_cmpstr(warning(&r, "(document)"), ==,
			"(document): UTF-8 byte order mark before the JSON, ignored");
	report_release(&r);
	free(json);
	json_decref(doc);
}

static void test_lenient_count_string(void)
{
	json_t *doc = doc_new(FULL);
	struct report r;

	doc_set(doc, "policies/0/summary", "total-successful-session-count", "'5'");
	doc_set(doc, "policies/0/failure-details/2", "failed-session-count", "'0003'");
	parse_ok(&r, doc, NULL);
	g_assert_cmpint(policy_at(&r, 0)->successful_sessions, ==, 5);
	g_assert_cmpint(failure_at(&r, 0, 2)->failed_sessions, ==, 3);
	g_assert_cmpuint(r.warnings->len, ==, 2);
	g_assert_cmpstr(warning(&r, "policies[0].summary.total-successful-session-count"), ==,
			"policies[0].summary.total-successful-session-count: "
			"count sent as the string \"5\", read as 5");
	g_assert_nonnull(strstr(warning(&r, "policies[0].failure-details[2].failed-session-count"),
				"read as 3"));
	report_release(&r);
}

static void test_lenient_failure_count(void)
{
	json_t *doc = doc_new(FULL);
	struct report r;

	/* no failure-details at all, or an empty list: 0 with a warning */
	doc_set(doc, "policies/1/summary", "total-failure-session-count", NULL);
	doc_set(doc, "policies/0", "failure-details", "[]");
	doc_set(doc, "policies/0/summary", "total-failure-session-count", NULL);
	parse_ok(&r, doc, NULL);
	g_assert_cmpint(policy_at(&r, 0)->failed_sessions, ==, 0);
	g_assert_cmpint(policy_at(&r, 1)->failed_sessions, ==, 0);
	g_assert_cmpint(policy_at(&r, 1)->successful_sessions, ==, 7);
	g_assert_cmpuint(r.warnings->len, ==, 2);
	g_assert_nonnull(strstr(warning(&r, "policies[1].summary.total-failure-session-count"),
				"missing, read as 0"));
	g_assert_nonnull(warning(&r, "policies[0].summary.total-failure-session-count"));
	report_release(&r);
}

static void test_lenient_policy_domain(void)
{
	struct report_hints hints = { "company-y.example", NULL };
	json_t *doc = doc_new(FULL);
	struct report r;

	doc_set(doc, "policies/1/policy", "policy-domain", NULL);
	doc_set(doc, "policies/0/policy", "policy-domain", "''");
	parse_ok(&r, doc, &hints);
	g_assert_cmpstr(policy_at(&r, 0)->domain, ==, "company-y.example");
	g_assert_cmpstr(policy_at(&r, 1)->domain, ==, "company-y.example");
	g_assert_cmpuint(r.warnings->len, ==, 2);
	g_assert_cmpstr(warning(&r, "policies[1].policy.policy-domain"), ==,
			"policies[1].policy.policy-domain: missing or empty, read as "
			"TLS-Report-Domain \"company-y.example\"");
	g_assert_nonnull(warning(&r, "policies[0].policy.policy-domain"));
	report_release(&r);
}

static void test_lenient_contact_null(void)
{
	json_t *doc = doc_new(FULL);
	struct report r;

	doc_set(doc, "", "contact-info", "null");
	parse_ok(&r, doc, NULL);
	g_assert_null(r.contact_info);
	g_assert_cmpuint(r.warnings->len, ==, 1);
	g_assert_cmpstr(warning(&r, "contact-info"), ==, "contact-info: null, read as absent");
	report_release(&r);

	doc = doc_new(FULL);
	doc_set(doc, "", "contact-info", NULL);
	parse_ok(&r, doc, NULL);
	g_assert_null(r.contact_info);
	g_assert_cmpuint(r.warnings->len, ==, 0);
	report_release(&r);
}

static void test_lenient_mx_host(void)
{
	static const char *const one[] = { "*.mail.company-y.example", NULL };
	static const char *const pattern[] = { "mx.example", NULL };
	json_t *doc = doc_new(FULL);
	struct report r;

	doc_set(doc, "policies/0/policy", "mx-host", "'*.mail.company-y.example'");
	doc_set(doc, "policies/1/policy", "mx-host-pattern", "['mx.example']");
	parse_ok(&r, doc, NULL);
	assert_strings(policy_at(&r, 0)->mx_hosts, one);
	assert_strings(policy_at(&r, 1)->mx_hosts, pattern);
	g_assert_cmpuint(r.warnings->len, ==, 2);
	g_assert_cmpstr(warning(&r, "policies[0].policy.mx-host"), ==,
			"policies[0].policy.mx-host: a string, not an array, read as one entry");
	g_assert_cmpstr(warning(&r, "policies[1].policy.mx-host-pattern"), ==,
			"policies[1].policy.mx-host-pattern: the RFC's prose name for mx-host, "
			"read as mx-host");
	report_release(&r);

	/* both present: mx-host wins, silently */
	doc = doc_new(FULL);
	doc_set(doc, "policies/0/policy", "mx-host", "['*.mail.company-y.example']");
	doc_set(doc, "policies/0/policy", "mx-host-pattern", "['other.example']");
	parse_ok(&r, doc, NULL);
	assert_strings(policy_at(&r, 0)->mx_hosts, one);
	g_assert_cmpuint(r.warnings->len, ==, 0);
	report_release(&r);
}

static void test_lenient_additional_info_uri(void)
{
	json_t *doc = doc_new(FULL);
	struct report r;

	doc_set(doc, "policies/0/failure-details/1", "additional-information", NULL);
	doc_set(doc, "policies/0/failure-details/1", "additional-info-uri", "'https://x.example/'");
	parse_ok(&r, doc, NULL);
	g_assert_cmpstr(failure_at(&r, 0, 1)->additional_information, ==, "https://x.example/");
	g_assert_cmpuint(r.warnings->len, ==, 1);
	g_assert_nonnull(strstr(warning(&r, "policies[0].failure-details[1].additional-info-uri"),
				"additional-information"));
	report_release(&r);
}

static void test_lenient_ip(void)
{
	json_t *doc = doc_new(FULL);
	struct report r;

	doc_set(doc, "policies/0/failure-details/0", "sending-mta-ip", "'x.x.x.x'");
	doc_set(doc, "policies/0/failure-details/1", "receiving-ip", "''");
	doc_set(doc, "policies/0/failure-details/2", "receiving-ip", "'fe80::1%eth0'");
	doc_set(doc, "policies/0/failure-details/2", "sending-mta-ip", "'::ffff:192.0.2.1'");
	parse_ok(&r, doc, NULL);
	g_assert_null(failure_at(&r, 0, 0)->sending_mta_ip);
	g_assert_null(failure_at(&r, 0, 1)->receiving_ip);
	g_assert_cmpstr(failure_at(&r, 0, 1)->sending_mta_ip, ==, "2001:db8:abcd:0013::1");
	g_assert_null(failure_at(&r, 0, 2)->receiving_ip);
	g_assert_cmpstr(failure_at(&r, 0, 2)->sending_mta_ip, ==, "::ffff:192.0.2.1");
	g_assert_cmpuint(r.warnings->len, ==, 3);
	g_assert_cmpstr(warning(&r, "policies[0].failure-details[0].sending-mta-ip"), ==,
			"policies[0].failure-details[0].sending-mta-ip: \"x.x.x.x\" is not an IP "
			"address, left out (kept in the document)");
	g_assert_nonnull(warning(&r, "policies[0].failure-details[1].receiving-ip"));
	g_assert_nonnull(warning(&r, "policies[0].failure-details[2].receiving-ip"));
	/* the value is still in the document */
	g_assert_cmpstr(
		json_string_value(json_object_get(
			doc_at(r.document, "policies/0/failure-details/0"), "sending-mta-ip")),
		==, "x.x.x.x");
	report_release(&r);
}

static void test_lenient_empty_policies(void)
{
	json_t *doc = doc_new(FULL);
	struct report r;

	doc_set(doc, "", "policies", "[]");
	parse_ok(&r, doc, NULL);
	g_assert_nonnull(r.policies);
	g_assert_cmpuint(r.policies->len, ==, 0);
	g_assert_cmpuint(r.warnings->len, ==, 1);
	g_assert_cmpstr(warning(&r, "policies"), ==, "policies: empty array");
	assert_round_trip(&r);
	report_release(&r);
}

static void test_lenient_optional_nulls(void)
{
	static const char *const none[] = { NULL };
	json_t *doc = doc_new(FULL);
	struct report r;

	doc_set(doc, "policies/0/policy", "policy-string", "null");
	doc_set(doc, "policies/1", "failure-details", "null");
	doc_set(doc, "policies/0/failure-details/1", "receiving-mx-helo", "null");
	parse_ok(&r, doc, NULL);
	assert_strings(policy_at(&r, 0)->strings, none);
	g_assert_null(policy_at(&r, 0)->sts_mode);
	g_assert_cmpuint(policy_at(&r, 1)->failures->len, ==, 0);
	g_assert_null(failure_at(&r, 0, 1)->receiving_mx_helo);
	g_assert_cmpuint(r.warnings->len, ==, 3);
	g_assert_nonnull(warning(&r, "policies[0].policy.policy-string"));
	g_assert_nonnull(warning(&r, "policies[1].failure-details"));
	g_assert_nonnull(warning(&r, "policies[0].failure-details[1].receiving-mx-helo"));
	report_release(&r);
}

/* ---- RFC 3339 -------------------------------------------------------- */

static void assert_datetime(const char *text, const char *utc, gboolean no_zone)
{
	gboolean nz = !no_zone;
	GDateTime *dt = report_parse_datetime(text, &nz);

	g_test_message("%s", text);
	g_assert_nonnull(dt);
	assert_utc(dt, utc);
	g_assert_cmpint(nz, ==, no_zone);
	g_date_time_unref(dt);
}

static void test_datetime(void)
{
	static const char *const bad[] = {
		"2024-13-01T00:00:00Z",
		"yesterday",
		"",
		"2023-02-29T00:00:00Z",
		"2016-04-01 00:00:00Z",
		"2016-04-01T24:00:00Z",
		"2016-04-01T00:60:00Z",
		"2016-04-01T00:00:60Z",
		"2016-04-01T00:00:00+0200",
		"2016-04-01T00:00:00+02",
		"2016-04-01T00:00:00+24:00",
		"2016-04-01T00:00:00+02:60",
		"2016-04-01T00:00:00.Z",
		"2016-04-01T00:00:00ZZ",
		"2016-04-01T00:00:00Z ",
		" 2016-04-01T00:00:00Z",
		"2016-04-01",
		"16-04-01T00:00:00Z",
		"2016-4-01T00:00:00Z",
		"0000-01-01T00:00:00Z",
		"2016-04-00T00:00:00Z",
		"2016-04-01T00:00:00UTC",
		"2016-04-01T00:00:00,5Z",
		"+2016-04-01T00:00:00Z",
		"2016-04-01T00:00",
		"2016-W13-5T00:00:00Z",
	};
	gboolean nz = TRUE;

	assert_datetime("2016-04-01T00:00:00Z", "2016-04-01T00:00:00.000000Z", FALSE);
	assert_datetime("2016-04-01t00:00:00z", "2016-04-01T00:00:00.000000Z", FALSE);
	assert_datetime("2016-04-01T23:30:00+02:00", "2016-04-01T21:30:00.000000Z", FALSE);
	assert_datetime("2016-04-01T20:00:00-08:00", "2016-04-02T04:00:00.000000Z", FALSE);
	assert_datetime("2016-04-01T00:00:00-00:00", "2016-04-01T00:00:00.000000Z", FALSE);
	assert_datetime("2016-04-01T05:45:00+05:45", "2016-04-01T00:00:00.000000Z", FALSE);
	assert_datetime("2016-04-01T00:00:00.123456Z", "2016-04-01T00:00:00.123456Z", FALSE);
	assert_datetime("2016-04-01T00:00:00.5Z", "2016-04-01T00:00:00.500000Z", FALSE);
	assert_datetime("2016-04-01T23:59:59.9999999999+01:00", "2016-04-01T22:59:59.999999Z",
			FALSE);
	assert_datetime("2023-01-10T00:00:00", "2023-01-10T00:00:00.000000Z", TRUE);
	assert_datetime("2023-01-10T12:00:00.25", "2023-01-10T12:00:00.250000Z", TRUE);
	assert_datetime("2024-02-29T00:00:00Z", "2024-02-29T00:00:00.000000Z", FALSE);
	assert_datetime("2016-12-31T23:00:00-01:00", "2017-01-01T00:00:00.000000Z", FALSE);
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_test_message("bad: '%s'", bad[i]);
		g_assert_null(report_parse_datetime(bad[i], &nz));
		g_assert_false(nz);
	}
	g_assert_null(report_parse_datetime(NULL, NULL));
}

static void test_datetime_in_report(void)
{
	json_t *doc = doc_new(FULL);
	struct report r;

	doc_set(doc, "date-range", "start-datetime", "'2016-04-01T00:00:00+02:00'");
	doc_set(doc, "date-range", "end-datetime", "'2016-04-01T15:59:59.75-08:00'");
	parse_ok(&r, doc, NULL);
	assert_utc(r.date_start, "2016-03-31T22:00:00.000000Z");
	assert_utc(r.date_end, "2016-04-01T23:59:59.750000Z");
	g_assert_cmpuint(r.warnings->len, ==, 0);
	report_release(&r);

	doc = doc_new(FULL);
	doc_set(doc, "date-range", "end-datetime", "'2016-03-31T00:00:00Z'");
	parse_ok(&r, doc, NULL);
	g_assert_cmpstr(warning(&r, "date-range"), ==,
			"date-range: end-datetime is before start-datetime");
	report_release(&r);
}

/* ---- policy-string --------------------------------------------------- */

/* Parse FULL with policies[0].policy-string set to strings (single-quoted). */
static void parse_policy_strings(struct report *r, const char *strings)
{
	json_t *doc = doc_new(FULL);

	doc_set(doc, "policies/0/policy", "policy-string", strings);
	parse_ok(r, doc, NULL);
}

static void assert_sts(const char *strings, const char *mode, gint64 max_age, guint warnings)
{
	struct report r;

	g_test_message("%s", strings);
	parse_policy_strings(&r, strings);
	g_assert_cmpstr(policy_at(&r, 0)->sts_mode, ==, mode);
	g_assert_cmpint(policy_at(&r, 0)->sts_max_age, ==, max_age);
	g_assert_cmpuint(r.warnings->len, ==, warnings);
	report_release(&r);
}

static void test_sts_lines(void)
{
	struct report r;

	assert_sts("['version: STSv1', 'mode: testing', 'max_age: 86400']", "testing", 86400, 0);
	assert_sts("['mode: enforce']", "enforce", -1, 0);
	assert_sts("['mode: none', 'max_age: 0']", "none", 0, 0);
	assert_sts("['mode:enforce', 'max_age:604800']", "enforce", 604800, 0);
	assert_sts("['  MODE \\t:  Testing  ', 'max_age :\\t31557600 \\r\\n']", "testing", 31557600,
		   0);
	assert_sts("['mode: Something-New']", "something-new", -1, 0);
	assert_sts("['this mode: testing', '# mode: enforce', 'mode testing']", NULL, -1, 0);
	assert_sts("['3 1 1 5C04', 'mx: mode: enforce']", NULL, -1, 0);
	assert_sts("['max_age: abc']", NULL, -1, 1);
	assert_sts("['max_age: -5', 'max_age: 9223372036854775808']", NULL, -1, 2);
	assert_sts("['max_age: 9223372036854775807']", NULL, INT64_MAX, 0);
	assert_sts("['mode: ']", NULL, -1, 1);
	assert_sts("['mode: testing', 'mode: enforce', 'max_age: 1', 'max_age: 2']", "testing", 1,
		   2);

	parse_policy_strings(&r, "['mode: testing', 'max_age: 12x']");
	g_assert_cmpstr(warning(&r, "policies[0].policy.policy-string[1]"), ==,
			"policies[0].policy.policy-string[1]: max_age \"12x\" is not a "
			"non-negative integer, ignored");
	report_release(&r);
	parse_policy_strings(&r, "['mode: testing', 'mode: enforce']");
	g_assert_nonnull(strstr(warning(&r, "policies[0].policy.policy-string[1]"), "second"));
	report_release(&r);
}

static void test_tlsa_unwrap(void)
{
	static const char *const rrs[] = { "3 1 1 5C04AB", "3 1 1 CEC8CD", NULL };
	static const char *const kept[] = { "[not json", NULL };
	static const char *const numbers[] = { "[1, 2]", NULL };
	json_t *doc = doc_new(FULL);
	struct report r;

	doc_set(doc, "policies/1/policy", "policy-type", "'tlsa'");
	doc_set(doc, "policies/1/policy", "policy-string",
		"['[\\'3 1 1 5C04AB\\',\\'3 1 1 CEC8CD\\']']");
	parse_ok(&r, doc, NULL);
	assert_strings(policy_at(&r, 1)->strings, rrs);
	g_assert_null(policy_at(&r, 1)->sts_mode);
	g_assert_cmpuint(r.warnings->len, ==, 1);
	g_assert_cmpstr(warning(&r, "policies[1].policy.policy-string"), ==,
			"policies[1].policy.policy-string: one string holding a JSON array, "
			"unwrapped to 2 entries");
	assert_round_trip(&r);
	report_release(&r);

	parse_policy_strings(&r, "['[not json']");
	assert_strings(policy_at(&r, 0)->strings, kept);
	g_assert_cmpuint(r.warnings->len, ==, 0);
	report_release(&r);
	parse_policy_strings(&r, "['[1, 2]']");
	assert_strings(policy_at(&r, 0)->strings, numbers);
	g_assert_cmpuint(r.warnings->len, ==, 0);
	report_release(&r);
	parse_policy_strings(&r, "['[\\'a\\']', 'b']");
	g_assert_cmpuint(policy_at(&r, 0)->strings->len, ==, 2);
	g_assert_cmpstr(g_ptr_array_index(policy_at(&r, 0)->strings, 0), ==, "[\"a\"]");
	report_release(&r);
}

/* ---- unknown values and fields --------------------------------------- */

static void test_unknown_kept(void)
{
	json_t *doc = doc_new(FULL);
	struct report r;

	doc_set(doc, "policies/1/policy", "policy-type", "'invalid-policy-type'");
	doc_set(doc, "policies/0/failure-details/0", "result-type", "'Testing'");
	doc_set(doc, "policies/0/failure-details/0", "x-vendor", "{'a': [1, 2]}");
	doc_set(doc, "", "x-extra", "'hello'");
	parse_ok(&r, doc, NULL);
	g_assert_cmpstr(policy_at(&r, 1)->type, ==, "invalid-policy-type");
	g_assert_cmpstr(failure_at(&r, 0, 0)->result_type, ==, "Testing");
	g_assert_cmpuint(r.warnings->len, ==, 0);
	g_assert_cmpstr(json_string_value(json_object_get(r.document, "x-extra")), ==, "hello");
	g_assert_true(json_is_object(
		json_object_get(doc_at(r.document, "policies/0/failure-details/0"), "x-vendor")));
	report_release(&r);
}

/* ---- hints ----------------------------------------------------------- */

static void assert_hint_warnings(const char *contact, const char *domain, const char *submitter,
				 guint expect)
{
	struct report_hints hints = { domain, submitter };
	json_t *doc = doc_new(FULL);
	struct report r;

	g_test_message("contact %s, domain %s, submitter %s", contact, domain, submitter);
	doc_set(doc, "", "contact-info", contact);
	parse_ok(&r, doc, &hints);
	g_assert_cmpuint(r.warnings->len, ==, expect);
	report_release(&r);
}

static void test_hints(void)
{
	struct report_hints hints = { "other.example", "example.net" };
	json_t *doc = doc_new(FULL);
	struct report r;

	assert_hint_warnings("'smtp-tls-reporting@google.com'", NULL, "google.com", 0);
	assert_hint_warnings("'tls_support@corp.mail.ru'", NULL, "mail.ru", 0);
	assert_hint_warnings("'tls_support@corp.mail.ru'", NULL, "MAIL.RU.", 0);
	assert_hint_warnings("'tls_support@mail.ru'", NULL, "corp.mail.ru", 1);
	assert_hint_warnings("'tls_support@evilmail.ru'", NULL, "mail.ru", 1);
	assert_hint_warnings("'mailto:a@Company-X.Example?subject=x'", NULL, "company-x.example",
			     0);
	assert_hint_warnings("'https://reports.company-x.example/tlsrpt'", NULL,
			     "company-x.example", 0);
	assert_hint_warnings("'https://reports.company-x.example/tlsrpt'", NULL, "other.example",
			     1);
	assert_hint_warnings("'write to us'", NULL, "other.example", 0);
	assert_hint_warnings("null", NULL, "other.example", 1); /* the null warning only */
	assert_hint_warnings("'a@company-x.example'", "Company-Y.Example.", NULL, 0);
	assert_hint_warnings("'a@company-x.example'", "mail.company-y.example", NULL, 1);

	doc_set(doc, "", "contact-info", "'sts-reporting@company-x.example'");
	parse_ok(&r, doc, &hints);
	g_assert_cmpuint(r.warnings->len, ==, 2);
	g_assert_cmpstr(warning(&r, "contact-info"), ==,
			"contact-info: domain \"company-x.example\" does not match "
			"TLS-Report-Submitter \"example.net\"");
	g_assert_cmpstr(warning(&r, "policies"), ==,
			"policies: no policy-domain matches TLS-Report-Domain \"other.example\"");
	report_release(&r);
}

/* ---- report_to_json -------------------------------------------------- */

static void test_to_json(void)
{
	json_t *doc = doc_new(FULL), *j, *pol, *f0, *f1;
	struct report r;
	const char *start, *end, *mode;
	json_int_t age, ok, failed;

	doc_set(doc, "date-range", "start-datetime", "'2016-04-01T02:00:00.75+02:00'");
	doc_set(doc, "policies/0/policy", "mx-host", "'*.mail.company-y.example'");
	doc_set(doc, "policies/0/summary", "total-successful-session-count", "'5326'");
	doc_set(doc, "policies/0/failure-details/0", "receiving-ip", "'bogus'");
	doc_set(doc, "", "contact-info", "null");
	parse_ok(&r, doc, NULL);
	j = report_to_json(&r);
	g_assert_nonnull(j);
	g_assert_cmpint(json_unpack(j, "{s:{s:s, s:s}}", "date-range", "start-datetime", &start,
				    "end-datetime", &end),
			==, 0);
	g_assert_cmpstr(start, ==, "2016-04-01T00:00:00Z"); /* fraction dropped */
	g_assert_cmpstr(end, ==, "2016-04-01T23:59:59Z");
	g_assert_true(json_is_null(json_object_get(j, "contact-info")));
	g_assert_cmpstr(json_string_value(json_object_get(j, "organization-name")), ==,
			"Company-X");
	g_assert_cmpuint(json_array_size(json_object_get(j, "warnings")), ==, 4);
	pol = json_array_get(json_object_get(j, "policies"), 0);
	g_assert_cmpint(json_unpack(pol, "{s:{s:s, s:I}, s:{s:I, s:I}}", "policy", "sts-mode",
				    &mode, "sts-max-age", &age, "summary",
				    "total-successful-session-count", &ok,
				    "total-failure-session-count", &failed),
			==, 0);
	g_assert_cmpstr(mode, ==, "testing");
	g_assert_cmpint(age, ==, 86400);
	g_assert_cmpint(ok, ==, 5326);
	g_assert_cmpint(failed, ==, 303);
	g_assert_cmpuint(
		json_array_size(json_object_get(json_object_get(pol, "policy"), "mx-host")), ==, 1);
	f0 = json_array_get(json_object_get(pol, "failure-details"), 0);
	f1 = json_array_get(json_object_get(pol, "failure-details"), 1);
	g_assert_cmpuint(json_object_size(f0), ==, 4); /* absent fields omitted, bad IP too */
	g_assert_null(json_object_get(f0, "receiving-ip"));
	g_assert_null(json_object_get(f0, "additional-information"));
	g_assert_cmpuint(json_object_size(f1), ==, 7);
	g_assert_cmpint(json_integer_value(json_object_get(f1, "failed-session-count")), ==, 200);
	/* no STS lines: the keys are omitted */
	pol = json_object_get(json_array_get(json_object_get(j, "policies"), 1), "policy");
	g_assert_null(json_object_get(pol, "sts-mode"));
	g_assert_null(json_object_get(pol, "sts-max-age"));
	g_assert_cmpuint(json_array_size(json_object_get(pol, "policy-string")), ==, 0);
	json_decref(j);
	assert_round_trip(&r);
	report_release(&r);

	report_init(&r);
	g_assert_null(report_to_json(&r));
}

/* ---- the shared corpus of real reports ------------------------------- */

static void corpus_collect(const char *dir, GPtrArray *out)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;

	while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
		g_autofree char *path = g_build_filename(dir, name, NULL);

		if (g_file_test(path, G_FILE_TEST_IS_DIR))
			corpus_collect(path, out);
		else if (g_str_has_suffix(name, ".json"))
			g_ptr_array_add(out, g_steal_pointer(&path));
	}
}

static gint compare_paths(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Known values of a few corpus files: TRUE when path is one of the
 * CORPUS_CHECKED files it knows, so that the caller can tell that each was
 * seen (a file renamed in the corpus would otherwise go unchecked). */
#define CORPUS_CHECKED 7
static gboolean corpus_check(const char *path, const struct report *r)
{
	if (g_str_has_suffix(path, "/parsedmarc/mail.ru.json")) {
		g_assert_cmpuint(policy_at(r, 0)->failures->len, ==, 2);
		g_assert_cmpint(policy_at(r, 0)->failed_sessions, ==, 1);
		g_assert_null(failure_at(r, 0, 1)->sending_mta_ip);
		g_assert_cmpstr(failure_at(r, 0, 1)->failure_reason_code, ==,
				"bad https response code: 500");
		assert_utc(r->date_end, "2024-02-23T00:00:00.000000Z");
		return TRUE;
	}
	if (g_str_has_suffix(path, "/tls-rpt-monitor/microsoft-report.json")) {
		g_assert_null(failure_at(r, 0, 0)->sending_mta_ip);
		g_assert_nonnull(strstr(warning(r, "policies[0].failure-details[0].sending-mta-ip"),
					"kept in the document"));
		g_assert_cmpstr(failure_at(r, 0, 0)->additional_information, ==,
				"testing.josh.scot");
		g_assert_cmpstr(failure_at(r, 0, 0)->result_type, ==, "Testing");
		g_assert_cmpint(policy_at(r, 0)->sts_max_age, ==, 86401);
		g_assert_cmpstr(policy_at(r, 0)->sts_mode, ==, "enforce");
		return TRUE;
	}
	if (g_str_has_suffix(path, "/mta-sts-exporter/microsoft-2.json")) {
		assert_utc(r->date_start, "2024-03-26T00:00:00.000000Z");
		g_assert_nonnull(warning(r, "date-range.end-datetime"));
		return TRUE;
	}
	if (g_str_has_suffix(path, "/dmarc-report-viewer/microsoft.json")) {
		g_assert_cmpuint(policy_at(r, 1)->strings->len, ==, 2);
		g_assert_true(g_str_has_prefix(g_ptr_array_index(policy_at(r, 1)->strings, 1),
					       "3 1 1 837C773D"));
		return TRUE;
	}
	if (g_str_has_suffix(path, "/dmarc-report-viewer/no-contact.json")) {
		g_assert_null(r->contact_info);
		g_assert_nonnull(warning(r, "contact-info"));
		return TRUE;
	}
	if (g_str_has_suffix(path, "/parsedmarc/rfc8460.json")) {
		g_assert_cmpuint(policy_at(r, 0)->mx_hosts->len, ==, 1);
		g_assert_nonnull(warning(r, "policies[0].policy.mx-host"));
		return TRUE;
	}
	if (g_str_has_suffix(path, "/parsedmarc/empty_failure_detail_fields.json")) {
		g_assert_null(failure_at(r, 0, 0)->receiving_ip);
		g_assert_cmpstr(failure_at(r, 0, 0)->receiving_mx_hostname, ==, "");
		return TRUE;
	}
	return FALSE;
}

/* rpt03.json: no policy-domain anywhere, so it needs the header. */
static void corpus_rpt03(const char *text, size_t len, struct report *r)
{
	struct report_hints hints = { "example.org", "google.com" };
	struct error err = ERROR_INIT;

	g_assert_cmpint(parse_text(r, text, len, NULL, NULL, &err), ==, -1);
	g_assert_cmpstr(err.msg, ==,
			"policies[0].policy.policy-domain: missing, and no TLS-Report-Domain");
	error_clear(&err);
	g_assert_cmpint(parse_text(r, text, len, &hints, NULL, &err), ==, 0);
	g_assert_cmpstr(policy_at(r, 0)->domain, ==, "example.org");
	g_assert_cmpstr(policy_at(r, 1)->type, ==, "invalid-policy-type");
	g_assert_cmpint(policy_at(r, 1)->failed_sessions, ==, 0);
	g_assert_nonnull(warning(r, "policies[1].summary.total-failure-session-count"));
}

static void test_corpus(void)
{
	g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *dir = g_strdup(g_getenv("TLSWATCH_CORPUS"));
	guint checked = 0;
	gboolean rpt03 = FALSE;

	/* g_build_filename, not g_test_build_filename: GLib 2.74's leaks */
	if (dir == NULL)
		dir = g_build_filename(g_test_get_dir(G_TEST_DIST), "..", "..", "..", "shared",
				       "corpus", "tlsrpt", NULL);
	if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
		g_test_skip_printf("corpus not found: %s", dir);
		return;
	}
	corpus_collect(dir, files);
	g_ptr_array_sort(files, compare_paths);
	g_assert_cmpuint(files->len, >, 0);
	for (guint i = 0; i < files->len; i++) {
		const char *path = g_ptr_array_index(files, i);
		g_autofree char *text = NULL;
		struct error err = ERROR_INIT;
		struct report r;
		gsize len;

		g_test_message("corpus: %s", path);
		g_assert_true(g_file_get_contents(path, &text, &len, NULL));
		if (g_str_has_suffix(path, "/stalwart-mail-auth/rpt03.json")) {
			corpus_rpt03(text, len, &r);
			rpt03 = TRUE;
		} else {
			g_assert_cmpint(parse_text(&r, text, len, NULL, NULL, &err), ==, 0);
			g_assert_cmpstr(err.msg, ==, NULL);
		}
		checked += corpus_check(path, &r);
		assert_round_trip(&r);
		report_release(&r);
	}
	g_assert_cmpuint(checked, ==, CORPUS_CHECKED);
	g_assert_true(rpt03);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/report/full", test_full);
	for (guint i = 0; i < G_N_ELEMENTS(missing_cases); i++) {
		g_autofree char *name =
			g_strdup_printf("/report/missing/%s", missing_cases[i].name);

		g_test_add_data_func(name, &missing_cases[i], test_edit_fails);
	}
	for (guint i = 0; i < G_N_ELEMENTS(type_cases); i++) {
		g_autofree char *name = g_strdup_printf("/report/type/%s", type_cases[i].name);

		g_test_add_data_func(name, &type_cases[i], test_edit_fails);
	}
	g_test_add_func("/report/type/count-int64-max", test_count_int64_max);
	g_test_add_func("/report/syntax", test_syntax);
	g_test_add_func("/report/text/nul", test_text_nul);
	g_test_add_func("/report/text/invalid-utf8", test_text_invalid_utf8);
	g_test_add_func("/report/dates-odd", test_dates_odd);
	g_test_add_func("/report/limit/string", test_limit_string);
	g_test_add_func("/report/limit/depth", test_limit_depth);
	g_test_add_func("/report/limit/counts", test_limit_counts);
	g_test_add_func("/report/limit/failures-per-report", test_limit_failures_per_report);
	g_test_add_func("/report/lenient/bom", test_lenient_bom);
	g_test_add_func("/report/lenient/no-zone", test_lenient_no_zone);
	g_test_add_func("/report/lenient/count-string", test_lenient_count_string);
	g_test_add_func("/report/lenient/failure-count", test_lenient_failure_count);
	g_test_add_func("/report/lenient/policy-domain", test_lenient_policy_domain);
	g_test_add_func("/report/lenient/contact-null", test_lenient_contact_null);
	g_test_add_func("/report/lenient/mx-host", test_lenient_mx_host);
	g_test_add_func("/report/lenient/additional-info-uri", test_lenient_additional_info_uri);
	g_test_add_func("/report/lenient/ip", test_lenient_ip);
	g_test_add_func("/report/lenient/empty-policies", test_lenient_empty_policies);
	g_test_add_func("/report/lenient/optional-nulls", test_lenient_optional_nulls);
	g_test_add_func("/report/datetime/parse", test_datetime);
	g_test_add_func("/report/datetime/in-report", test_datetime_in_report);
	g_test_add_func("/report/sts/lines", test_sts_lines);
	g_test_add_func("/report/tlsa-unwrap", test_tlsa_unwrap);
	g_test_add_func("/report/unknown-kept", test_unknown_kept);
	g_test_add_func("/report/hints", test_hints);
	g_test_add_func("/report/to-json", test_to_json);
	g_test_add_func("/report/corpus", test_corpus);
	return g_test_run();
}
