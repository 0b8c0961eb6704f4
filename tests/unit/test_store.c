/*
 * test_store.c: migrations, store_message and the quarantine against a real
 * PostgreSQL (tests/integration/db.t starts one; PGHOST etc. say where).
 * Without PGHOST every test that needs a server is skipped, saying why.
 *
 * Each test starts from an empty database: the tlswatch schema is dropped
 * and migrated again. Rows are read back as text, one line per row, columns
 * joined by '|', NULL as "NULL", and compared whole.
 */
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

#include "common/db.h"
#include "common/original.h"
#include "ingest/report.h"
#include "ingest/store.h"

/* Two policies (sts, no-policy-found), three failure-details: an IPv6
 * sender, one without receiving-ip, one with every optional field. */
static const char *const REPORT =
	"{'organization-name': 'Company-X',"
	" 'date-range': {'start-datetime': '2016-04-01T00:00:00Z',"
	"                'end-datetime': '2016-04-01T23:59:59Z'},"
	" 'contact-info': 'sts-reporting@company-x.example',"
	" 'report-id': '@ID@',"
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
	"     {'result-type': 'starttls-not-supported', 'sending-mta-ip': '198.51.100.61',"
	"      'receiving-mx-hostname': 'mx2.mail.company-y.example',"
	"      'receiving-mx-helo': 'mx2-helo.company-y.example',"
	"      'receiving-ip': '203.0.113.56', 'failed-session-count': 200,"
	"      'additional-information': 'https://reports.company-x.example/info?id=1',"
	"      'failure-reason-code': 'X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED'},"
	"     {'result-type': 'validation-failure', 'failed-session-count': 3}]},"
	"  {'policy': {'policy-type': 'no-policy-found', 'policy-domain': 'company-y.example'},"
	"   'summary': {'total-successful-session-count': 7,"
	"               'total-failure-session-count': 0}}]}";

/* Microsoft's habit: the same sessions under sts and tlsa for one domain. */
static const char *const TWIN_POLICIES =
	"{'organization-name': 'Microsoft Corporation',"
	" 'date-range': {'start-datetime': '2024-05-01T00:00:00Z',"
	"                'end-datetime': '2024-05-01T23:59:59Z'},"
	" 'report-id': '133591488000000000+example.com',"
	" 'policies': ["
	"  {'policy': {'policy-type': 'sts', 'policy-domain': 'Example.COM',"
	"              'policy-string': ['version: STSv1', 'mode: enforce']},"
	"   'summary': {'total-successful-session-count': 40,"
	"               'total-failure-session-count': 2}},"
	"  {'policy': {'policy-type': 'tlsa', 'policy-domain': 'example.com',"
	"              'policy-string': ['3 1 1 0123456789abcdef']},"
	"   'summary': {'total-successful-session-count': 40,"
	"               'total-failure-session-count': 5}},"
	"  {'policy': {'policy-type': 'sts', 'policy-domain': 'example.net'},"
	"   'summary': {'total-successful-session-count': 9,"
	"               'total-failure-session-count': 1}}]}";

struct fixture {
	PGconn *conn; /* for reading back, outside store's transactions */
	struct store *st;
};

static gboolean have_server(void)
{
	if (g_getenv("PGHOST") != NULL)
		return TRUE;
	g_test_skip("no PostgreSQL: PGHOST is not set (tests/integration/db.t starts one)");
	return FALSE;
}

/* All rows of sql (with at most one text parameter) as text. */
static char *q(PGconn *conn, const char *sql, const char *param)
{
	PGresult *res = PQexecParams(conn, sql, param ? 1 : 0, NULL, &param, NULL, NULL, 0);
	GString *out = g_string_new(NULL);

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		g_error("%s: %s", sql, PQerrorMessage(conn));
	for (int i = 0; i < PQntuples(res); i++) {
		for (int j = 0; j < PQnfields(res); j++)
			g_string_append_printf(out, "%s%s", j ? "|" : "",
					       PQgetisnull(res, i, j) ? "NULL"
								      : PQgetvalue(res, i, j));
		g_string_append(out, i + 1 < PQntuples(res) ? "\n" : "");
	}
	PQclear(res);
	return g_string_free(out, FALSE);
}

