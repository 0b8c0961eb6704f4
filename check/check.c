/*
 * check.c: one domain, every check in order (check.h), and the [check]
 * configuration.
 */
#include <string.h>

#include "check/check.h"

#define GROUP "check"

static const char *const check_keys[] = { "ca-file", "timeout", "parallel", NULL };

void check_config_init(struct check_config *c)
{
	*c = (struct check_config){ .timeout = 30, .parallel = 4 };
}

void check_config_release(struct check_config *c)
{
	g_clear_pointer(&c->ca_file, g_free);
}

int check_config_load(struct check_config *c, const struct config *cfg, struct error *err)
{
	GKeyFile *kf = cfg->keyfile;
	const char *path = cfg->path ? cfg->path : "configuration";
	g_auto(GStrv) keys = kf ? g_key_file_get_keys(kf, GROUP, NULL, NULL) : NULL;
	guint64 n = c->parallel;

	for (gsize i = 0; keys != NULL && keys[i] != NULL; i++)
		if (!g_strv_contains(check_keys, keys[i]))
			return error_set(err, ERR_CONFIG, "%s: [%s] %s: unknown key", path, GROUP,
					 keys[i]);
	if (keys == NULL)
		return 0;
	if (config_get_string(kf, path, GROUP, "ca-file", &c->ca_file, err) < 0 ||
	    config_get_uint(kf, path, GROUP, "parallel", 1, 64, &n, err) < 0)
		return -1;
	c->parallel = (guint)n;
	return config_get_duration(kf, path, GROUP, "timeout", &c->timeout, err);
}

static void check_finding_free(gpointer data)
{
	struct check_finding *f = data;

	g_free(f->check);
	g_free(f->subject);
	g_free(f->message);
	g_free(f);
}

/* s as a finding keeps it: valid UTF-8 (JSON and the database want it),
 * control characters made '?' (a TXT record or a policy file could move
 * a terminal's cursor). A new string. */
static char *check_text(const char *s)
{
	char *text = g_utf8_make_valid(s, -1);

	for (char *c = text; *c != '\0'; c++)
		if ((guchar)*c < 0x20 || *c == 0x7f)
			*c = '?';
	return text;
}

void check_add(struct check_result *r, const char *check, enum check_level level,
	       const char *subject, const char *fmt, ...)
{
	struct check_finding *f = g_new0(struct check_finding, 1);
	g_autofree char *message = NULL;
	va_list ap;

	f->check = g_strdup(check);
	f->level = level;
	f->subject = subject ? check_text(subject) : NULL;
	va_start(ap, fmt);
	message = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	f->message = check_text(message);
	g_ptr_array_add(r->findings, f);
}

guint check_count(const struct check_result *r, enum check_level level)
{
	guint n = 0;

	for (guint i = 0; i < r->findings->len; i++)
		n += ((const struct check_finding *)g_ptr_array_index(r->findings, i))->level ==
		     level;
	return n;
}

const char *check_level_name(enum check_level level)
{
	return level == CHECK_PASS ? "ok" : level == CHECK_WARN ? "warn" : "FAIL";
}

void check_result_free(struct check_result *r)
{
	if (r == NULL)
		return;
	g_free(r->domain);
	g_free(r->sts_id);
	sts_policy_free(r->policy);
	g_ptr_array_unref(r->mx_hosts);
	g_ptr_array_unref(r->findings);
	g_free(r);
}

void check_domain(struct dns *dns, const struct check_config *c, const char *domain,
		  struct check_result **out)
{
	struct check_result *r = g_new0(struct check_result, 1);
	gsize len = strlen(domain);

	r->domain =
		g_ascii_strdown(domain, len > 0 && domain[len - 1] == '.' ? (gssize)len - 1 : -1);
	r->mx_hosts = g_ptr_array_new_with_free_func(g_free);
	r->findings = g_ptr_array_new_with_free_func(check_finding_free);
	r->checked_at = g_get_real_time() / G_USEC_PER_SEC;
	check_tlsrpt_record(dns, r);
	check_sts_record(dns, r);
	check_policy(dns, c, r);
	check_mx_coverage(dns, r);
	check_mx_tls(dns, c, r);
	*out = r;
}
