/*
 * config.c: the configuration file, read with GKeyFile.
 *
 * Unknown groups and keys are errors, not ignored: a misspelt cap that is
 * silently ignored is a cap that does not hold. Every error names the file,
 * the group and the key, because the operator reads it in a Postfix log.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"

#define MiB (1024ULL * 1024ULL)

void config_init(struct config *c)
{
	*c = (struct config){
		.max_message_size = 32 * MiB,
		.max_report_size = 64 * MiB,
		.max_mime_parts = 1000,
		.max_mime_depth = 20,
		.max_json_depth = 64,
		.max_policies = 10000,
		.max_failure_details = 50000,
		.max_string_length = 65536,
		.max_total_report_size = 128 * MiB,
		.max_gzip_ratio = 200,
		.max_processing_time = 300,
		.max_parse_memory = 128 * MiB,
		.max_header_size = 64 * 1024,
		.dkim = CONFIG_DKIM_RECORD,
		.dns_timeout = 5,
	};
}

void config_release(struct config *c)
{
	g_free(c->path);
	g_free(c->conninfo);
	g_free(c->trusted_authserv_id);
	g_strfreev(c->trusted_reporters);
	g_strfreev(c->dns_nameservers);
	if (c->keyfile != NULL)
		g_key_file_unref(c->keyfile);
	config_init(c);
}

int config_parse_size(const char *s, guint64 *out)
{
	char *end = NULL;
	guint64 n, mult = 1;

	if (s == NULL || !g_ascii_isdigit(*s))
		return -1;
	errno = 0;
	n = g_ascii_strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	switch (g_ascii_toupper(*end)) {
	case '\0':
		break;
	case 'K':
		mult = 1024, end++;
		break;
	case 'M':
		mult = MiB, end++;
		break;
	case 'G':
		mult = 1024 * MiB, end++;
		break;
	default:
		return -1;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0' || n > G_MAXUINT64 / mult)
		return -1;
	*out = n * mult;
	return 0;
}

/* The keys of [ingest] that are sizes or counts, and where each one goes. */
struct number_key {
	const char *key;
	gboolean is_size;
	size_t offset;
	guint64 min, max;
};

#define SIZE_KEY(k, f)                                                                             \
	{                                                                                          \
		k, TRUE, G_STRUCT_OFFSET(struct config, f), 1024, G_MAXSSIZE                       \
	}
#define COUNT_KEY(k, f, lo, hi)                                                                    \
	{                                                                                          \
		k, FALSE, G_STRUCT_OFFSET(struct config, f), lo, hi                                \
	}

static const struct number_key ingest_numbers[] = {
	SIZE_KEY("max-message-size", max_message_size),
	SIZE_KEY("max-report-size", max_report_size),
	COUNT_KEY("max-mime-parts", max_mime_parts, 1, 1000000),
	COUNT_KEY("max-mime-depth", max_mime_depth, 1, 1000),
	COUNT_KEY("max-json-depth", max_json_depth, 4, 1000),
	COUNT_KEY("max-policies", max_policies, 1, 10000000),
	COUNT_KEY("max-failure-details", max_failure_details, 1, 100000000),
	COUNT_KEY("max-string-length", max_string_length, 64, 1U << 30),
	SIZE_KEY("max-total-report-size", max_total_report_size),
	COUNT_KEY("max-gzip-ratio", max_gzip_ratio, 2, 1000000),
	COUNT_KEY("max-processing-time", max_processing_time, 0, 86400),
	SIZE_KEY("max-header-size", max_header_size),
	/* Under 16 MiB not even a small report parses. */
	{ "max-parse-memory", TRUE, G_STRUCT_OFFSET(struct config, max_parse_memory), 16 * MiB,
	  G_MAXSSIZE },
};

static int config_read_number(struct config *c, GKeyFile *kf, const struct number_key *nk,
			      struct error *err)
{
	g_autofree char *value = g_key_file_get_string(kf, "ingest", nk->key, NULL);
	guint64 n = 0;
	char *end = NULL;