static void exec_ok(PGconn *conn, const char *sql)
{
	struct error err = ERROR_INIT;

	if (db_exec(conn, sql, &err) < 0)
		g_error("%s", err.msg);
}

/* The rows of sql (with at most one parameter) must be want. */
static void check(PGconn *conn, const char *sql, const char *param, const char *want)
{
	g_autofree char *got = q(conn, sql, param);

	g_assert_cmpstr(got, ==, want);
}

/* The one stored report's original, inflated, must be the JSON want. */
static void check_original(PGconn *conn, const char *want)
{
	PGresult *res = PQexecParams(conn, "SELECT original FROM tlswatch.reports", 0, NULL, NULL,
				     NULL, NULL, 1);
	struct error err = ERROR_INIT;
	g_autoptr(GBytes) json = NULL;
	json_t *got, *expect;

	g_assert_cmpint(PQresultStatus(res), ==, PGRES_TUPLES_OK);
	g_assert_cmpint(PQntuples(res), ==, 1);
	json = original_inflate(PQgetvalue(res, 0, 0), (gsize)PQgetlength(res, 0, 0), 1 << 20,
				&err);
	g_assert_nonnull(json);
	got = json_loadb(g_bytes_get_data(json, NULL), g_bytes_get_size(json), 0, NULL);
	expect = json_loads(want, 0, NULL);
	g_assert_true(got != NULL && expect != NULL && json_equal(got, expect));
	json_decref(got);
	json_decref(expect);
	PQclear(res);
}

/* The counts of every table, "messages|reports|policies|failures". */
static void check_counts(PGconn *conn, const char *want)
{
	check(conn,
	      "SELECT (SELECT count(*) FROM tlswatch.messages),"
	      " (SELECT count(*) FROM tlswatch.reports), (SELECT count(*) FROM tlswatch.policies),"
	      " (SELECT count(*) FROM tlswatch.failures)",
	      NULL, want);
}

/* A document written with single quotes, @ID@ replaced by report_id. */
static char *doc_text(const char *single_quoted, const char *report_id)
{
	g_auto(GStrv) parts = g_strsplit(single_quoted, "@ID@", -1);
	char *text = g_strjoinv(report_id ? report_id : "", parts);

	return g_strdelimit(text, "'", '"');
}

static struct report *report_new(const char *single_quoted, const char *report_id)
{
	g_autofree char *text = doc_text(single_quoted, report_id);
	struct report *r = g_new0(struct report, 1);
	struct error err = ERROR_INIT;

	report_init(r);
	if (report_parse(r, text, strlen(text), NULL, NULL, &err) < 0)
		g_error("test report: %s", err.msg);
	return r;
}

static void report_free_test(gpointer p)
{
	report_release(p);
	g_free(p);
}

/* A record for reports (borrowed by rec->reports, freed by the array). */
static struct message_record record(GPtrArray *reports)
{
	struct message_record rec = {
		.message_id = "<1@reporter.example>",
		.from_addr = "noreply-smtp-tls-reporting@reporter.example",
		.subject = "Report Domain: company-y.example",
		.report_domain = "company-y.example",
		.report_submitter = "reporter.example",
		.reports = reports,
	};
	return rec;
}

static GPtrArray *reports_of(struct report *r)
{
	GPtrArray *a = g_ptr_array_new_with_free_func(report_free_test);

	if (r != NULL)
		g_ptr_array_add(a, r);
	return a;
}

static void store_ok(struct fixture *fx, const struct message_record *rec, enum message_status want,
		     gint64 *id)
{
	struct error err = ERROR_INIT;
	enum message_status status = MESSAGE_QUARANTINED;
	gint64 got = 0;

	if (store_message(fx->st, rec, &status, &got, &err) < 0)
		g_error("store_message: %s", err.msg);
	g_assert_cmpstr(message_status_name(status), ==, message_status_name(want));
	g_assert_cmpint(got, >, 0);
	if (id != NULL)
		*id = got;
}

