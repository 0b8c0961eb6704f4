/*
 * test_digest.c: the digest's pure parts: periods, [digest] validation,
 * the readiness verdict in each state, the sparkline.
 */
#include <string.h>

#include "common/figure.h"
#include "digest/digest.h"

static void test_period(void)
{
	struct digest_period p, prev;
	struct error err = ERROR_INIT;
	g_autofree char *label = NULL;
	gint64 now = 1717600000; /* 2024-06-05 15:06:40 UTC */

	g_assert_cmpint(digest_period_parse(NULL, NULL, NULL, now, &p, &prev, &err), ==, 0);
	label = digest_period_label(&p);
	g_assert_cmpstr(label, ==, "2024-05-29..2024-06-04");
	g_assert_cmpint(prev.to, ==, p.from);
	g_assert_cmpuint(prev.days, ==, 7);
	g_assert_cmpint(digest_period_parse("2w", NULL, NULL, now, &p, &prev, &err), ==, 0);
	g_assert_cmpuint(p.days, ==, 14);
	g_assert_cmpint(digest_period_parse(NULL, "2024-02-28", "2024-03-01", now, &p, &prev, &err),
			==, 0);
	g_assert_cmpuint(p.days, ==, 3);
	g_clear_pointer(&label, g_free);
	label = digest_period_label(&prev);
	g_assert_cmpstr(label, ==, "2024-02-25..2024-02-27");
	g_assert_cmpint(digest_period_parse("7x", NULL, NULL, now, &p, &prev, &err), ==, -1);
	g_assert_cmpint(err.cls, ==, ERR_USAGE);
	error_clear(&err);
	g_assert_cmpint(digest_period_parse(NULL, "2024-02-30", "2024-03-01", now, &p, &prev, &err),
			==, -1);
	error_clear(&err);
	g_assert_cmpint(digest_period_parse("7d", "2024-02-01", "2024-03-01", now, &p, &prev, &err),
			==, -1);
	error_clear(&err);
}

static int load(const char *text, struct digest_config *c, struct error *err)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();

	g_assert_true(g_key_file_load_from_data(kf, text, -1, G_KEY_FILE_NONE, NULL));
	digest_config_init(c);
	return digest_config_load(c, kf, "t.conf", err);
}

static void test_config(void)
{
	struct digest_config c;
	struct error err = ERROR_INIT;

	g_assert_cmpint(load("[digest]\nmin-reporters=3\nmax-failure-rate=0.5%\n", &c, &err), ==,
			0);
	g_assert_cmpuint(c.min_reporters, ==, 3);
	g_assert_cmpfloat(c.max_failure_rate, ==, 0.5);
	g_assert_cmpint(c.min_sessions, ==, 1000);
	digest_config_release(&c);
	g_assert_cmpint(load("[digest]\nmin-days=-1\n", &c, &err), ==, -1);
	g_assert_cmpint(err.cls, ==, ERR_CONFIG);
	g_assert_cmpstr(err.msg, ==,
			"t.conf: [digest] min-days: expected a whole number, got '-1'");
	error_clear(&err);
	digest_config_release(&c);
	g_assert_cmpint(load("[digest]\nmax-failure-rate=120\n", &c, &err), ==, -1);
	error_clear(&err);
	digest_config_release(&c);
	g_assert_cmpint(load("[digest]\nsendmail='unterminated\n", &c, &err), ==, -1);
	error_clear(&err);
	digest_config_release(&c);
	g_assert_cmpint(load("[digest]\nwebhook=x\n", &c, &err), ==, -1);
	g_assert_cmpstr(err.msg, ==, "t.conf: [digest] webhook: unknown key");
	error_clear(&err);
	digest_config_release(&c);
}

static struct digest_domain *domain(const char *mode, gint64 ok, gint64 failed, guint reporters,
				    guint days)
{
	struct digest_domain *dd = digest_domain_new("example.com", 7);

	dd->cur = (struct digest_totals){ ok, failed, days * reporters };
	dd->days_with_data = days;
	for (guint i = 0; i < reporters; i++) {
		g_autofree char *org = g_strdup_printf("org%u", i);

		digest_items_add(dd->reporters, org, (ok + failed) / reporters, 0, days,
				 &dd->capped);
	}
	if (mode != NULL)
		digest_items_add(dd->sts_modes, mode, ok + failed, 0, 0, &dd->capped);
	return dd;
}

