/*
 * config.c: the [serve] group, read from the GKeyFile common/config.c
 * kept. Same rules as the other groups: an unknown key or a bad value is
 * an ERR_CONFIG naming file, group and key.
 */
#include <string.h>

#include "serve/serve.h"

#define GROUP "serve"

static const char *const serve_keys[] = { "lmtp",
					  "workers",
					  "idle-timeout",
					  "http",
					  "https",
					  "certificate",
					  "key",
					  "https-path",
					  "http-connections",
					  "http-per-client",
					  "http-rate",
					  "metrics",
					  "metrics-domains",
					  NULL };

void serve_config_init(struct serve_config *c)
{
	*c = (struct serve_config){
		.workers = 4,
		.idle_timeout = 300,
		.http_connections = 64,
		.http_per_client = 8,
		.http_rate = 600,
		.metrics_domains = 50,
	};
}

void serve_config_release(struct serve_config *c)
{
	g_clear_pointer(&c->lmtp, g_strfreev);
	g_clear_pointer(&c->http, g_free);
	g_clear_pointer(&c->https, g_free);
	g_clear_pointer(&c->certificate_pem, g_free);
	g_clear_pointer(&c->key_pem, g_free);
	g_clear_pointer(&c->https_path, g_free);
	g_clear_pointer(&c->metrics, g_free);
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
	if (list != NULL && g_strv_length(list) > 16)
		return serve_bad(path, "lmtp", "at most 16 listeners", NULL, err);
	g_strfreev(c->lmtp);
	c->lmtp = g_steal_pointer(&list);
	return 0;
}

/* config_get_uint into a guint: every count of [serve] starts at 1. */
static int serve_read_uint(GKeyFile *kf, const char *path, const char *key, guint max, guint *out,
			   struct error *err)
{
	guint64 n = *out;

	if (config_get_uint(kf, path, GROUP, key, 1, max, &n, err) < 0)
		return -1;
	*out = (guint)n;
	return 0;
}

/* The PEM of the file key names, into *pem. */
static int serve_read_pem(GKeyFile *kf, const char *path, const char *key, char **pem,
			  struct error *err)
{
	g_autofree char *file = NULL;
	g_autoptr(GError) gerr = NULL;

	if (config_get_string(kf, path, GROUP, key, &file, err) < 0)
		return -1;
	if (file == NULL)
		return 0;
	g_free(*pem);
	*pem = NULL;
	if (!g_file_get_contents(file, pem, NULL, &gerr))
		return serve_bad(path, key, gerr->message, NULL, err);
	if (strstr(*pem, "-----BEGIN ") == NULL)
		return serve_bad(path, key, "not a PEM file", file, err);
	return 0;
}

/* http, https and what HTTPS needs. */
static int serve_read_http(struct serve_config *c, GKeyFile *kf, const char *path,
			   struct error *err)
{
	if (config_get_string(kf, path, GROUP, "http", &c->http, err) < 0 ||
	    config_get_string(kf, path, GROUP, "https", &c->https, err) < 0 ||
	    config_get_string(kf, path, GROUP, "https-path", &c->https_path, err) < 0 ||
	    config_get_string(kf, path, GROUP, "metrics", &c->metrics, err) < 0 ||
	    serve_read_pem(kf, path, "certificate", &c->certificate_pem, err) < 0 ||
	    serve_read_pem(kf, path, "key", &c->key_pem, err) < 0 ||
	    serve_read_uint(kf, path, "http-connections", 100000, &c->http_connections, err) < 0 ||
	    serve_read_uint(kf, path, "http-per-client", 100000, &c->http_per_client, err) < 0 ||
	    serve_read_uint(kf, path, "http-rate", 1000000, &c->http_rate, err) < 0 ||
	    serve_read_uint(kf, path, "metrics-domains", 1000, &c->metrics_domains, err) < 0)
		return -1;
	if (c->https_path != NULL && c->https_path[0] != '/')
		return serve_bad(path, "https-path", "expected a path starting with /",
				 c->https_path, err);
	if (c->https != NULL && (c->certificate_pem == NULL || c->key_pem == NULL))
		return serve_bad(path, "https", "needs certificate and key", NULL, err);
	return 0;
}

int serve_config_load(struct serve_config *c, GKeyFile *kf, const char *path, struct error *err)
{
	g_auto(GStrv) keys = NULL;

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
	if (serve_read_uint(kf, path, "workers", 256, &c->workers, err) < 0 ||
	    serve_read_lmtp(c, kf, path, err) < 0 || serve_read_http(c, kf, path, err) < 0 ||
	    config_get_duration(kf, path, GROUP, "idle-timeout", &c->idle_timeout, err) < 0)
		return -1;
	if (c->idle_timeout < 1)
		return serve_bad(path, "idle-timeout", "must be at least 1s", NULL, err);
	if ((c->lmtp == NULL || c->lmtp[0] == NULL) && c->http == NULL && c->https == NULL)
		return serve_bad(path, "lmtp", "missing (name a listener: lmtp, http or https)",
				 NULL, err);
	return 0;
}
