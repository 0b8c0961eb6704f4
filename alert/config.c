/*
 * config.c: [alert], [rule NAME] and [webhook NAME], read from the GKeyFile
 * that common/config.c kept. Same rules as [digest]: an unknown key or a bad
 * value is an ERR_CONFIG naming file, group and key, never replaced by a
 * default. Webhooks are read first so that a rule's notify can be checked.
 */
#include <string.h>
#include <sys/stat.h>

#include "alert/alert.h"
#include "common/config.h"
#include "common/log.h"

static const char *const alert_keys[] = { "on-ingest",		 "max-attempts",       "backoff",
					  "max-alerts-per-rule", "authenticated-only", NULL };
static const char *const webhook_keys[] = { "url",	   "format",  "secret",
					    "secret-file", "timeout", NULL };
static const char *const rule_keys[] = { "kind",
					 "domains",
					 "result-types",
					 "window",
					 "min-failed-sessions",
					 "min-failure-rate",
					 "cooldown",
					 "silent-for",
					 "group-by",
					 "notify-resolved",
					 "notify",
					 NULL };

gint64 alert_config_history_needed(const struct alert_config *c)
{
	gint64 need = 0;

	for (guint i = 0; i < c->rules->len; i++) {
		const struct alert_rule *r = g_ptr_array_index(c->rules, i);
		gint64 span = r->kind == ALERT_KIND_SILENCE ? r->silent_for + ALERT_SILENCE_LOOKBACK
							    : r->window;

		need = MAX(need, span);
	}
	return need;
}

double alert_parse_rate(const char *s)
{
	char *end = NULL;
	double x;

	if (s == NULL || *s == '\0')
		return -1;
	x = g_ascii_strtod(s, &end);
	if (end == s)
		return -1;
	if (*end == '%')
		return end[1] == '\0' && x >= 0.0 && x <= 100.0 ? x : -1;
	return *end == '\0' && x >= 0.0 && x <= 1.0 ? 100.0 * x : -1;
}

static void alert_webhook_free(gpointer p);
static void alert_rule_free(gpointer p);

void alert_config_init(struct alert_config *c)
{
	c->on_ingest = TRUE;
	c->authenticated_only = TRUE;
	c->max_attempts = 10;
	c->backoff = 60;
	c->max_alerts = 20;
	c->rules = g_ptr_array_new_with_free_func(alert_rule_free);
	c->webhooks = g_ptr_array_new_with_free_func(alert_webhook_free);
}

static void alert_webhook_free(gpointer p)
{
	struct alert_webhook *w = p;

	g_free(w->name);
	g_free(w->url);
	g_free(w->secret);
	g_free(w);
}

static void alert_rule_free(gpointer p)
{
	struct alert_rule *r = p;

	g_free(r->name);
	g_strfreev(r->domains);
	g_strfreev(r->result_types);
	g_strfreev(r->notify);
	g_free(r);
}

void alert_config_release(struct alert_config *c)
{
	g_clear_pointer(&c->rules, g_ptr_array_unref);
	g_clear_pointer(&c->webhooks, g_ptr_array_unref);
}

const struct alert_webhook *alert_config_webhook(const struct alert_config *c, const char *name)
{
	for (guint i = 0; c->webhooks != NULL && i < c->webhooks->len; i++) {
		const struct alert_webhook *w = g_ptr_array_index(c->webhooks, i);

		if (g_str_equal(w->name, name))
			return w;
	}
	return NULL;
}

const struct alert_rule *alert_config_rule(const struct alert_config *c, const char *name)
{
	for (guint i = 0; c->rules != NULL && i < c->rules->len; i++) {
		const struct alert_rule *r = g_ptr_array_index(c->rules, i);

		if (g_str_equal(r->name, name))
			return r;
	}
	return NULL;
}

/* Where a value is read: the file and group, for error messages. */
struct where {
	GKeyFile *kf;
	const char *path, *group;
};

static int bad(const struct where *w, const char *key, const char *what, const char *v,
	       struct error *err)
{
	if (v != NULL)
		return error_set(err, ERR_CONFIG, "%s: [%s] %s: %s, got '%s'", w->path, w->group,
				 key, what, v);
	return error_set(err, ERR_CONFIG, "%s: [%s] %s: %s", w->path, w->group, key, what);
}