static void setup(struct fixture *fx, gconstpointer data)
{
	struct error err = ERROR_INIT;

	memset(fx, 0, sizeof *fx);
	if (!have_server())
		return;
	fx->conn = db_connect(NULL, &err);
	if (fx->conn == NULL)
		g_error("%s", err.msg);
	exec_ok(fx->conn, "DROP SCHEMA IF EXISTS tlswatch CASCADE");
	exec_ok(fx->conn, "SET TimeZone = 'UTC'");
	if (data == NULL)
		return; /* the test wants an empty database */
	if (db_migrate(fx->conn, NULL, &err) < 0 || store_open(&fx->st, NULL, &err) < 0)
		g_error("%s", err.msg);
}

static void teardown(struct fixture *fx, gconstpointer data)
{
	store_free(fx->st);
	if (fx->conn != NULL)
		PQfinish(fx->conn);
}

static void test_migrate(struct fixture *fx, gconstpointer data)
{
	struct error err = ERROR_INIT;
	int applied = -1, current = -1, latest = -1;
	g_autoptr(GString) want = g_string_new(NULL);

	if (fx->conn == NULL)
		return;
	g_assert_cmpint(db_schema_version(fx->conn, &current, &latest, &err), ==, 0);
	g_assert_cmpint(current, ==, 0);
	g_assert_cmpint(latest, >=, 1);
	g_assert_cmpint(db_migrate(fx->conn, &applied, &err), ==, 0);
	g_assert_cmpint(applied, ==, latest); /* numbered 1..N without gaps */
	g_assert_cmpint(db_migrate(fx->conn, &applied, &err), ==, 0);
	g_assert_cmpint(applied, ==, 0);
	g_assert_cmpint(db_schema_version(fx->conn, &current, &latest, &err), ==, 0);
	g_assert_cmpint(current, ==, latest);
	for (int v = 1; v <= latest; v++)
		g_string_append_printf(want, "%s%d", v > 1 ? "," : "", v);
	check(fx->conn,
	      "SELECT string_agg(version::text, ',' ORDER BY version) FROM tlswatch.schema_version",
	      NULL, want->str);
	g_assert_cmpint(err.cls, ==, ERR_NONE);
}

static void test_schema_missing(struct fixture *fx, gconstpointer data)
{
	struct error err = ERROR_INIT;
	struct store *st = NULL;

	if (fx->conn == NULL)
		return;
	g_assert_cmpint(store_open(&st, NULL, &err), ==, -1);
	g_assert_null(st);
	g_assert_cmpint(err.cls, ==, ERR_CONFIG);
	g_assert_cmpstr(err.msg, ==, "database schema not initialised: run `tlswatch db init`");
	error_clear(&err);
}

static void test_report_rows(struct fixture *fx, gconstpointer data)
{
	g_autoptr(GPtrArray) reports = reports_of(report_new(REPORT, "rpt-1"));
	struct message_record rec = record(reports);
	g_autofree char *doc = doc_text(REPORT, "rpt-1");
	g_autofree char *want = NULL;
	gint64 id = 0;

	if (fx->conn == NULL)
		return;
	store_ok(fx, &rec, MESSAGE_STORED, &id);
	want = g_strdup_printf("%" G_GINT64_FORMAT
			       "|<1@reporter.example>|noreply-smtp-tls-reporting@reporter.example"
			       "|Report Domain: company-y.example|company-y.example"
			       "|reporter.example|stored|NULL|NULL",
			       id);
	check(fx->conn,
	      "SELECT id, message_id, from_addr, subject, report_domain, report_submitter,"
	      " status, reason, raw FROM tlswatch.messages",
	      NULL, want);
	check(fx->conn,
	      "SELECT organization_name, report_id, contact_info, date_start, date_end, warnings,"
	      " message_ref = (SELECT id FROM tlswatch.messages) FROM tlswatch.reports",
	      NULL,
	      "Company-X|rpt-1|sts-reporting@company-x.example"
	      "|2016-04-01 00:00:00+00|2016-04-01 23:59:59+00|{}|t");
	/* The stored JSON is the report (printed from the struct: this report
	 * came without its bytes). */
	check_original(fx->conn, doc);
	check(fx->conn,
	      "SELECT policy_index, policy_type, policy_domain, policy_string, mx_host, sts_mode,"
	      " sts_max_age, successful_sessions, failed_sessions,"
	      " report_ref = (SELECT id FROM tlswatch.reports)"
	      " FROM tlswatch.policies ORDER BY policy_index",
	      NULL,
	      "0|sts|company-y.example|{\"version: STSv1\",\"mode: testing\","
	      "\"mx: *.mail.company-y.example\",\"max_age: 86400\"}"
	      "|{*.mail.company-y.example,mx9.company-y.example}|testing|86400|5326|303|t\n"
	      "1|no-policy-found|company-y.example|{}|{}|NULL|NULL|7|0|t");
	check(fx->conn,
	      "SELECT p.policy_index, f.detail_index, result_type, sending_mta_ip,"
	      " receiving_mx_hostname, receiving_mx_helo, receiving_ip, f.failed_sessions,"
	      " additional_information, failure_reason_code"
	      " FROM tlswatch.failures f JOIN tlswatch.policies p ON p.id = f.policy_ref"
	      " ORDER BY p.policy_index, f.detail_index",
	      NULL,
	      "0|0|certificate-expired|2001:db8:abcd:12::1|mx1.mail.company-y.example"
	      "|NULL|NULL|100|NULL|NULL\n"
	      "0|1|starttls-not-supported|198.51.100.61|mx2.mail.company-y.example"
	      "|mx2-helo.company-y.example|203.0.113.56|200"
	      "|https://reports.company-x.example/info?id=1"
	      "|X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED\n"
	      "0|2|validation-failure|NULL|NULL|NULL|NULL|3|NULL|NULL");
}

