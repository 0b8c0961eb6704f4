/*
 * test_alert.c: the alert stage's pure parts: durations and rates, the
 * [alert]/[rule]/[webhook] groups, the threshold decision at its edges,
 * the HMAC signature (against a value computed by openssl) and the shape
 * of each payload format.
 */
#include <string.h>

#include <jansson.h>

#include "alert/alert.h"

static void test_parse(void)
{
	g_assert_cmpint(config_parse_duration("90"), ==, 90);
	g_assert_cmpint(config_parse_duration("90s"), ==, 90);
	g_assert_cmpint(config_parse_duration("15m"), ==, 900);
	g_assert_cmpint(config_parse_duration("24h"), ==, 86400);
	g_assert_cmpint(config_parse_duration("3d"), ==, 259200);
	g_assert_cmpint(config_parse_duration("24x"), ==, -1);
	g_assert_cmpint(config_parse_duration("h"), ==, -1);
	g_assert_cmpint(config_parse_duration("-1h"), ==, -1);
	g_assert_cmpint(config_parse_duration("1hh"), ==, -1);
	g_assert_cmpfloat(alert_parse_rate("1%"), ==, 1.0);
	g_assert_cmpfloat(alert_parse_rate("0.01"), ==, 1.0);
	g_assert_cmpfloat(alert_parse_rate("100%"), ==, 100.0);
	g_assert_cmpfloat(alert_parse_rate("1"), ==, 100.0);
	g_assert_cmpfloat(alert_parse_rate("1.5"), <, 0);
	g_assert_cmpfloat(alert_parse_rate("101%"), <, 0);
	g_assert_cmpfloat(alert_parse_rate("1%%"), <, 0);
	g_assert_cmpfloat(alert_parse_rate("x"), <, 0);
}

static int load(const char *text, struct alert_config *c, struct error *err)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();

	g_assert_true(g_key_file_load_from_data(kf, text, (gsize)-1, G_KEY_FILE_NONE, NULL));
	alert_config_init(c);
	return alert_config_load(c, kf, "t.conf", err);
}

static void test_config(void)
{
	struct alert_config c;
	struct error err = ERROR_INIT;
	const struct alert_rule *r;
	const struct alert_webhook *w;

	g_assert_cmpint(load("[alert]\non-ingest = false\nmax-attempts = 4\nbackoff = 2m\n"
			     "[rule mx-tls]\ndomains = Example.com; *.example.net\n"
			     "result-types = certificate-expired;starttls-not-supported\n"
			     "window = 12h\nmin-failed-sessions = 10\nmin-failure-rate = 1%\n"
			     "cooldown = 1h\nnotify = ops;audit\ngroup-by = mx\n"
			     "[rule quiet]\nkind = silence\nsilent-for = 2d\nnotify = ops\n"
			     "[webhook ops]\nurl = https://hooks.example/x\nformat = slack\n"
			     "[webhook audit]\nurl = http://127.0.0.1/\nsecret = k\ntimeout = 3s\n",
			     &c, &err),
			==, 0);
	g_assert_false(c.on_ingest);
	g_assert_cmpuint(c.max_attempts, ==, 4);
	g_assert_cmpint(c.backoff, ==, 120);
	r = alert_config_rule(&c, "mx-tls");
	g_assert_nonnull(r);
	g_assert_cmpstr(r->domains[0], ==, "example.com");
	g_assert_cmpstr(r->domains[1], ==, "*.example.net");
	g_assert_cmpstr(r->result_types[1], ==, "starttls-not-supported");
	g_assert_cmpint(r->window, ==, 43200);
	g_assert_cmpint(r->min_failed, ==, 10);
	g_assert_cmpfloat(r->min_rate, ==, 1.0);
	g_assert_cmpint(r->cooldown, ==, 3600);
	g_assert_cmpint(r->group_by, ==, ALERT_GROUP_MX);
	g_assert_false(r->notify_resolved);
	r = alert_config_rule(&c, "quiet");
	g_assert_cmpint(r->kind, ==, ALERT_KIND_SILENCE);
	g_assert_cmpint(r->silent_for, ==, 172800);
	g_assert_true(r->notify_resolved); /* silence resolves by default */
	w = alert_config_webhook(&c, "audit");
	g_assert_cmpint(w->format, ==, ALERT_FORMAT_GENERIC);
	g_assert_cmpstr(w->secret, ==, "k");
	g_assert_cmpint(w->timeout, ==, 3);
	g_assert_cmpint(alert_config_webhook(&c, "ops")->timeout, ==, 10);
	alert_config_release(&c);

	g_assert_cmpint(load("[webhook ops]\nurl = http://x/\n[rule r]\nnotify = opz\n", &c, &err),
			==, -1);
	g_assert_cmpint(err.cls, ==, ERR_CONFIG);
	g_assert_cmpstr(err.msg, ==, "t.conf: [rule r] notify: no such webhook, got 'opz'");
	error_clear(&err);
	alert_config_release(&c);
}