/* The stripped value in *out and 1, or 0 when the key is absent (*out
 * NULL); an empty value is an error (-1). */
static int get(const struct where *w, const char *key, char **out, struct error *err)
{
	char *v = g_key_file_get_string(w->kf, w->group, key, NULL);

	*out = NULL;
	if (v == NULL)
		return 0;
	g_strstrip(v);
	if (*v == '\0') {
		g_free(v);
		return bad(w, key, "empty value", NULL, err);
	}
	*out = v;
	return 1;
}

static int get_uint(const struct where *w, const char *key, guint64 max, guint64 *out,
		    struct error *err)
{
	g_autofree char *v = NULL;
	int rc = get(w, key, &v, err);

	if (rc <= 0)
		return rc;
	if (!g_ascii_string_to_unsigned(v, 10, 0, max, out, NULL))
		return bad(w, key, "expected a whole number", v, err);
	return 0;
}

static int get_bool(const struct where *w, const char *key, gboolean *out, struct error *err)
{
	g_autofree char *v = NULL;
	int rc = get(w, key, &v, err);

	if (rc <= 0)
		return rc;
	if (g_strcmp0(v, "true") == 0 || g_strcmp0(v, "false") == 0) {
		*out = g_strcmp0(v, "true") == 0;
		return 0;
	}
	return bad(w, key, "expected true or false", v, err);
}

/* A ;-separated list, entries stripped and lower-cased when asked. */
static int get_list(const struct where *w, const char *key, gboolean lower, char ***out,
		    struct error *err)
{
	g_auto(GStrv) v = g_key_file_get_string_list(w->kf, w->group, key, NULL, NULL);
	GPtrArray *list;

	if (v == NULL)
		return 0;
	list = g_ptr_array_new();
	for (guint i = 0; v[i] != NULL; i++) {
		char *s = g_strstrip(v[i]);

		if (*s != '\0')
			g_ptr_array_add(list, lower ? g_ascii_strdown(s, -1) : g_strdup(s));
	}
	g_ptr_array_add(list, NULL);
	g_strfreev(*out);
	*out = (char **)g_ptr_array_free(list, FALSE);
	if ((*out)[0] == NULL)
		return bad(w, key, "empty list", NULL, err);
	return 0;
}

static int check_keys(const struct where *w, const char *const *known, struct error *err)
{
	g_auto(GStrv) keys = g_key_file_get_keys(w->kf, w->group, NULL, NULL);

	for (gsize i = 0; keys != NULL && keys[i] != NULL; i++) {
		if (!g_strv_contains(known, keys[i]))
			return bad(w, keys[i], "unknown key", NULL, err);
	}
	return 0;
}

static int alert_read_alert(struct alert_config *c, const struct where *w, struct error *err)
{
	guint64 attempts = c->max_attempts, max_alerts = c->max_alerts;

	if (check_keys(w, alert_keys, err) < 0 ||
	    get_bool(w, "on-ingest", &c->on_ingest, err) < 0 ||
	    get_bool(w, "authenticated-only", &c->authenticated_only, err) < 0 ||
	    get_uint(w, "max-attempts", 1000, &attempts, err) < 0 ||
	    get_uint(w, "max-alerts-per-rule", 100000, &max_alerts, err) < 0 ||
	    config_get_duration(w->kf, w->path, w->group, "backoff", &c->backoff, err) < 0)
		return -1;
	if (attempts == 0)
		return bad(w, "max-attempts", "must be at least 1", "0", err);
	if (max_alerts == 0)
		return bad(w, "max-alerts-per-rule", "must be at least 1", "0", err);
	c->max_attempts = (guint)attempts;
	c->max_alerts = (guint)max_alerts;
	return 0;
}

/* A webhook URL is a credential (Slack's and Teams' are the whole of it),
 * and so is a signing secret: say so when every account may read the file
 * that holds one. A warning, not an error: alerts still go out. */
