/*
 * test_config.c: the configuration file, its defaults and its errors.
 */
#include <glib/gstdio.h>
#include <string.h>
#include <sysexits.h>

#include "common/config.h"

/* Write text to a fresh file in a temp dir; returns its path (g_free). */
static char *write_conf(const char *text)
{
	g_autoptr(GError) gerr = NULL;
	char *dir = g_dir_make_tmp("tlswatch-conf-XXXXXX", &gerr);
	char *path;

	g_assert_no_error(gerr);
	path = g_build_filename(dir, "tlswatch.conf", NULL);
	g_assert_true(g_file_set_contents(path, text, -1, NULL));
	g_free(dir);
	return path;
}

static void remove_conf(char *path)
{
	g_autofree char *dir = g_path_get_dirname(path);

	g_unlink(path);
	g_rmdir(dir);
	g_free(path);
}

static void test_defaults(void)
{
	struct config c;

	config_init(&c);
	g_assert_cmpuint(c.max_message_size, ==, 32u * 1024 * 1024);
	g_assert_cmpuint(c.max_report_size, ==, 64u * 1024 * 1024);
	g_assert_cmpuint(c.max_mime_parts, ==, 1000);
	g_assert_false(c.keep_raw);
	g_assert_null(c.conninfo);
	config_release(&c);
}

static void test_sizes(void)
{
	guint64 n = 0;

	g_assert_cmpint(config_parse_size("64M", &n), ==, 0);
	g_assert_cmpuint(n, ==, 64u * 1024 * 1024);
	g_assert_cmpint(config_parse_size("512k", &n), ==, 0);
	g_assert_cmpuint(n, ==, 512u * 1024);
	g_assert_cmpint(config_parse_size("1GB", &n), ==, 0);
	g_assert_cmpuint(n, ==, 1024u * 1024 * 1024);
	g_assert_cmpint(config_parse_size("4096", &n), ==, 0);
	g_assert_cmpuint(n, ==, 4096);
	g_assert_cmpint(config_parse_size("12x", &n), ==, -1);
	g_assert_cmpint(config_parse_size("-1", &n), ==, -1);
	g_assert_cmpint(config_parse_size("", &n), ==, -1);
	g_assert_cmpint(config_parse_size("99999999999999999999G", &n), ==, -1);
}

static void test_file_values(void)
{
	char *path = write_conf("[database]\nconninfo = dbname=tw host=/tmp\n"
				"[ingest]\nmax-message-size = 1M\nmax-report-size=2M\n"
				"keep-raw = true\nmax-mime-depth = 7\n");
	struct config c;
	struct error err = ERROR_INIT;

	config_init(&c);
	g_assert_cmpint(config_load(&c, path, &err), ==, 0);
	g_assert_cmpstr(c.conninfo, ==, "dbname=tw host=/tmp");
	g_assert_cmpuint(c.max_message_size, ==, 1024 * 1024);
	g_assert_cmpuint(c.max_report_size, ==, 2 * 1024 * 1024);
	g_assert_cmpuint(c.max_mime_depth, ==, 7);
	g_assert_true(c.keep_raw);
	g_assert_cmpstr(c.path, ==, path);
	config_release(&c);
	remove_conf(path);
}

/* Each bad file must fail with a message naming file, group and key. */
static void test_errors(void)
{
	static const struct {
		const char *text, *expect;
	} cases[] = {
		{ "[ingest]\nmax-message-size = 12x\n", "[ingest] max-message-size: not a size" },
		{ "[ingest]\nmax-mesage-size = 1M\n", "[ingest] max-mesage-size: unknown key" },
		{ "[ingest]\nkeep-raw = maybe\n", "[ingest] keep-raw: expected true or false" },
		{ "[ingest]\nmax-mime-parts = 0\n", "[ingest] max-mime-parts: 0 is out of range" },
		{ "[databse]\nconninfo = x\n", "[databse]: unknown group" },
		{ "[database]\nhost = x\n", "[database] host: unknown key" },
		{ "[ingest]\ndkim = strict\n", "[ingest] dkim: expected off, record or require" },
		{ "[dns]\nnameservers = ::1\n", "[dns] nameservers: '::1' is not an IPv4" },
		{ "[dns]\nnameservers = 127.0.0.1:0\n", "[dns] nameservers: '127.0.0.1:0'" },
		{ "[dns]\ntimeout = 2m\n", "[dns] timeout: at most 60s" },
		{ "[dns]\nport = 53\n", "[dns] port: unknown key" },
		{ "no group at all\n", "tlswatch.conf" },
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *path = write_conf(cases[i].text);
		struct config c;
		struct error err = ERROR_INIT;

		config_init(&c);
		g_assert_cmpint(config_load(&c, path, &err), ==, -1);
		g_assert_cmpint(err.cls, ==, ERR_CONFIG);
		g_assert_nonnull(strstr(err.msg, path));
		g_assert_nonnull(strstr(err.msg, cases[i].expect));
		error_clear(&err);
		config_release(&c);
		remove_conf(path);
	}
}

