/*
 * config.c: the [serve] group, read from the GKeyFile common/config.c
 * kept. Same rules as the other groups: an unknown key or a bad value is
 * an ERR_CONFIG naming file, group and key.
 */
#include <string.h>

#include "serve/serve.h"

#define GROUP "serve"

static const char *const serve_keys[] = { "lmtp", "workers", "idle-timeout", NULL };

void serve_config_init(struct serve_config *c)
{
	c->lmtp = NULL;
	c->workers = 4;
	c->idle_timeout = 300;
}

void serve_config_release(struct serve_config *c)
{
	g_clear_pointer(&c->lmtp, g_strfreev);
}

static int serve_bad(const char *path, const char *key, const char *why, const char *value,
		     struct error *err)
{
	if (value != NULL)
		return error_set(err, ERR_CONFIG, "%s: [%s] %s: %s, got '%s'", path, GROUP, key,
				 why, value);
	return error_set(err, ERR_CONFIG, "%s: [%s] %s: %s", path, GROUP, key, why);
}

static int serve_read_lmtp(struct serve_config *c, GKeyFile *kf, const char *path,
			   struct error *err)
{
	g_auto(GStrv) list = g_key_file_get_string_list(kf, GROUP, "lmtp", NULL, NULL);

	for (gsize i = 0; list != NULL && list[i] != NULL; i++) {
		g_strstrip(list[i]);
		if (!g_str_has_prefix(list[i], "unix:/") && !g_str_has_prefix(list[i], "inet:"))
			return serve_bad(path, "lmtp", "expected unix:/PATH or inet:ADDRESS:PORT",
					 list[i], err);
	}
	g_strfreev(c->lmtp);
	c->lmtp = g_steal_pointer(&list);
	return 0;
}

int serve_config_load(struct serve_config *c, GKeyFile *kf, const char *path, struct error *err)
{
	g_auto(GStrv) keys = NULL;
	g_autofree char *workers = NULL;
	guint64 n = c->workers;

	if (path == NULL)
		path = "configuration";
	if (kf == NULL || !g_key_file_has_group(kf, GROUP))
		return error_set(err, ERR_CONFIG,
				 "%s: no [serve] group: name a listener (lmtp = unix:/PATH)", path);
	keys = g_key_file_get_keys(kf, GROUP, NULL, NULL);
	for (gsize i = 0; keys != NULL && keys[i] != NULL; i++) {
		if (!g_strv_contains(serve_keys, keys[i]))
			return serve_bad(path, keys[i], "unknown key", NULL, err);
	}
	workers = g_key_file_get_string(kf, GROUP, "workers", NULL);
	if (workers != NULL &&
	    !g_ascii_string_to_unsigned(g_strstrip(workers), 10, 1, 256, &n, NULL))
		return serve_bad(path, "workers", "expected a number from 1 to 256", workers, err);
	c->workers = (guint)n;
	if (serve_read_lmtp(c, kf, path, err) < 0 ||
	    config_get_duration(kf, path, GROUP, "idle-timeout", &c->idle_timeout, err) < 0)
		return -1;
	if (c->idle_timeout < 1)
		return serve_bad(path, "idle-timeout", "must be at least 1s", NULL, err);
	if (c->lmtp == NULL || c->lmtp[0] == NULL)
		return serve_bad(path, "lmtp", "missing (name a listener: unix:/PATH)", NULL, err);
	return 0;
}