	/* NULL: the value is not UTF-8 (GKeyFile refuses to return it). */
	if (value == NULL)
		return error_set(err, ERR_CONFIG, "%s: [ingest] %s: not valid UTF-8", c->path,
				 nk->key);
	if (nk->is_size) {
		if (config_parse_size(value, &n) < 0)
			return error_set(err, ERR_CONFIG,
					 "%s: [ingest] %s: not a size (like 64M): %s", c->path,
					 nk->key, value);
	} else {
		n = g_ascii_strtoull(value, &end, 10);
		if (!g_ascii_isdigit(*value) || *end != '\0')
			return error_set(err, ERR_CONFIG, "%s: [ingest] %s: not a number: %s",
					 c->path, nk->key, value);
	}
	if (n < nk->min || n > nk->max)
		return error_set(err, ERR_CONFIG,
				 "%s: [ingest] %s: %s is out of range (%" G_GUINT64_FORMAT
				 "..%" G_GUINT64_FORMAT ")",
				 c->path, nk->key, value, nk->min, nk->max);
	if (nk->is_size)
		G_STRUCT_MEMBER(guint64, c, nk->offset) = n;
	else
		G_STRUCT_MEMBER(guint, c, nk->offset) = (guint)n;
	return 0;
}

int config_get_string(GKeyFile *kf, const char *path, const char *group, const char *key,
		      char **out, struct error *err)
{
	g_autofree char *v = g_key_file_get_string(kf, group, key, NULL);

	if (v == NULL)
		return 0;
	if (*g_strstrip(v) == '\0')
		return error_set(err, ERR_CONFIG, "%s: [%s] %s: empty value", path, group, key);
	g_free(*out);
	*out = g_steal_pointer(&v);
	return 0;
}

int config_get_bool(GKeyFile *kf, const char *path, const char *group, const char *key,
		    gboolean *out, struct error *err)
{
	g_autoptr(GError) gerr = NULL;
	gboolean v;

	if (!g_key_file_has_key(kf, group, key, NULL))
		return 0;
	v = g_key_file_get_boolean(kf, group, key, &gerr);
	if (gerr != NULL)
		return error_set(err, ERR_CONFIG, "%s: [%s] %s: expected true or false", path,
				 group, key);
	*out = v;
	return 0;
}

int config_get_uint(GKeyFile *kf, const char *path, const char *group, const char *key, guint64 min,
		    guint64 max, guint64 *out, struct error *err)
{
	g_autofree char *v = g_key_file_get_string(kf, group, key, NULL);
	guint64 n = 0;

	if (v == NULL)
		return 0;
	if (g_ascii_string_to_unsigned(g_strstrip(v), 10, min, max, &n, NULL)) {
		*out = n;
		return 0;
	}
	if (min == 0)
		return error_set(err, ERR_CONFIG, "%s: [%s] %s: expected a whole number, got '%s'",
				 path, group, key, v);
	return error_set(err, ERR_CONFIG,
			 "%s: [%s] %s: expected a number from %" G_GUINT64_FORMAT
			 " to %" G_GUINT64_FORMAT ", got '%s'",
			 path, group, key, min, max, v);
}

/* A ;-separated list, each entry stripped, empty ones left out; NULL
 * when nothing is left. */
static char **config_read_list(GKeyFile *kf, const char *group, const char *key)
{
	g_auto(GStrv) raw = g_key_file_get_string_list(kf, group, key, NULL, NULL);
	GPtrArray *kept = g_ptr_array_new();

	for (gsize i = 0; raw != NULL && raw[i] != NULL; i++) {
		g_strstrip(raw[i]);
		if (*raw[i] != '\0')
			g_ptr_array_add(kept, g_strdup(raw[i]));
	}
	if (kept->len == 0) {
		g_ptr_array_free(kept, TRUE);
		return NULL;
	}
	g_ptr_array_add(kept, NULL);
	return (char **)g_ptr_array_free(kept, FALSE);
}

static int config_dkim_parse(const char *v, enum config_dkim *out)
{
	static const char *const names[] = { [CONFIG_DKIM_OFF] = "off",
					     [CONFIG_DKIM_RECORD] = "record",
					     [CONFIG_DKIM_REQUIRE] = "require" };

	for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
		if (g_str_equal(v, names[i])) {
			*out = (enum config_dkim)i;
			return 0;
		}
	}
	return -1;
}

enum config_dkim config_dkim_mode(GKeyFile *kf)
{
	g_autofree char *v = kf ? g_key_file_get_string(kf, "ingest", "dkim", NULL) : NULL;
	enum config_dkim mode = CONFIG_DKIM_RECORD;

	if (v != NULL)
		config_dkim_parse(g_strstrip(v), &mode);
	return mode;
}