static void test_duplicate(struct fixture *fx, gconstpointer data)
{
	g_autoptr(GPtrArray) first = reports_of(report_new(REPORT, "rpt-dup"));
	g_autoptr(GPtrArray) again = reports_of(report_new(REPORT, "rpt-dup"));
	struct message_record rec = record(first);
	gint64 id1 = 0, id2 = 0;

	if (fx->conn == NULL)
		return;
	store_ok(fx, &rec, MESSAGE_STORED, &id1);
	check_counts(fx->conn, "1|1|2|3");
	/* The reporter re-delivers: a new message, the same report. */
	rec = record(again);
	store_ok(fx, &rec, MESSAGE_DUPLICATE, &id2);
	g_assert_cmpint(id2, >, id1);
	check_counts(fx->conn, "2|1|2|3");
	check(fx->conn,
	      "SELECT m.status, (SELECT count(*) FROM tlswatch.reports r WHERE"
	      " r.message_ref = m.id) FROM tlswatch.messages m ORDER BY m.id",
	      NULL, "stored|1\nduplicate|0");
}

static void batch_outcome(gpointer data, enum message_status status, gint64 id, int refused,
			  const struct error *err)
{
	g_string_append_printf(data, "%s%s", ((GString *)data)->len ? "," : "",
			       err ? err->msg : message_status_name(status));
}

/* Messages sharing one transaction: a message is stored when one of its
 * reports is new, even beside a known one, and a duplicate when none is,
 * also when the report it repeats was stored earlier in the batch. */
static void test_batch_duplicates(struct fixture *fx, gconstpointer data)
{
	g_autoptr(GPtrArray) a = reports_of(report_new(REPORT, "rpt-a"));
	g_autoptr(GPtrArray) a_again = reports_of(report_new(REPORT, "rpt-a"));
	g_autoptr(GPtrArray) a_b = reports_of(report_new(REPORT, "rpt-a"));
	g_autoptr(GPtrArray) a_b_again = reports_of(report_new(REPORT, "rpt-a"));
	g_autoptr(GString) outcomes = g_string_new(NULL);
	GPtrArray *messages[] = { a, a_again, a_b, a_b_again };
	struct error err = ERROR_INIT;

	if (fx->conn == NULL)
		return;
	g_ptr_array_add(a_b, report_new(REPORT, "rpt-b"));
	g_ptr_array_add(a_b_again, report_new(REPORT, "rpt-b"));
	store_set_batch(fx->st, G_N_ELEMENTS(messages));
	for (guint i = 0; i < G_N_ELEMENTS(messages); i++) {
		struct message_record rec = record(messages[i]);

		if (store_submit(fx->st, &rec, batch_outcome, outcomes, &err) < 0)
			g_error("store_submit: %s", err.msg);
	}
	if (store_commit(fx->st, &err) < 0)
		g_error("store_commit: %s", err.msg);
	g_assert_cmpstr(outcomes->str, ==, "stored,duplicate,stored,duplicate");
	check(fx->conn,
	      "SELECT string_agg(m.status || ':' || (SELECT count(*) FROM tlswatch.reports r"
	      " WHERE r.message_ref = m.id), ',' ORDER BY m.id) FROM tlswatch.messages m",
	      NULL, "stored:1,duplicate:0,stored:1,duplicate:0");
	check_counts(fx->conn, "4|2|4|6");
}