static void alert_warn_readable(const char *path, const char *what)
{
	static GHashTable *warned; /* once per file and run: bulk ingest loads this per message */
	struct stat st;

	if (path == NULL || stat(path, &st) != 0 || !(st.st_mode & S_IROTH))
		return;
	if (warned == NULL)
		warned = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	if (g_hash_table_add(warned, g_strdup(path)))
		log_warning("%s holds %s and every account may read it: chmod o-r %s (README: "
			    "Hardening)",
			    path, what, path);
}

static int alert_read_secret(struct alert_webhook *h, const struct where *w, struct error *err)
{
	g_autofree char *file = NULL;
	g_autoptr(GError) gerr = NULL;
	char *text = NULL;

	if (get(w, "secret", &h->secret, err) < 0 || get(w, "secret-file", &file, err) < 0)
		return -1;
	if (file == NULL)
		return 0;
	if (h->secret != NULL)
		return bad(w, "secret-file", "give secret or secret-file, not both", NULL, err);
	if (!g_file_get_contents(file, &text, NULL, &gerr))
		return bad(w, "secret-file", gerr->message, NULL, err);
	alert_warn_readable(file, "a webhook secret");
	h->secret = g_strstrip(text);
	if (*h->secret == '\0')
		return bad(w, "secret-file", "the file is empty", NULL, err);
	return 0;
}

static int alert_read_webhook(struct alert_webhook *h, const struct where *w, struct error *err)
{
	g_autofree char *format = NULL;

	if (check_keys(w, webhook_keys, err) < 0 || get(w, "url", &h->url, err) < 0 ||
	    get(w, "format", &format, err) < 0 ||
	    config_get_duration(w->kf, w->path, w->group, "timeout", &h->timeout, err) < 0 ||
	    alert_read_secret(h, w, err) < 0)
		return -1;
	if (h->url == NULL)
		return bad(w, "url", "missing (every webhook needs one)", NULL, err);
	if (!g_str_has_prefix(h->url, "http://") && !g_str_has_prefix(h->url, "https://"))
		return bad(w, "url", "expected an http:// or https:// URL", NULL, err);
	if (format == NULL || g_str_equal(format, "generic"))
		h->format = ALERT_FORMAT_GENERIC;
	else if (g_str_equal(format, "slack"))
		h->format = ALERT_FORMAT_SLACK;
	else if (g_str_equal(format, "teams"))
		h->format = ALERT_FORMAT_TEAMS;
	else
		return bad(w, "format", "expected slack, teams or generic", format, err);
	return 0;
}

static int alert_read_enum(const struct where *w, const char *key, const char *const *names,
			   int *out, struct error *err)
{
	g_autofree char *v = NULL;
	g_autofree char *list = NULL;
	int rc = get(w, key, &v, err);

	if (rc <= 0)
		return rc;
	for (int i = 0; names[i] != NULL; i++) {
		if (g_str_equal(v, names[i])) {
			*out = i;
			return 0;
		}
	}
	list = g_strjoinv(" or ", (char **)names);
	g_autofree char *what = g_strdup_printf("expected %s", list);
	return bad(w, key, what, v, err);
}

static int alert_read_rule_values(struct alert_rule *r, const struct where *w, struct error *err)
{
	static const char *const kinds[] = { "threshold", "silence", NULL };
	static const char *const groups[] = { "none", "reporter", "mx", NULL };
	g_autofree char *rate = NULL;
	guint64 min_failed = (guint64)r->min_failed;
	int kind = 0, group = 0;

	if (check_keys(w, rule_keys, err) < 0 ||
	    alert_read_enum(w, "kind", kinds, &kind, err) < 0 ||
	    alert_read_enum(w, "group-by", groups, &group, err) < 0 ||
	    get_list(w, "domains", TRUE, &r->domains, err) < 0 ||
	    get_list(w, "result-types", TRUE, &r->result_types, err) < 0 ||
	    get_list(w, "notify", FALSE, &r->notify, err) < 0 ||
	    config_get_duration(w->kf, w->path, w->group, "window", &r->window, err) < 0 ||
	    config_get_duration(w->kf, w->path, w->group, "cooldown", &r->cooldown, err) < 0 ||
	    config_get_duration(w->kf, w->path, w->group, "silent-for", &r->silent_for, err) < 0 ||
	    get_uint(w, "min-failed-sessions", G_MAXINT64, &min_failed, err) < 0 ||
	    get_bool(w, "notify-resolved", &r->notify_resolved, err) < 0 ||
	    get(w, "min-failure-rate", &rate, err) < 0)
		return -1;
	if (rate != NULL && (r->min_rate = alert_parse_rate(rate)) < 0)
		return bad(w, "min-failure-rate", "expected a rate (1% or 0.01)", rate, err);
	r->kind = (enum alert_kind)kind;
	if (!g_key_file_has_key(w->kf, w->group, "notify-resolved", NULL))
		r->notify_resolved = r->kind == ALERT_KIND_SILENCE;
	r->group_by = (enum alert_group_by)group;
	r->min_failed = (gint64)min_failed;
	return 0;
}