/* [ingest] dkim, trusted-authserv-id and trusted-reporters. */
static int config_read_trust(struct config *c, GKeyFile *kf, const char *key, struct error *err)
{
	g_autofree char *v = g_key_file_get_string(kf, "ingest", key, NULL);

	if (v == NULL)
		return error_set(err, ERR_CONFIG, "%s: [ingest] %s: not valid UTF-8", c->path, key);
	g_strstrip(v);
	if (g_str_equal(key, "trusted-reporters")) {
		g_strfreev(c->trusted_reporters);
		c->trusted_reporters = config_read_list(kf, "ingest", key);
	} else if (g_str_equal(key, "trusted-authserv-id")) {
		g_free(c->trusted_authserv_id);
		c->trusted_authserv_id = *v != '\0' ? g_strdup(v) : NULL;
	} else if (config_dkim_parse(v, &c->dkim) < 0) {
		return error_set(err, ERR_CONFIG,
				 "%s: [ingest] dkim: expected off, record or require, got '%s'",
				 c->path, v);
	}
	return 0;
}

static int config_read_ingest(struct config *c, GKeyFile *kf, struct error *err)
{
	g_auto(GStrv) keys = g_key_file_get_keys(kf, "ingest", NULL, NULL);

	for (gsize i = 0; keys != NULL && keys[i] != NULL; i++) {
		const char *key = keys[i];
		gboolean known = FALSE;

		for (gsize j = 0; j < G_N_ELEMENTS(ingest_numbers); j++) {
			if (g_str_equal(key, ingest_numbers[j].key)) {
				if (config_read_number(c, kf, &ingest_numbers[j], err) < 0)
					return -1;
				known = TRUE;
			}
		}
		if (g_str_equal(key, "keep-raw") || g_str_equal(key, "syslog")) {
			gboolean *flag = g_str_equal(key, "syslog") ? &c->syslog : &c->keep_raw;

			if (config_get_bool(kf, c->path, "ingest", key, flag, err) < 0)
				return -1;
			known = TRUE;
		}
		if (g_str_equal(key, "dkim") || g_str_equal(key, "trusted-authserv-id") ||
		    g_str_equal(key, "trusted-reporters")) {
			if (config_read_trust(c, kf, key, err) < 0)
				return -1;
			known = TRUE;
		}
		if (!known)
			return error_set(err, ERR_CONFIG, "%s: [ingest] %s: unknown key", c->path,
					 key);
	}
	return 0;
}

int config_parse_nameserver(const char *s, struct in_addr *addr, guint16 *port)
{
	g_autofree char *host = g_strdup(s);
	char *colon = strchr(host, ':');
	guint64 n = 53;

	if (colon != NULL) {
		*colon = '\0';
		if (!g_ascii_string_to_unsigned(colon + 1, 10, 1, 65535, &n, NULL))
			return -1;
	}
	if (inet_pton(AF_INET, host, addr) != 1)
		return -1;
	*port = (guint16)n;
	return 0;
}

/* [dns] nameservers and timeout. */
static int config_read_dns(struct config *c, GKeyFile *kf, struct error *err)
{
	g_auto(GStrv) keys = g_key_file_get_keys(kf, "dns", NULL, NULL);
	gint64 timeout = c->dns_timeout;

	for (gsize i = 0; keys != NULL && keys[i] != NULL; i++) {
		if (g_str_equal(keys[i], "timeout")) {
			if (config_get_duration(kf, c->path, "dns", "timeout", &timeout, err) < 0)
				return -1;
			if (timeout > 60)
				return error_set(
					err, ERR_CONFIG,
					"%s: [dns] timeout: at most 60s, a delivery waits on it",
					c->path);
			c->dns_timeout = (guint)timeout;
		} else if (g_str_equal(keys[i], "nameservers")) {
			g_strfreev(c->dns_nameservers);
			c->dns_nameservers = config_read_list(kf, "dns", "nameservers");
			for (gsize j = 0; c->dns_nameservers && c->dns_nameservers[j]; j++) {
				struct in_addr addr;
				guint16 port;

				if (config_parse_nameserver(c->dns_nameservers[j], &addr, &port) <
				    0)
					return error_set(
						err, ERR_CONFIG,
						"%s: [dns] nameservers: '%s' is not an IPv4"
						" address with an optional :port",
						c->path, c->dns_nameservers[j]);
			}
		} else {
			return error_set(err, ERR_CONFIG, "%s: [dns] %s: unknown key", c->path,
					 keys[i]);
		}
	}
	return 0;
}