static void test_threshold(void)
{
	struct alert_rule r = { .name = (char *)"r", .min_failed = 10, .min_rate = 1.0 };
	struct alert_firing *f = alert_firing_new(&r, "a.example", NULL, 0, 86400);

	f->successful = 990;
	f->failed_all = f->failed = 10;
	g_assert_true(alert_firing_check(f)); /* 10 and 1.00%: both at the edge */
	r.min_failed = 11;
	g_assert_false(alert_firing_check(f));
	r.min_failed = 10;
	r.min_rate = 1.01;
	g_assert_false(alert_firing_check(f));
	r.min_rate = 0;
	r.min_failed = 1;
	f->failed = 0;
	g_assert_false(alert_firing_check(f)); /* no failure never fires */
	alert_firing_free(f);
}

static void test_signature(void)
{
	g_autofree char *sig = alert_signature("key", 1700000000, "{\"a\":1}");

	/* printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac key */
	g_assert_cmpstr(sig, ==,
			"sha256=a438e398bfafc57e4396bb7fc2304422f0f768e965d073ca313cb52e22e6ad03");
}

static json_t *parse(char *text)
{
	json_t *j = json_loads(text, 0, NULL);

	g_assert_nonnull(j);
	g_free(text);
	return j;
}

static void test_formats(void)
{
	struct alert_rule r = { .name = (char *)"mx-tls", .min_failed = 1 };
	struct alert_firing *f = alert_firing_sample(&r, 1717588800); /* 2024-06-05T12:00:00Z */
	json_t *g = parse(alert_format_generic(f)), *s = parse(alert_format_slack(f));
	json_t *t = parse(alert_format_teams(f));

	g_assert_cmpstr(json_string_value(json_object_get(g, "domain")), ==, "example.com");
	g_assert_cmpstr(json_string_value(json_object_get(g, "event")), ==, "test");
	g_assert_cmpint(
		json_integer_value(json_object_get(json_object_get(g, "sessions"), "total")), ==,
		10000);
	g_assert_cmpstr(json_string_value(json_object_get(json_object_get(g, "window"), "end")), ==,
			"2024-06-05T12:00:00Z");
	g_assert_cmpstr(
		json_string_value(json_object_get(
			json_array_get(json_object_get(g, "failures_by_result_type"), 0), "name")),
		==, "certificate-expired");
	g_assert_nonnull(strstr(json_string_value(json_object_get(s, "text")),
				"example.com: 124 failed TLS sessions (1.24%) of 10000 in 24h"));
	g_assert_cmpstr(json_string_value(json_object_get(t, "@type")), ==, "MessageCard");
	json_decref(g);
	json_decref(s);
	json_decref(t);
	alert_firing_free(f);
}

/* A summary of 25 held-back alerts names the first ten and counts the
 * rest, in every format. */
static void test_summary(void)
{
	struct alert_rule r = { .name = (char *)"fan", .min_failed = 1 };
	struct alert_firing *f = alert_firing_new(&r, "f.example", NULL, 0, 86400);
	const char *want = "25 more alerts held back, over max-alerts-per-rule in one pass: "
			   "f.example mx0, f.example mx1, f.example mx2, f.example mx3, f.example "
			   "mx4, f.example mx5, f.example mx6, f.example mx7, f.example mx8, "
			   "f.example mx9 and 15 more [rule fan]";
	json_t *g, *s, *t;

	f->event = ALERT_EVENT_SUMMARY;
	f->held = 25;
	for (int i = 0; i < ALERT_SUMMARY_NAMES; i++)
		g_ptr_array_add(f->held_names, g_strdup_printf("f.example mx%d", i));
	g = parse(alert_format_generic(f));
	s = parse(alert_format_slack(f));
	t = parse(alert_format_teams(f));
	g_assert_cmpstr(json_string_value(json_object_get(g, "event")), ==, "summary");
	g_assert_cmpint(json_integer_value(json_object_get(g, "held")), ==, 25);
	g_assert_cmpuint(json_array_size(json_object_get(g, "held_alerts")), ==, 10);
	g_assert_cmpstr(json_string_value(json_object_get(g, "summary")), ==, want);
	g_assert_cmpstr(json_string_value(json_object_get(s, "text")), ==, want);
	g_assert_cmpstr(json_string_value(json_object_get(t, "title")), ==, want);
	json_decref(g);
	json_decref(s);
	json_decref(t);
	alert_firing_free(f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/alert/parse", test_parse);
	g_test_add_func("/alert/config", test_config);
	g_test_add_func("/alert/threshold", test_threshold);
	g_test_add_func("/alert/signature", test_signature);
	g_test_add_func("/alert/formats", test_formats);
	g_test_add_func("/alert/summary", test_summary);
	return g_test_run();
}