static int alert_read_rule(struct alert_rule *r, const struct alert_config *c,
			   const struct where *w, struct error *err)
{
	static const char *const threshold_only[] = {
		"result-types",	    "window",	"min-failed-sessions",
		"min-failure-rate", "group-by", NULL
	};

	if (alert_read_rule_values(r, w, err) < 0)
		return -1;
	r->authenticated_only = c->authenticated_only;
	if (r->kind == ALERT_KIND_SILENCE) {
		for (guint i = 0; threshold_only[i] != NULL; i++) {
			if (g_key_file_has_key(w->kf, w->group, threshold_only[i], NULL))
				return bad(w, threshold_only[i], "not used by kind = silence", NULL,
					   err);
		}
	} else if (g_key_file_has_key(w->kf, w->group, "silent-for", NULL)) {
		return bad(w, "silent-for", "only used by kind = silence", NULL, err);
	}
	if (r->notify == NULL)
		return bad(w, "notify", "missing (name the webhooks to notify)", NULL, err);
	for (guint i = 0; r->notify[i] != NULL; i++) {
		if (alert_config_webhook(c, r->notify[i]) == NULL)
			return bad(w, "notify", "no such webhook", r->notify[i], err);
	}
	return 0;
}

static gboolean alert_valid_name(const char *name)
{
	if (*name == '\0')
		return FALSE;
	for (const char *p = name; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && strchr("-_.", *p) == NULL)
			return FALSE;
	}
	return TRUE;
}

static int alert_read_group(struct alert_config *c, struct where *w, gboolean webhooks,
			    struct error *err)
{
	const char *prefix = webhooks ? "webhook " : "rule ";
	const char *name = w->group + strlen(prefix);

	if (!g_str_has_prefix(w->group, prefix))
		return 0;
	if (!alert_valid_name(name))
		return error_set(err, ERR_CONFIG,
				 "%s: [%s]: a name is letters, digits, '-', '_' and '.'", w->path,
				 w->group);
	if (webhooks) {
		struct alert_webhook *h = g_new0(struct alert_webhook, 1);

		h->name = g_strdup(name);
		h->timeout = 10;
		g_ptr_array_add(c->webhooks, h);
		return alert_read_webhook(h, w, err);
	}
	struct alert_rule *r = g_new0(struct alert_rule, 1);

	r->name = g_strdup(name);
	r->window = 86400;
	r->min_failed = 1;
	r->cooldown = 6 * 3600;
	r->silent_for = 3 * 86400;
	g_ptr_array_add(c->rules, r);
	return alert_read_rule(r, c, w, err);
}

int alert_config_load(struct alert_config *c, GKeyFile *kf, const char *path, struct error *err)
{
	g_auto(GStrv) groups = NULL;
	struct where w = { kf, path ? path : "configuration", "alert" };

	c->authenticated_only = config_dkim_mode(kf) != CONFIG_DKIM_OFF;
	if (kf == NULL)
		return 0;
	if (g_key_file_has_group(kf, "alert") && alert_read_alert(c, &w, err) < 0)
		return -1;
	groups = g_key_file_get_groups(kf, NULL);
	for (int pass = 0; pass < 2; pass++) {
		for (gsize i = 0; groups[i] != NULL; i++) {
			w.group = groups[i];
			if (alert_read_group(c, &w, pass == 0, err) < 0)
				return -1;
		}
	}
	if (c->webhooks->len > 0)
		alert_warn_readable(path, "webhook URLs");
	return 0;
}
