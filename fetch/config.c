/*
 * config.c: the [imap NAME] groups (fetch.h). Same rules as the other
 * groups: an unknown key or a bad value is an ERR_CONFIG naming file,
 * group and key.
 */
#include <curl/curl.h>
#include <string.h>

#include "fetch/fetch.h"

static const char *const imap_keys[] = { "url",
					 "user",
					 "password-file",
					 "oauth2-token-command",
					 "processed-folder",
					 "quarantine-folder",
					 "delete",
					 "ca-file",
					 "search",
					 "max-messages",
					 "max-bytes",
					 "timeout",
					 NULL };

void imap_account_free(gpointer data)
{
	struct imap_account *a = data;

	if (a == NULL)
		return;
	g_free(a->name);
	g_free(a->url);
	g_free(a->server);
	g_free(a->mailbox);
	g_free(a->user);
	g_free(a->password_file);
	g_free(a->token_command);
	g_free(a->processed);
	g_free(a->quarantine);
	g_free(a->ca_file);
	g_free(a->search);
	g_free(a);
}

/* Where a value is wrong. */
struct place {
	const char *path, *group;
};

static int imap_bad(const struct place *at, const char *key, const char *why, struct error *err)
{
	return error_set(err, ERR_CONFIG, "%s: [%s] %s: %s", at->path, at->group, key, why);
}

/* A folder name goes into IMAP commands as a quoted string: ASCII only
 * (a name beyond it needs modified UTF-7, RFC 3501 5.1.3), no control
 * characters. */
static int imap_folder(GKeyFile *kf, const struct place *at, const char *key, char **out,
		       struct error *err)
{
	if (config_get_string(kf, at->path, at->group, key, out, err) < 0)
		return -1;
	for (const char *c = *out; c != NULL && *c != '\0'; c++) {
		if ((guchar)*c < 0x20 || (guchar)*c > 0x7e)
			return imap_bad(at, key, "a folder name in printable ASCII, please", err);
	}
	return 0;
}

/* url into its server part and its mailbox, with libcurl's URL parser. */
static int imap_url(struct imap_account *a, const struct place *at, struct error *err)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	int rc = -1;

	if (u == NULL || curl_url_set(u, CURLUPART_URL, a->url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		imap_bad(at, "url", "not a URL (imaps://imap.example.com/INBOX)", err);
		goto done;
	}
	if (!g_str_equal(scheme, "imaps") && !g_str_equal(scheme, "imap")) {
		imap_bad(at, "url", "expected imaps:// (or imap:// on the loopback)", err);
		goto done;
	}
	curl_url_get(u, CURLUPART_PORT, &port, 0);
	curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE);
	a->mailbox =
		g_strdup(path != NULL && path[0] == '/' && path[1] != '\0' ? path + 1 : "INBOX");
	a->server =
		g_strdup_printf("%s://%s%s%s/", scheme, host, port ? ":" : "", port ? port : "");
	rc = 0;
done:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
	return rc;
}

static int imap_numbers(struct imap_account *a, GKeyFile *kf, const struct place *at,
			struct error *err)
{
	g_autofree char *bytes = g_key_file_get_string(kf, at->group, "max-bytes", NULL);
	guint64 n = a->max_messages;

	if (config_get_uint(kf, at->path, at->group, "max-messages", 1, 1000000, &n, err) < 0)
		return -1;
	a->max_messages = (guint)n;
	if (bytes != NULL && config_parse_size(g_strstrip(bytes), &a->max_bytes) < 0)
		return imap_bad(at, "max-bytes", "not a size (like 512M)", err);
	return config_get_duration(kf, at->path, at->group, "timeout", &a->timeout, err);
}

static int imap_read(struct imap_account *a, GKeyFile *kf, const struct place *at,
		     struct error *err)
{
	g_auto(GStrv) keys = g_key_file_get_keys(kf, at->group, NULL, NULL);

	for (gsize i = 0; keys != NULL && keys[i] != NULL; i++)
		if (!g_strv_contains(imap_keys, keys[i]))
			return imap_bad(at, keys[i], "unknown key", err);
	if (config_get_string(kf, at->path, at->group, "url", &a->url, err) < 0 ||
	    config_get_string(kf, at->path, at->group, "user", &a->user, err) < 0 ||
	    config_get_string(kf, at->path, at->group, "password-file", &a->password_file, err) <
		    0 ||
	    config_get_string(kf, at->path, at->group, "oauth2-token-command", &a->token_command,
			      err) < 0 ||
	    imap_folder(kf, at, "processed-folder", &a->processed, err) < 0 ||
	    imap_folder(kf, at, "quarantine-folder", &a->quarantine, err) < 0 ||
	    config_get_string(kf, at->path, at->group, "ca-file", &a->ca_file, err) < 0 ||
	    config_get_string(kf, at->path, at->group, "search", &a->search, err) < 0 ||
	    config_get_bool(kf, at->path, at->group, "delete", &a->delete_handled, err) < 0 ||
	    imap_numbers(a, kf, at, err) < 0)
		return -1;
	if (a->url == NULL)
		return imap_bad(at, "url", "missing (imaps://imap.example.com/INBOX)", err);
	if (a->user == NULL)
		return imap_bad(at, "user", "missing", err);
	if ((a->password_file == NULL) == (a->token_command == NULL))
		return imap_bad(at, "password-file",
				"give exactly one of password-file and oauth2-token-command", err);
	if (a->delete_handled && (a->processed != NULL || a->quarantine != NULL))
		return imap_bad(at, "delete", "true leaves no message to move to a folder", err);
	if (a->search != NULL && strpbrk(a->search, "\r\n") != NULL)
		return imap_bad(at, "search", "one line of IMAP search keys", err);
	return imap_url(a, at, err);
}

int fetch_config_load(GPtrArray **out, const struct config *cfg, char **only, struct error *err)
{
	g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func(imap_account_free);
	g_auto(GStrv) groups = cfg->keyfile ? g_key_file_get_groups(cfg->keyfile, NULL) : NULL;

	for (gsize i = 0; groups != NULL && groups[i] != NULL; i++) {
		struct place at = { cfg->path, groups[i] };
		struct imap_account *a;

		if (!g_str_has_prefix(groups[i], "imap "))
			continue;
		a = g_new0(struct imap_account, 1);
		a->name = g_strstrip(g_strdup(groups[i] + 5));
		a->max_messages = 1000;
		a->max_bytes = 512 * 1024 * 1024;
		a->timeout = 60;
		g_ptr_array_add(list, a);
		if (only != NULL && !g_strv_contains((const char *const *)only, a->name))
			g_ptr_array_remove_index(list, list->len - 1);
		else if (imap_read(a, cfg->keyfile, &at, err) < 0)
			return -1;
	}
	for (gsize i = 0; only != NULL && only[i] != NULL; i++) {
		gboolean found = FALSE;

		for (guint j = 0; j < list->len && !found; j++)
			found = g_str_equal(
				((struct imap_account *)g_ptr_array_index(list, j))->name, only[i]);
		if (!found)
			return error_set(err, ERR_CONFIG, "%s: [imap %s]: no such group",
					 cfg->path ? cfg->path : "configuration", only[i]);
	}
	*out = g_steal_pointer(&list);
	return 0;
}