/* Bytes a text column would refuse: NUL, invalid UTF-8, CR LF. */
static GBytes *raw_bytes(void)
{
	static const char raw[] = "From: x\r\n\r\n\0\xff\xfe junk \x80";

	return g_bytes_new(raw, sizeof raw - 1);
}

static void test_quarantine(struct fixture *fx, gconstpointer data)
{
	g_autoptr(GBytes) raw = raw_bytes();
	g_autoptr(GPtrArray) list = NULL;
	struct message_record rec = record(NULL);
	struct quarantined *got = NULL;
	struct error err = ERROR_INIT;
	g_autofree char *want = NULL;
	gint64 id = 0;

	if (fx->conn == NULL)
		return;
	rec.reason = "not a TLS report: no JSON part";
	rec.raw = raw;
	rec.subject = "bad \xff subject"; /* invalid UTF-8 must not block the quarantine */
	store_ok(fx, &rec, MESSAGE_QUARANTINED, &id);
	want = g_strdup_printf("quarantined|not a TLS report: no JSON part|bad \xef\xbf\xbd"
			       " subject|%" G_GSIZE_FORMAT,
			       g_bytes_get_size(raw));
	check(fx->conn, "SELECT status, reason, subject, octet_length(raw) FROM tlswatch.messages",
	      NULL, want);
	check_counts(fx->conn, "1|0|0|0");

	g_assert_cmpint(store_quarantine_get(fx->st, id, &got, &err), ==, 0);
	g_assert_cmpint(got->id, ==, id);
	g_assert_true(g_bytes_equal(got->raw, raw));
	g_assert_cmpstr(got->reason, ==, "not a TLS report: no JSON part");
	g_assert_cmpstr(got->from_addr, ==, "noreply-smtp-tls-reporting@reporter.example");
	g_assert_true(g_regex_match_simple("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$",
					   got->received_at, 0, 0));
	quarantined_free(got);

	g_assert_cmpint(store_quarantine_list(fx->st, &list, &err), ==, 0);
	g_assert_cmpuint(list->len, ==, 1);
	g_assert_cmpint(((struct quarantined *)list->pdata[0])->id, ==, id);
	g_assert_null(((struct quarantined *)list->pdata[0])->raw);

	got = NULL;
	g_assert_cmpint(store_quarantine_get(fx->st, id + 1000, &got, &err), ==, -1);
	g_assert_cmpint(err.cls, ==, ERR_USAGE);
	g_assert_null(got);
	error_clear(&err);
}

static void test_retry(struct fixture *fx, gconstpointer data)
{
	g_autoptr(GBytes) raw = raw_bytes();
	g_autoptr(GPtrArray) reports = reports_of(report_new(REPORT, "rpt-retry"));
	struct message_record rec = record(NULL);
	struct error err = ERROR_INIT;
	enum message_status status;
	g_autofree char *want = NULL;
	gint64 id = 0, again = 0;

	if (fx->conn == NULL)
		return;
	rec.reason = "report: policies[0].summary: missing";
	rec.raw = raw;
	store_ok(fx, &rec, MESSAGE_QUARANTINED, &id);

	/* Retried, still no report: stays quarantined, new reason, raw kept. */
	rec = record(NULL);
	rec.retry_id = id;
	rec.reason = "still not a report";
	store_ok(fx, &rec, MESSAGE_QUARANTINED, &again);
	g_assert_cmpint(again, ==, id);
	check(fx->conn, "SELECT status, reason, raw IS NOT NULL FROM tlswatch.messages", NULL,
	      "quarantined|still not a report|t");

	/* Retried after a fix: the same row is now stored; reason and raw go. */
	rec = record(reports);
	rec.retry_id = id;
	store_ok(fx, &rec, MESSAGE_STORED, &again);
	g_assert_cmpint(again, ==, id);
	want = g_strdup_printf("%" G_GINT64_FORMAT "|stored|NULL|NULL", id);
	check(fx->conn, "SELECT id, status, reason, raw FROM tlswatch.messages", NULL, want);
	check_counts(fx->conn, "1|1|2|3");

	/* Not in quarantine any more, or no such row: a usage error, and
	 * nothing changes. */
	g_assert_cmpint(store_message(fx->st, &rec, &status, &again, &err), ==, -1);
	g_assert_cmpint(err.cls, ==, ERR_USAGE);
	error_clear(&err);
	rec.retry_id = id + 1000;
	g_assert_cmpint(store_message(fx->st, &rec, &status, &again, &err), ==, -1);
	g_assert_cmpint(err.cls, ==, ERR_USAGE);
	error_clear(&err);
	check_counts(fx->conn, "1|1|2|3");
}

