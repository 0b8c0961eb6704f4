/*
 * config.c: the [digest] group, read here from the GKeyFile that
 * common/config.c kept, because only the digest knows its keys. Same rules
 * as the rest of the file: an unknown key or a bad value is an ERR_CONFIG
 * naming file, group and key, never silently replaced by a default.
 */
#include <stdlib.h>

#include "common/config.h"
#include "digest/digest.h"

#define GROUP "digest"

static const char *const digest_keys[] = {
	"min-reporters", "min-sessions", "min-days",	     "max-failure-rate",   "top",
	"sendmail",	 "from",	 "sendmail-timeout", "authenticated-only", NULL
};

void digest_config_init(struct digest_config *c)
{
	c->min_reporters = 2;
	c->min_sessions = 1000;
	c->min_days = 5;
	c->max_failure_rate = 0.1;
	c->top = 10;
	c->sendmail = g_strdup("/usr/sbin/sendmail -t -oi");
	/* postmaster exists on every mail host (RFC 5321, 4.5.1) and reaches
	 * a person; the account running the digest usually does not. */
	c->from = g_strdup_printf("postmaster@%s", g_get_host_name());
	c->sendmail_timeout = 60;
	c->authenticated_only = TRUE;
}

void digest_config_release(struct digest_config *c)
{
	g_clear_pointer(&c->sendmail, g_free);
	g_clear_pointer(&c->from, g_free);
}

/* "0.5" or "0.5%": a percentage from 0 to 100. */
static int digest_config_percent(GKeyFile *kf, const char *path, const char *key, double *out,
				 struct error *err)
{
	g_autofree char *v = g_key_file_get_string(kf, GROUP, key, NULL);
	char *end = NULL;
	double x;

	if (v == NULL)
		return 0;
	g_strstrip(v);
	x = g_ascii_strtod(v, &end);
	if (end != NULL && *end == '%')
		end++;
	if (end == v || end == NULL || *end != '\0' || !(x >= 0.0 && x <= 100.0))
		return error_set(err, ERR_CONFIG,
				 "%s: [%s] %s: expected a percentage from 0 to 100, got '%s'", path,
				 GROUP, key, v);
	*out = x;
	return 0;
}

static int digest_config_check_keys(GKeyFile *kf, const char *path, struct error *err)
{
	g_auto(GStrv) keys = g_key_file_get_keys(kf, GROUP, NULL, NULL);

	for (gsize i = 0; keys != NULL && keys[i] != NULL; i++) {
		if (!g_strv_contains(digest_keys, keys[i]))
			return error_set(err, ERR_CONFIG, "%s: [%s] %s: unknown key", path, GROUP,
					 keys[i]);
	}
	return 0;
}

int digest_config_load(struct digest_config *c, GKeyFile *kf, const char *path, struct error *err)
{
	guint64 reporters = c->min_reporters, sessions = (guint64)c->min_sessions;
	guint64 days = c->min_days, top = c->top;
	g_auto(GStrv) argv = NULL;

	c->authenticated_only = config_dkim_mode(kf) != CONFIG_DKIM_OFF;
	if (kf == NULL || !g_key_file_has_group(kf, GROUP))
		return 0;
	if (path == NULL)
		path = "configuration";
	if (digest_config_check_keys(kf, path, err) < 0 ||
	    config_get_uint(kf, path, GROUP, "min-reporters", 0, G_MAXUINT, &reporters, err) < 0 ||
	    config_get_uint(kf, path, GROUP, "min-sessions", 0, G_MAXINT64, &sessions, err) < 0 ||
	    config_get_uint(kf, path, GROUP, "min-days", 0, 3660, &days, err) < 0 ||
	    config_get_uint(kf, path, GROUP, "top", 0, 1000, &top, err) < 0 ||
	    digest_config_percent(kf, path, "max-failure-rate", &c->max_failure_rate, err) < 0 ||
	    config_get_string(kf, path, GROUP, "sendmail", &c->sendmail, err) < 0 ||
	    config_get_string(kf, path, GROUP, "from", &c->from, err) < 0 ||
	    config_get_duration(kf, path, GROUP, "sendmail-timeout", &c->sendmail_timeout, err) <
		    0 ||
	    config_get_bool(kf, path, GROUP, "authenticated-only", &c->authenticated_only, err) < 0)
		return -1;
	if (!g_shell_parse_argv(c->sendmail, NULL, &argv, NULL))
		return error_set(err, ERR_CONFIG, "%s: [%s] sendmail: not a command line: '%s'",
				 path, GROUP, c->sendmail);
	c->min_reporters = (guint)reporters;
	c->min_sessions = (gint64)sessions;
	c->min_days = (guint)days;
	c->top = (guint)top;
	return 0;
}