/* The caps added against hostile input: defaults, values, ranges. */
static void test_hostile_caps(void)
{
	struct config c;
	struct error err = ERROR_INIT;
	char *path = write_conf("[ingest]\nmax-string-length = 1000\nmax-total-report-size = 1G\n"
				"max-gzip-ratio = 50\nmax-processing-time = 0\n");

	config_init(&c);
	g_assert_cmpuint(c.max_string_length, ==, 65536);
	g_assert_cmpuint(c.max_total_report_size, ==, 128u * 1024 * 1024);
	g_assert_cmpuint(c.max_gzip_ratio, ==, 200);
	g_assert_cmpuint(c.max_processing_time, ==, 300);
	g_assert_cmpint(config_load(&c, path, &err), ==, 0);
	g_assert_cmpuint(c.max_string_length, ==, 1000);
	g_assert_cmpuint(c.max_total_report_size, ==, 1024u * 1024 * 1024);
	g_assert_cmpuint(c.max_gzip_ratio, ==, 50);
	g_assert_cmpuint(c.max_processing_time, ==, 0);
	config_release(&c);
	remove_conf(path);

	path = write_conf("[ingest]\nmax-gzip-ratio = 1\n");
	config_init(&c);
	g_assert_cmpint(config_load(&c, path, &err), ==, -1);
	g_assert_cmpint(err.cls, ==, ERR_CONFIG);
	g_assert_nonnull(
		strstr(err.msg, "[ingest] max-gzip-ratio: 1 is out of range (2..1000000)"));
	error_clear(&err);
	config_release(&c);
	remove_conf(path);
}

/* Trust and DNS: defaults, lists split at ';' and stripped, the mode the
 * alert and digest stages default from. */
static void test_trust(void)
{
	struct config c;
	struct error err = ERROR_INIT;
	char *path = write_conf("[ingest]\ndkim = require\ntrusted-authserv-id = mx.example.com\n"
				"trusted-reporters = Example Mail Co ; ;reports.example.org\n"
				"[dns]\nnameservers = 127.0.0.1:5353; 192.0.2.53\ntimeout = 2s\n");

	config_init(&c);
	g_assert_cmpint(c.dkim, ==, CONFIG_DKIM_RECORD);
	g_assert_cmpuint(c.dns_timeout, ==, 5);
	g_assert_null(c.dns_nameservers);
	g_assert_cmpint(config_load(&c, path, &err), ==, 0);
	g_assert_cmpint(c.dkim, ==, CONFIG_DKIM_REQUIRE);
	g_assert_cmpint(config_dkim_mode(c.keyfile), ==, CONFIG_DKIM_REQUIRE);
	g_assert_cmpint(config_dkim_mode(NULL), ==, CONFIG_DKIM_RECORD);
	g_assert_cmpstr(c.trusted_authserv_id, ==, "mx.example.com");
	g_assert_cmpuint(g_strv_length(c.trusted_reporters), ==, 2);
	g_assert_cmpstr(c.trusted_reporters[0], ==, "Example Mail Co");
	g_assert_cmpstr(c.trusted_reporters[1], ==, "reports.example.org");
	g_assert_cmpuint(g_strv_length(c.dns_nameservers), ==, 2);
	g_assert_cmpstr(c.dns_nameservers[1], ==, "192.0.2.53");
	g_assert_cmpuint(c.dns_timeout, ==, 2);
	config_release(&c);
	remove_conf(path);
}

/* Found by fuzz_config: a value that is not UTF-8 made GKeyFile return
 * NULL, which was then parsed (a crash inside the MTA's delivery). */
static void test_invalid_utf8_value(void)
{
	g_autofree char *fixture = g_test_build_filename(G_TEST_DIST, "..", "fixtures", "fuzz",
							 "config-invalid-utf8.conf", NULL);
	char *path = NULL;
	g_autofree char *text = NULL;
	struct config c;
	struct error err = ERROR_INIT;

	config_init(&c);
	g_assert_cmpint(config_load(&c, fixture, &err), ==, -1);
	g_assert_cmpint(err.cls, ==, ERR_CONFIG);
	g_assert_nonnull(strstr(err.msg, "[ingest] max-policies: not valid UTF-8"));
	error_clear(&err);
	config_release(&c);

	path = write_conf("[database]\nconninfo = dbname=\xff\n");
	config_init(&c);
	g_assert_cmpint(config_load(&c, path, &err), ==, -1);
	g_assert_nonnull(strstr(err.msg, "[database] conninfo: not valid UTF-8"));
	error_clear(&err);
	config_release(&c);
	remove_conf(path);
}

static void test_missing_named_file(void)
{
	struct config c;
	struct error err = ERROR_INIT;

	config_init(&c);
	g_assert_cmpint(config_load(&c, "/nonexistent/tlswatch.conf", &err), ==, -1);
	g_assert_cmpint(err.cls, ==, ERR_CONFIG);
	g_assert_nonnull(strstr(err.msg, "/nonexistent/tlswatch.conf"));
	g_assert_cmpint(error_exit_code(err.cls, TRUE), ==, EX_TEMPFAIL);
	g_assert_cmpint(error_exit_code(err.cls, FALSE), ==, EX_CONFIG);
	error_clear(&err);
	config_release(&c);
}

static void test_env_path(void)
{
	char *path = write_conf("[ingest]\nmax-policies = 5\n");
	struct config c;
	struct error err = ERROR_INIT;

	g_setenv("TLSWATCH_CONFIG", path, TRUE);
	config_init(&c);
	g_assert_cmpint(config_load(&c, NULL, &err), ==, 0);
	g_assert_cmpuint(c.max_policies, ==, 5);
	g_unsetenv("TLSWATCH_CONFIG");
	config_release(&c);
	remove_conf(path);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/config/defaults", test_defaults);
	g_test_add_func("/config/sizes", test_sizes);
	g_test_add_func("/config/file-values", test_file_values);
	g_test_add_func("/config/errors", test_errors);
	g_test_add_func("/config/hostile-caps", test_hostile_caps);
	g_test_add_func("/config/trust", test_trust);
	g_test_add_func("/config/invalid-utf8-value", test_invalid_utf8_value);
	g_test_add_func("/config/missing-named-file", test_missing_named_file);
	g_test_add_func("/config/env-path", test_env_path);
	return g_test_run();
}