static void test_domain_sessions(struct fixture *fx, gconstpointer data)
{
	g_autoptr(GPtrArray) reports = reports_of(report_new(TWIN_POLICIES, NULL));
	struct message_record rec = record(reports);
	g_autofree char *comment = NULL;

	if (fx->conn == NULL)
		return;
	store_ok(fx, &rec, MESSAGE_STORED, NULL);
	/* 40 + 40 successful sessions would be twice the truth. */
	check(fx->conn,
	      "SELECT policy_domain, successful_sessions, failed_sessions"
	      " FROM tlswatch.domain_sessions ORDER BY policy_domain",
	      NULL, "example.com|40|5\nexample.net|9|1");
	comment = q(fx->conn, "SELECT obj_description('tlswatch.domain_sessions'::regclass)", NULL);
	g_assert_nonnull(strstr(comment, "not their sum"));
}

static void test_input_error(struct fixture *fx, gconstpointer data)
{
	g_autoptr(GPtrArray) reports = g_ptr_array_new_with_free_func(report_free_test);
	struct report *bad = report_new(REPORT, "rpt-bad");
	struct policy *p = &g_array_index(bad->policies, struct policy, 0);
	struct message_record rec = record(reports);
	struct error err = ERROR_INIT;
	enum message_status status;
	gint64 id = 0;

	g_ptr_array_add(reports, report_new(REPORT, "rpt-good"));
	g_ptr_array_add(reports, bad);
	if (fx->conn == NULL)
		return;
	/* A good report, then one the model never produces: the database
	 * refuses it, and the good one is not committed either. */
	g_array_index(p->failures, struct failure_detail, 2).failed_sessions = -1;
	g_assert_cmpint(store_message(fx->st, &rec, &status, &id, &err), ==, -1);
	g_assert_cmpint(err.cls, ==, ERR_INPUT);
	g_assert_nonnull(strstr(err.msg, "failed_sessions"));
	g_assert_null(strchr(err.msg, '\n'));
	error_clear(&err);
	check_counts(fx->conn, "0|0|0|0");

	/* The connection is still usable: without the bad report, it stores. */
	g_ptr_array_remove_index(reports, 1);
	store_ok(fx, &rec, MESSAGE_STORED, &id);
	check_counts(fx->conn, "1|1|2|3");
}

static void expect_class(PGconn *conn, const char *sql, enum error_class cls, const char *part)
{
	struct error err = ERROR_INIT;

	g_assert_cmpint(db_exec(conn, sql, &err), ==, -1);
	g_assert_cmpint(err.cls, ==, cls);
	if (part != NULL && strstr(err.msg, part) == NULL)
		g_error("'%s' not in '%s'", part, err.msg);
	g_assert_null(strchr(err.msg, '\n'));
	error_clear(&err);
}