static void test_readiness(void)
{
	struct digest_config c;
	struct digest_domain *dd;

	digest_config_init(&c);
	dd = domain("testing", 5000, 1, 3, 7);
	digest_assess(dd, &c);
	g_assert_cmpint(dd->state, ==, DIGEST_READY);
	digest_domain_free(dd);

	dd = domain("testing", 5000, 1, 3, 7);
	digest_items_add(dd->blocking_types, "certificate-expired", 1, 0, 0, &dd->capped);
	digest_items_add(dd->blocking_mx, "mx2.example.com", 1, 0, 0, &dd->capped);
	digest_assess(dd, &c);
	g_assert_cmpint(dd->state, ==, DIGEST_NOT_READY);
	g_assert_nonnull(strstr(dd->reason, "certificate-expired failures at mx2.example.com"));
	digest_domain_free(dd);

	dd = domain(NULL, 50, 10, 1, 2);
	digest_assess(dd, &c);
	g_assert_cmpint(dd->state, ==, DIGEST_NOT_READY);
	g_assert_cmpstr(dd->reason, ==,
			"Not ready for enforce: no reporter saw an MTA-STS policy in testing mode; "
			"only 1 reporter (need 2); only 60 sessions (need 1000); reports on only 2 "
			"days (need 5); failure rate 16.67% is not under 0.1%.");
	digest_domain_free(dd);

	dd = domain("enforce", 5000, 0, 3, 7);
	digest_assess(dd, &c);
	g_assert_cmpint(dd->state, ==, DIGEST_ENFORCING);
	digest_domain_free(dd);

	dd = domain("testing", 0, 0, 0, 0);
	digest_assess(dd, &c);
	g_assert_cmpint(dd->state, ==, DIGEST_NO_DATA);
	g_assert_cmpstr(digest_state_name(dd->state), ==, "no data");
	digest_domain_free(dd);
	digest_config_release(&c);
}

static void test_sparkline(void)
{
	gint64 v[] = { 0, 1, 4, 8, -1 };
	g_autofree char *s = digest_sparkline(v, G_N_ELEMENTS(v));

	g_assert_cmpstr(s, ==, "▁▁▄█·");
}

/* Sums stop at G_MAXINT64 and say so; a value at the cap is flagged too. */
static void test_figure(void)
{
	gboolean capped = FALSE;
	gint64 sum = G_MAXINT64 - 1;
	gint64 big[] = { G_MAXINT64, G_MAXINT64 / 2, 0, -1 };
	g_autofree char *spark = digest_sparkline(big, G_N_ELEMENTS(big));

	figure_add(&sum, 0, &capped);
	g_assert_false(capped);
	figure_add(&sum, G_MAXINT64, &capped);
	g_assert_cmpint(sum, ==, G_MAXINT64);
	g_assert_true(capped);
	g_assert_cmpint(figure_sum(G_MAXINT64, G_MAXINT64), ==, G_MAXINT64);
	capped = FALSE;
	g_assert_cmpint(figure_read("18446744073709551614", &capped), ==, G_MAXINT64);
	g_assert_true(capped);
	capped = FALSE;
	g_assert_cmpint(figure_read("12", &capped), ==, 12);
	g_assert_false(capped);
	/* 2^63-1 and half of it: full and half a bar, not a wrapped index */
	g_assert_cmpstr(spark, ==, "█▄▁·");
}

/* digest_series: days up to 62, then weeks, then multiples of 30 days;
 * a bucket without reports is -1. */
static void test_series(void)
{
	static const struct {
		guint days, bucket, n;
	} cases[] = { { 7, 1, 7 },    { 62, 1, 62 },   { 63, 7, 9 },
		      { 434, 7, 62 }, { 435, 30, 15 }, { 3000, 60, 50 } };

	for (gsize c = 0; c < G_N_ELEMENTS(cases); c++) {
		struct digest d = { .period = { 0, (gint64)cases[c].days * 86400, cases[c].days } };
		struct digest_domain *dd = digest_domain_new("example.com", cases[c].days);
		struct digest_series sr;
		gint64 sessions = 0;

		/* day 0: 10 + 1 failed in 1 report; the last day: 5 in 2 */
		dd->day_ok[0] = 10;
		dd->day_failed[0] = 1;
		dd->day_reports[0] = 1;
		dd->day_ok[cases[c].days - 1] += 5;
		dd->day_reports[cases[c].days - 1] += 2;
		digest_series_init(&sr, &d, dd);
		g_assert_cmpuint(sr.bucket, ==, cases[c].bucket);
		g_assert_cmpuint(sr.n, ==, cases[c].n);
		g_assert_cmpint(sr.failed[0], ==, 1);
		for (guint i = 0; i < sr.n; i++)
			sessions += MAX(sr.sessions[i], 0);
		g_assert_cmpint(sessions, ==, 16);
		if (sr.n > 2)
			g_assert_cmpint(sr.sessions[1], ==, -1);
		digest_series_release(&sr);
		digest_domain_free(dd);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/digest/period", test_period);
	g_test_add_func("/digest/config", test_config);
	g_test_add_func("/digest/readiness", test_readiness);
	g_test_add_func("/digest/sparkline", test_sparkline);
	g_test_add_func("/digest/figure", test_figure);
	g_test_add_func("/digest/series", test_series);
	return g_test_run();
}