gint64 config_parse_duration(const char *s)
{
	char *end = NULL;
	guint64 n;
	gint64 unit = 1;

	if (s == NULL || !g_ascii_isdigit(*s))
		return -1;
	n = g_ascii_strtoull(s, &end, 10);
	if (*end == 's')
		end++;
	else if (*end == 'm')
		unit = 60, end++;
	else if (*end == 'h')
		unit = 3600, end++;
	else if (*end == 'd')
		unit = 86400, end++;
	if (*end != '\0' || n > (guint64)(G_MAXINT32))
		return -1;
	return (gint64)n * unit;
}

int config_get_duration(GKeyFile *kf, const char *path, const char *group, const char *key,
			gint64 *out, struct error *err)
{
	g_autofree char *v = g_key_file_get_string(kf, group, key, NULL);
	gint64 d;

	if (v == NULL)
		return 0;
	g_strstrip(v);
	if (*v == '\0')
		return error_set(err, ERR_CONFIG, "%s: [%s] %s: empty value", path, group, key);
	if ((d = config_parse_duration(v)) <= 0)
		return error_set(err, ERR_CONFIG,
				 "%s: [%s] %s: expected a duration (a number with s, m, h or d), "
				 "got '%s'",
				 path, group, key, v);
	*out = d;
	return 0;
}

static int config_read_database(struct config *c, GKeyFile *kf, struct error *err)
{
	g_auto(GStrv) keys = g_key_file_get_keys(kf, "database", NULL, NULL);

	for (gsize i = 0; keys != NULL && keys[i] != NULL; i++) {
		if (g_str_equal(keys[i], "retention")) {
			g_autofree char *v =
				g_key_file_get_string(kf, "database", "retention", NULL);

			c->retention = config_parse_duration(v);
			if (c->retention <= 0)
				return error_set(
					err, ERR_CONFIG,
					"%s: [database] retention: expected a duration like"
					" 400d, got '%s'",
					c->path, v ? v : "");
			continue;
		}
		if (!g_str_equal(keys[i], "conninfo"))
			return error_set(err, ERR_CONFIG, "%s: [database] %s: unknown key", c->path,
					 keys[i]);
		g_free(c->conninfo);
		c->conninfo = g_key_file_get_string(kf, "database", "conninfo", NULL);
		if (c->conninfo == NULL)
			return error_set(err, ERR_CONFIG,
					 "%s: [database] conninfo: not valid UTF-8", c->path);
	}
	return 0;
}

/* Groups other stages read; [ingest] and [database] are checked here. The
 * others are checked by their own commands when those exist. */
static gboolean config_known_group(const char *group)
{
	return g_str_equal(group, "database") || g_str_equal(group, "ingest") ||
	       g_str_equal(group, "digest") || g_str_equal(group, "alert") ||
	       g_str_equal(group, "serve") || g_str_equal(group, "dns") ||
	       g_str_has_prefix(group, "imap ") || g_str_equal(group, "check") ||
	       g_str_has_prefix(group, "rule ") || g_str_has_prefix(group, "webhook ");
}

static int config_read(struct config *c, const char *path, struct error *err);

/* On failure nothing read is kept (the header's promise: c keeps the
 * defaults), so a caller that returns at once leaks nothing. */
int config_load(struct config *c, const char *path, struct error *err)
{
	if (config_read(c, path, err) == 0)
		return 0;
	config_release(c);
	return -1;
}

static int config_read(struct config *c, const char *path, struct error *err)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) gerr = NULL;
	g_auto(GStrv) groups = NULL;

	if (path == NULL)
		path = g_getenv("TLSWATCH_CONFIG");
	if (path == NULL || *path == '\0') {
		if (!g_file_test(CONFIG_DEFAULT_PATH, G_FILE_TEST_EXISTS))
			return 0;
		path = CONFIG_DEFAULT_PATH;
	}
	/* The usual way to say "no file, not even the installed one": the
	 * defaults and the PG* variables (README: Trying it). */
	if (g_str_equal(path, "/dev/null"))
		return 0;
	g_free(c->path);
	c->path = g_strdup(path);
	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &gerr))
		return error_set(err, ERR_CONFIG, "%s: %s", path, gerr->message);
	groups = g_key_file_get_groups(kf, NULL);
	for (gsize i = 0; groups[i] != NULL; i++) {
		if (!config_known_group(groups[i]))
			return error_set(err, ERR_CONFIG, "%s: [%s]: unknown group", path,
					 groups[i]);
	}
	if (config_read_database(c, kf, err) < 0 || config_read_ingest(c, kf, err) < 0 ||
	    config_read_dns(c, kf, err) < 0)
		return -1;
	c->keyfile = g_steal_pointer(&kf);
	return 0;
}