static void test_error_classes(struct fixture *fx, gconstpointer data)
{
	static const struct {
		const char *sqlstate;
		enum error_class cls;
	} raised[] = {
		{ "08006", ERR_TEMP },	 { "40001", ERR_TEMP },	 { "40P01", ERR_TEMP },
		{ "53100", ERR_TEMP },	 { "55P03", ERR_TEMP },	 { "57014", ERR_TEMP },
		{ "58030", ERR_TEMP },	 { "XX000", ERR_TEMP },	 { "22003", ERR_INPUT },
		{ "23505", ERR_INPUT },	 { "54000", ERR_INPUT }, { "3F000", ERR_CONFIG },
		{ "42P01", ERR_CONFIG }, { "P0001", ERR_TEMP },	 { "42501", ERR_CONFIG },
	};
	struct error err = ERROR_INIT;
	PGconn *victim;
	g_autofree char *pid = NULL, *gone = NULL;

	if (fx->conn == NULL)
		return;
	for (gsize i = 0; i < G_N_ELEMENTS(raised); i++) {
		g_autofree char *sql = g_strdup_printf(
			"DO $$BEGIN RAISE EXCEPTION 'boom' USING ERRCODE = '%s'; END$$",
			raised[i].sqlstate);

		g_test_message("SQLSTATE %s", raised[i].sqlstate);
		expect_class(fx->conn, sql, raised[i].cls, "boom");
	}
	expect_class(fx->conn, "SELECT 1/0", ERR_INPUT, "division by zero");
	expect_class(fx->conn, "SELECT * FROM tlswatch.nothing", ERR_CONFIG,
		     "(run `tlswatch db init`)");
	expect_class(fx->conn, "SELEC 1", ERR_TEMP, "syntax error");

	/* The server ends a session: temporary, the MTA retries. */
	victim = db_connect(NULL, &err);
	g_assert_nonnull(victim);
	pid = g_strdup_printf("%d", PQbackendPID(victim));
	gone = q(fx->conn, "SELECT pg_terminate_backend($1::int)", pid);
	g_assert_cmpstr(gone, ==, "t");
	expect_class(victim, "SELECT 1", ERR_TEMP, NULL);
	PQfinish(victim);
}

static void test_no_server(void)
{
	struct error err = ERROR_INIT;
	struct store *st = NULL;
	g_autofree char *dir = g_dir_make_tmp("tw-nopg.XXXXXX", NULL);
	g_autofree char *conninfo = g_strdup_printf("host=%s port=5432 dbname=x user=x", dir);

	/* Nothing listens on a socket in an empty folder. */
	g_assert_null(db_connect(conninfo, &err));
	g_assert_cmpint(err.cls, ==, ERR_TEMP);
	g_assert_true(g_str_has_prefix(err.msg, "cannot connect to database: "));
	g_assert_null(strchr(err.msg, '\n'));
	error_clear(&err);
	g_assert_cmpint(store_open(&st, conninfo, &err), ==, -1);
	g_assert_null(st);
	g_assert_cmpint(err.cls, ==, ERR_TEMP);
	error_clear(&err);
	g_rmdir(dir);
}

/* db.t stops the server it started and runs this one test alone
 * (TLSWATCH_TEST_SERVER_DOWN=1): the environment points at a dead server. */
static void test_server_down(void)
{
	struct error err = ERROR_INIT;
	struct store *st = NULL;

	g_assert_cmpint(store_open(&st, NULL, &err), ==, -1);
	g_assert_cmpint(err.cls, ==, ERR_TEMP);
	g_assert_true(g_str_has_prefix(err.msg, "cannot connect to database: "));
	g_test_message("%s", err.msg);
	error_clear(&err);
}

/* ---- eight deliveries of one new report at once ----------------------- */

struct delivery {
	GMutex *lock;
	GCond *cond;
	int *waiting;
	enum message_status status;
	int rc;
};

static gpointer deliver(gpointer data)
{
	struct delivery *d = data;
	g_autoptr(GPtrArray) reports = reports_of(report_new(REPORT, "rpt-race"));
	struct message_record rec = record(reports);
	struct store *st = NULL;
	struct error err = ERROR_INIT;
	gint64 id;

	d->rc = store_open(&st, NULL, &err);
	g_mutex_lock(d->lock); /* start together */
	if (--*d->waiting == 0)
		g_cond_broadcast(d->cond);
	while (*d->waiting > 0)
		g_cond_wait(d->cond, d->lock);
	g_mutex_unlock(d->lock);
	if (d->rc == 0)
		d->rc = store_message(st, &rec, &d->status, &id, &err);
	if (d->rc < 0)
		g_printerr("# delivery: %s\n", err.msg);
	error_clear(&err);
	store_free(st);
	return NULL;
}

static void test_concurrent(struct fixture *fx, gconstpointer data)
{
	enum { N = 8 };
	struct delivery d[N];
	GThread *threads[N];
	GMutex lock;
	GCond cond;
	int waiting = N, stored = 0;

	if (fx->conn == NULL)
		return;
	g_mutex_init(&lock);
	g_cond_init(&cond);
	for (int i = 0; i < N; i++) {
		d[i] = (struct delivery){ &lock, &cond, &waiting, MESSAGE_QUARANTINED, -1 };
		threads[i] = g_thread_new("delivery", deliver, &d[i]);
	}
	for (int i = 0; i < N; i++) {
		g_thread_join(threads[i]);
		g_assert_cmpint(d[i].rc, ==, 0);
		stored += d[i].status == MESSAGE_STORED;
	}
	g_assert_cmpint(stored, ==, 1);
	check(fx->conn,
	      "SELECT status || '=' || count(*) FROM tlswatch.messages GROUP BY status ORDER BY "
	      "status",
	      NULL, "duplicate=7\nstored=1");
	check_counts(fx->conn, "8|1|2|3");
	g_mutex_clear(&lock);
	g_cond_clear(&cond);
}

/* One statement per report, however many rows: order and values survive. */
static void test_large(struct fixture *fx, gconstpointer data)
{
	enum { N = 20000 };
	g_autoptr(GString) doc = g_string_new(NULL);
	g_autoptr(GPtrArray) reports = NULL;
	struct message_record rec;

	if (fx->conn == NULL)
		return;
	g_string_append(doc, "{'organization-name': 'Big', 'report-id': 'big-1',"
			     " 'date-range': {'start-datetime': '2024-01-01T00:00:00Z',"
			     " 'end-datetime': '2024-01-02T00:00:00Z'}, 'policies': [{"
			     " 'policy': {'policy-type': 'sts', 'policy-domain': 'big.example'},"
			     " 'summary': {'total-successful-session-count': 1,"
			     " 'total-failure-session-count': 1}, 'failure-details': [");
	for (int i = 0; i < N; i++)
		g_string_append_printf(
			doc,
			"%s{'result-type': 'validation-failure',"
			" 'sending-mta-ip': '10.%d.%d.%d', 'failed-session-count': %d}",
			i ? "," : "", i >> 16, (i >> 8) & 255, i & 255, i + 1);
	g_string_append(doc, "]}]}");
	reports = reports_of(report_new(doc->str, NULL));
	rec = record(reports);
	store_ok(fx, &rec, MESSAGE_STORED, NULL);
	check(fx->conn,
	      "SELECT count(*), bool_and(failed_sessions = detail_index + 1),"
	      " bool_and(sending_mta_ip = '10.0.0.0'::inet + detail_index),"
	      /* No id: the physical order in the one partition is the
	       * order of insertion. */
	      " (array_agg(detail_index ORDER BY ctid))[1:3] FROM tlswatch.failures",
	      NULL, "20000|t|t|{0,1,2}");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	if (g_getenv("TLSWATCH_TEST_SERVER_DOWN") != NULL) {
		g_test_add_func("/store/server-down", test_server_down);
		return g_test_run();
	}
#define ADD(path, fn, schema)                                                                      \
	g_test_add(path, struct fixture, schema ? "schema" : NULL, setup, fn, teardown)
	ADD("/store/migrate", test_migrate, FALSE);
	ADD("/store/schema-missing", test_schema_missing, FALSE);
	ADD("/store/report-rows", test_report_rows, TRUE);
	ADD("/store/duplicate", test_duplicate, TRUE);
	ADD("/store/batch-duplicates", test_batch_duplicates, TRUE);
	ADD("/store/quarantine", test_quarantine, TRUE);
	ADD("/store/retry", test_retry, TRUE);
	ADD("/store/domain-sessions", test_domain_sessions, TRUE);
	ADD("/store/input-error", test_input_error, TRUE);
	ADD("/store/error-classes", test_error_classes, TRUE);
	ADD("/store/concurrent", test_concurrent, TRUE);
	ADD("/store/large", test_large, TRUE);
#undef ADD
	g_test_add_func("/store/no-server", test_no_server);
	return g_test_run();
}
