/*
 * report.c: RFC 8460 JSON into struct report (see report.h).
 *
 * Why this shape: jansson does the lexing (strict: no duplicates, no
 * trailing bytes), then one walk enforces our own caps before any field is
 * read, so no later step meets a hostile size. Text PostgreSQL cannot hold
 * is mended, never cut: invalid UTF-8 and NUL bytes (\u0000) become U+FFFD
 * with a warning, in the fields and in the stored document alike. Each field has one small
 * reader that either fills the struct, applies a documented leniency and
 * adds a warning starting with the JSON path, or fails with that path; the
 * original json_t stays in r->document so nothing unknown is ever lost.
 * The date-time reader is report_datetime.c; the normalised JSON out of a
 * struct report, report_json.c.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <string.h>

#include "ingest/report.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(json_t, json_decref)

/* Bytes of a value quoted in a message before it is cut with "...". */
#define QUOTE_MAX 64
/* Bytes of a path quoted in a limit error (keys there are arbitrary). */
#define PATH_MAX_SHOWN 200

struct parse_ctx {
	struct report *r;
	const struct report_hints *hints; /* never NULL */
	struct report_limits lim;	  /* defaults applied */
	struct error *err;
	size_t failures;    /* failure-details read so far, in all policies */
	size_t nul_strings; /* strings whose NUL bytes were replaced */
	char *nul_first;    /* the path of the first of them */
};

/* A date more than this far ahead of the clock is warned about. */
#define FUTURE_SLACK G_TIME_SPAN_DAY

/* ---- paths, messages ------------------------------------------------- */

static char *path_key(const char *base, const char *key)
{
	if (key == NULL)
		return g_strdup(base);
	return base && *base ? g_strdup_printf("%s.%s", base, key) : g_strdup(key);
}

/* s escaped to printable ASCII and cut after max bytes: safe for one line. */
static char *report_sanitize(const char *s, size_t max)
{
	g_autofree char *cut = g_strndup(s, max);
	g_autofree char *esc = g_strescape(cut, NULL);

	return g_strdup_printf("%s%s", esc, strlen(s) > max ? "..." : "");
}

static char *report_quote(const char *s)
{
	g_autofree char *safe = report_sanitize(s, QUOTE_MAX);

	return g_strdup_printf("\"%s\"", safe);
}

/* Set err to "<base.key>: <fmt>" (ERR_INPUT); key may be NULL. Returns -1. */
static int report_fail(struct parse_ctx *c, const char *base, const char *key, const char *fmt, ...)
	G_GNUC_PRINTF(4, 5);
static int report_fail(struct parse_ctx *c, const char *base, const char *key, const char *fmt, ...)
{
	g_autofree char *path = path_key(base, key);
	g_autofree char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	return error_set(c->err, ERR_INPUT, "%s: %s", path, msg);
}

/* Add the warning "<base.key>: <fmt>"; key may be NULL. */
static void report_warn(struct parse_ctx *c, const char *base, const char *key, const char *fmt,
			...) G_GNUC_PRINTF(4, 5);
static void report_warn(struct parse_ctx *c, const char *base, const char *key, const char *fmt,
			...)
{
	g_autofree char *path = path_key(base, key);
	g_autofree char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_ptr_array_add(c->r->warnings, g_strdup_printf("%s: %s", path, msg));
}

static gboolean report_is_digits(const char *s)
{
	if (*s == '\0')
		return FALSE;
	for (; *s; s++)
		if (!g_ascii_isdigit(*s))
			return FALSE;
	return TRUE;
}

/* A string of decimal digits no larger than INT64_MAX. */
static gboolean report_parse_decimal(const char *s, int64_t *out)
{
	guint64 u;

	if (!report_is_digits(s) || !g_ascii_string_to_unsigned(s, 10, 0, INT64_MAX, &u, NULL))
		return FALSE;
	*out = (int64_t)u;
	return TRUE;
}

/* ---- caps ------------------------------------------------------------ */

static int report_limit_fail(struct parse_ctx *c, const GString *path, const char *what, size_t got,
			     const char *limit, size_t max)
{
	g_autofree char *shown =
		report_sanitize(path->len ? path->str : "(top level)", PATH_MAX_SHOWN);

	return error_set(c->err, ERR_INPUT, "%s: %s of %zu exceeds %s (%zu)", shown, what, got,
			 limit, max);
}

/* PostgreSQL text and jsonb cannot hold NUL, and a C string ends there: a
 * string holding NUL bytes gets U+FFFD for each, in the document itself,
 * so that every later reader sees the same whole string. */
static void report_mend_nul(struct parse_ctx *c, json_t *v, const GString *path)
{
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	g_autoptr(GString) mended = NULL;

	if (strlen(s) == len)
		return;
	mended = g_string_sized_new(len + 8);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\0')
			g_string_append(mended, "\xef\xbf\xbd");
		else
			g_string_append_c(mended, s[i]);
	}
	json_string_set(v, mended->str);
	if (c->nul_strings++ == 0)
		c->nul_first =
			report_sanitize(path->len ? path->str : "(top level)", PATH_MAX_SHOWN);
}

/* Depth (containers, the top object being 1) and every string and key length. */
static int report_check_node(struct parse_ctx *c, json_t *v, GString *path, size_t depth)
{
	size_t len = path->len, i;
	const char *key;
	json_t *child;

	if (json_is_string(v) && json_string_length(v) > c->lim.max_string)
		return report_limit_fail(c, path, "string length", json_string_length(v),
					 "max-string-length", c->lim.max_string);
	if (json_is_string(v))
		report_mend_nul(c, v, path);
	if (!json_is_object(v) && !json_is_array(v))
		return 0;
	if (depth > c->lim.max_depth)
		return report_limit_fail(c, path, "nesting depth", depth, "max-json-depth",
					 c->lim.max_depth);
	json_object_foreach (v, key, child) {
		if (strlen(key) > c->lim.max_string)
			return report_limit_fail(c, path, "key length", strlen(key),
						 "max-string-length", c->lim.max_string);
		g_string_append_printf(path, len ? ".%s" : "%s", key);
		if (report_check_node(c, child, path, depth + 1) < 0)
			return -1;
		g_string_truncate(path, len);
	}
	json_array_foreach (v, i, child) {
		g_string_append_printf(path, "[%zu]", i);
		if (report_check_node(c, child, path, depth + 1) < 0)
			return -1;
		g_string_truncate(path, len);
	}
	return 0;
}

static int report_check_limits(struct parse_ctx *c, json_t *root)
{
	g_autoptr(GString) path = g_string_new(NULL);

	if (report_check_node(c, root, path, 1) < 0)
		return -1;
	if (c->nul_strings > 0)
		report_warn(c, c->nul_first, NULL,
			    "NUL bytes replaced by U+FFFD (in %zu string%s of the document)",
			    c->nul_strings, c->nul_strings == 1 ? "" : "s");
	return 0;
}

/* ---- scalars --------------------------------------------------------- */

/* obj[key] as a required string; nonempty also rejects "". */
static int report_req_string(struct parse_ctx *c, json_t *obj, const char *base, const char *key,
			     gboolean nonempty, char **out)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL)
		return report_fail(c, base, key, "missing");
	if (!json_is_string(v))
		return report_fail(c, base, key, "expected string");
	if (nonempty && json_string_length(v) == 0)
		return report_fail(c, base, key, "empty");
	*out = g_strdup(json_string_value(v));
	return 0;
}

/* obj[key] as an optional string: absent is NULL, null is NULL with a warning. */
static int report_opt_string(struct parse_ctx *c, json_t *obj, const char *base, const char *key,
			     char **out)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (json_is_null(v)) {
		report_warn(c, base, key, "null, read as absent");
		return 0;
	}
	if (!json_is_string(v))
		return report_fail(c, base, key, "expected string");
	*out = g_strdup(json_string_value(v));
	return 0;
}

/* The key to read: key itself, or alias (the RFC's prose name, with a warning)
 * when only the alias is present. */
static const char *report_pick_alias(struct parse_ctx *c, json_t *obj, const char *base,
				     const char *key, const char *alias)
{
	if (json_object_get(obj, key) != NULL || json_object_get(obj, alias) == NULL)
		return key;
	report_warn(c, base, alias, "the RFC's prose name for %s, read as %s", key, key);
	return alias;
}

/* obj[key] as a count: an integer >= 0, or (with a warning) a string of digits. */
static int report_parse_count(struct parse_ctx *c, json_t *obj, const char *base, const char *key,
			      int64_t *out)
{
	json_t *v = json_object_get(obj, key);
	g_autofree char *quoted = NULL;

	if (v == NULL)
		return report_fail(c, base, key, "missing");
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v) || !report_parse_decimal(json_string_value(v), out))
		return report_fail(c, base, key, "expected a non-negative integer");
	quoted = report_quote(json_string_value(v));
	report_warn(c, base, key, "count sent as the string %s, read as %" PRId64, quoted, *out);
	return 0;
}

/* obj[key] as an optional IP literal; anything else is NULL with a warning. */
static int report_parse_ip(struct parse_ctx *c, json_t *obj, const char *base, const char *key,
			   char **out)
{
	unsigned char addr[sizeof(struct in6_addr)];
	g_autofree char *quoted = NULL;

	if (report_opt_string(c, obj, base, key, out) < 0)
		return -1;
	if (*out == NULL || inet_pton(AF_INET, *out, addr) == 1 ||
	    inet_pton(AF_INET6, *out, addr) == 1)
		return 0;
	quoted = report_quote(*out);
	report_warn(c, base, key, "%s is not an IP address, left out (kept in the document)",
		    quoted);
	g_clear_pointer(out, g_free);
	return 0;
}

/* ---- dates ----------------------------------------------------------- */

static int report_parse_date(struct parse_ctx *c, json_t *range, const char *key, GDateTime **out)
{
	g_autofree char *s = NULL;
	gboolean no_zone;

	if (report_req_string(c, range, "date-range", key, FALSE, &s) < 0)
		return -1;
	*out = report_parse_datetime(s, &no_zone);
	if (*out == NULL)
		return report_fail(c, "date-range", key, "not an RFC 3339 date-time");
	if (no_zone)
		report_warn(c, "date-range", key, "no time zone, read as UTC");
	return 0;
}

/* A report about days that have not happened yet: kept, but said. */
static void report_check_future(struct parse_ctx *c, const char *key, GDateTime *dt)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autoptr(GDateTime) limit = g_date_time_add(now, FUTURE_SLACK);

	if (limit != NULL && g_date_time_compare(dt, limit) > 0)
		report_warn(c, "date-range", key, "in the future (year %d)",
			    g_date_time_get_year(dt));
}

static int report_parse_date_range(struct parse_ctx *c, json_t *root)
{
	json_t *range = json_object_get(root, "date-range");

	if (range == NULL)
		return report_fail(c, "date-range", NULL, "missing");
	if (!json_is_object(range))
		return report_fail(c, "date-range", NULL, "expected object");
	if (report_parse_date(c, range, "start-datetime", &c->r->date_start) < 0 ||
	    report_parse_date(c, range, "end-datetime", &c->r->date_end) < 0)
		return -1;
	if (g_date_time_compare(c->r->date_end, c->r->date_start) < 0)
		report_warn(c, "date-range", NULL, "end-datetime is before start-datetime");
	report_check_future(c, "start-datetime", c->r->date_start);
	report_check_future(c, "end-datetime", c->r->date_end);
	return 0;
}

/* ---- the policy object ----------------------------------------------- */

/* v (obj[key], may be NULL) as an array of strings appended to out; null is
 * empty and a lone string is one entry, each with a warning. */
static int report_parse_strings(struct parse_ctx *c, json_t *v, const char *base, const char *key,
				GPtrArray *out)
{
	size_t i;
	json_t *item;

	if (v == NULL)
		return 0;
	if (json_is_null(v)) {
		report_warn(c, base, key, "null, read as an empty list");
		return 0;
	}
	if (json_is_string(v)) {
		report_warn(c, base, key, "a string, not an array, read as one entry");
		g_ptr_array_add(out, g_strdup(json_string_value(v)));
		return 0;
	}
	if (!json_is_array(v))
		return report_fail(c, base, key, "expected array");
	json_array_foreach (v, i, item) {
		if (!json_is_string(item)) {
			g_autofree char *path = path_key(base, key);
			g_autofree char *epath = g_strdup_printf("%s[%zu]", path, i);

			return report_fail(c, epath, NULL, "expected string");
		}
		g_ptr_array_add(out, g_strdup(json_string_value(item)));
	}
	return 0;
}

/* Microsoft's TLSA policy-string: one element holding a JSON array of strings. */
static void report_unwrap_tlsa(struct parse_ctx *c, struct policy *p, const char *ppath)
{
	g_autoptr(json_t) inner = NULL;
	const char *s;
	json_t *item;
	size_t i;

	if (p->strings->len != 1)
		return;
	for (s = g_ptr_array_index(p->strings, 0); g_ascii_isspace(*s); s++)
		;
	if (*s != '[' || (inner = json_loads(s, JSON_REJECT_DUPLICATES, NULL)) == NULL ||
	    !json_is_array(inner) || json_array_size(inner) == 0)
		return;
	json_array_foreach (inner, i, item) {
		if (!json_is_string(item))
			return;
	}
	g_ptr_array_set_size(p->strings, 0);
	json_array_foreach (inner, i, item) {
		g_ptr_array_add(p->strings, g_strdup(json_string_value(item)));
	}
	report_warn(c, ppath, "policy-string",
		    "one string holding a JSON array, unwrapped to %u entries", p->strings->len);
}

/* "key: value" (RFC 8461 policy line, optional blanks); FALSE for other lines. */
static gboolean report_sts_split(const char *line, char **key, char **value)
{
	const char *p = line, *k;

	while (*p == ' ' || *p == '\t')
		p++;
	for (k = p; g_ascii_isalnum(*p) || *p == '_' || *p == '-' || *p == '.'; p++)
		;
	if (p == k)
		return FALSE;
	*key = g_strndup(k, p - k);
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != ':') {
		g_clear_pointer(key, g_free);
		return FALSE;
	}
	*value = g_strstrip(g_strdup(p + 1));
	return TRUE;
}

/* mode and max_age from policy-string[i]; the first line of each counts. */
static void report_sts_line(struct parse_ctx *c, struct policy *p, const char *ppath, guint i)
{
	g_autofree char *key = NULL, *value = NULL, *path = NULL, *quoted = NULL;
	gboolean is_mode;

	if (!report_sts_split(g_ptr_array_index(p->strings, i), &key, &value))
		return;
	is_mode = g_ascii_strcasecmp(key, "mode") == 0;
	if (!is_mode && g_ascii_strcasecmp(key, "max_age") != 0)
		return;
	path = g_strdup_printf("%s.policy-string[%u]", ppath, i);
	quoted = report_quote(value);
	if (is_mode ? p->sts_mode != NULL : p->sts_max_age >= 0)
		report_warn(c, path, NULL, "second %s line, ignored", key);
	else if (is_mode && *value == '\0')
		report_warn(c, path, NULL, "empty mode, ignored");
	else if (is_mode)
		p->sts_mode = g_utf8_strdown(value, -1);
	else if (!report_parse_decimal(value, &p->sts_max_age))
		report_warn(c, path, NULL, "max_age %s is not a non-negative integer, ignored",
			    quoted);
}

static int report_parse_domain(struct parse_ctx *c, json_t *pol, const char *ppath,
			       struct policy *p)
{
	const char *hint = c->hints->report_domain;
	g_autofree char *quoted = NULL;

	if (report_opt_string(c, pol, ppath, "policy-domain", &p->domain) < 0)
		return -1;
	if (p->domain != NULL && *p->domain != '\0')
		return 0;
	g_clear_pointer(&p->domain, g_free);
	if (hint == NULL || *hint == '\0')
		return report_fail(c, ppath, "policy-domain", "missing, and no TLS-Report-Domain");
	p->domain = g_utf8_make_valid(hint, -1);
	quoted = report_quote(p->domain);
	report_warn(c, ppath, "policy-domain", "missing or empty, read as TLS-Report-Domain %s",
		    quoted);
	return 0;
}

static int report_parse_policy_fields(struct parse_ctx *c, json_t *pol, const char *ppath,
				      struct policy *p)
{
	const char *mx_key;

	if (report_req_string(c, pol, ppath, "policy-type", FALSE, &p->type) < 0 ||
	    report_parse_strings(c, json_object_get(pol, "policy-string"), ppath, "policy-string",
				 p->strings) < 0)
		return -1;
	report_unwrap_tlsa(c, p, ppath);
	for (guint i = 0; i < p->strings->len; i++)
		report_sts_line(c, p, ppath, i);
	if (report_parse_domain(c, pol, ppath, p) < 0)
		return -1;
	mx_key = report_pick_alias(c, pol, ppath, "mx-host", "mx-host-pattern");
	return report_parse_strings(c, json_object_get(pol, mx_key), ppath, mx_key, p->mx_hosts);
}

/* ---- summary and failure-details ------------------------------------- */

static int report_parse_failure(struct parse_ctx *c, json_t *v, const char *path,
				struct failure_detail *f)
{
	const char *info;

	if (!json_is_object(v))
		return report_fail(c, path, NULL, "expected object");
	if (report_req_string(c, v, path, "result-type", FALSE, &f->result_type) < 0 ||
	    report_parse_ip(c, v, path, "sending-mta-ip", &f->sending_mta_ip) < 0 ||
	    report_opt_string(c, v, path, "receiving-mx-hostname", &f->receiving_mx_hostname) < 0 ||
	    report_opt_string(c, v, path, "receiving-mx-helo", &f->receiving_mx_helo) < 0 ||
	    report_parse_ip(c, v, path, "receiving-ip", &f->receiving_ip) < 0 ||
	    report_parse_count(c, v, path, "failed-session-count", &f->failed_sessions) < 0)
		return -1;
	info = report_pick_alias(c, v, path, "additional-information", "additional-info-uri");
	if (report_opt_string(c, v, path, info, &f->additional_information) < 0 ||
	    report_opt_string(c, v, path, "failure-reason-code", &f->failure_reason_code) < 0)
		return -1;
	return 0;
}

static int report_parse_failures(struct parse_ctx *c, json_t *v, const char *path, struct policy *p)
{
	size_t i, n;
	json_t *item;

	if (v == NULL)
		return 0;
	if (json_is_null(v)) {
		report_warn(c, path, "failure-details", "null, read as an empty list");
		return 0;
	}
	if (!json_is_array(v))
		return report_fail(c, path, "failure-details", "expected array");
	/* The cap is on the report, not on each policy: memory is spent per
	 * report, and a cap per policy would let max-policies multiply it. */
	n = json_array_size(v);
	if (n > c->lim.max_failures - c->failures)
		return report_fail(c, path, "failure-details",
				   "%zu entries exceed max-failure-details (%zu per report)%s", n,
				   c->lim.max_failures,
				   c->failures > 0 ? " with those of the policies before" : "");
	c->failures += n;
	g_array_set_size(p->failures, (guint)n); /* n <= max_failures, a guint cap */
	json_array_foreach (v, i, item) {
		g_autofree char *fpath = g_strdup_printf("%s.failure-details[%zu]", path, i);

		if (report_parse_failure(c, item, fpath,
					 &g_array_index(p->failures, struct failure_detail, i)) < 0)
			return -1;
	}
	return 0;
}

/* After the failure-details: a missing failure count is 0 only without them. */
static int report_parse_summary(struct parse_ctx *c, json_t *v, const char *path, struct policy *p)
{
	g_autofree char *spath = path_key(path, "summary");
	json_t *s = json_object_get(v, "summary");

	if (s == NULL)
		return report_fail(c, spath, NULL, "missing");
	if (!json_is_object(s))
		return report_fail(c, spath, NULL, "expected object");
	if (report_parse_count(c, s, spath, "total-successful-session-count",
			       &p->successful_sessions) < 0)
		return -1;
	if (json_object_get(s, "total-failure-session-count") != NULL || p->failures->len > 0)
		return report_parse_count(c, s, spath, "total-failure-session-count",
					  &p->failed_sessions);
	p->failed_sessions = 0;
	report_warn(c, spath, "total-failure-session-count",
		    "missing, read as 0 (there are no failure-details)");
	return 0;
}

static int report_parse_policy(struct parse_ctx *c, json_t *v, const char *path, struct policy *p)
{
	g_autofree char *ppath = path_key(path, "policy");
	json_t *pol;

	p->strings = g_ptr_array_new_with_free_func(g_free);
	p->mx_hosts = g_ptr_array_new_with_free_func(g_free);
	p->failures = g_array_new(FALSE, TRUE, sizeof(struct failure_detail));
	p->sts_max_age = -1;
	if (!json_is_object(v))
		return report_fail(c, path, NULL, "expected object");
	pol = json_object_get(v, "policy");
	if (pol == NULL)
		return report_fail(c, ppath, NULL, "missing");
	if (!json_is_object(pol))
		return report_fail(c, ppath, NULL, "expected object");
	if (report_parse_policy_fields(c, pol, ppath, p) < 0 ||
	    report_parse_failures(c, json_object_get(v, "failure-details"), path, p) < 0 ||
	    report_parse_summary(c, v, path, p) < 0)
		return -1;
	return 0;
}

static int report_parse_policies(struct parse_ctx *c, json_t *root)
{
	json_t *v = json_object_get(root, "policies"), *item;
	size_t i, n;

	if (v == NULL)
		return report_fail(c, "policies", NULL, "missing");
	if (!json_is_array(v))
		return report_fail(c, "policies", NULL, "expected array");
	n = json_array_size(v);
	if (n > c->lim.max_policies)
		return report_fail(c, "policies", NULL, "%zu entries exceed max-policies (%zu)", n,
				   c->lim.max_policies);
	if (n == 0)
		report_warn(c, "policies", NULL, "empty array");
	g_array_set_size(c->r->policies, (guint)n); /* n <= max_policies, a guint cap */
	json_array_foreach (v, i, item) {
		g_autofree char *path = g_strdup_printf("policies[%zu]", i);

		if (report_parse_policy(c, item, path,
					&g_array_index(c->r->policies, struct policy, i)) < 0)
			return -1;
	}
	return 0;
}

/* ---- what the mail says ---------------------------------------------- */

/* Lower case, trailing dots removed. */
static char *report_domain_norm(const char *d)
{
	char *s = g_ascii_strdown(d, -1);
	size_t n = strlen(s);

	while (n > 0 && s[n - 1] == '.')
		s[--n] = '\0';
	return s;
}

/* child equals parent or is below it (case-insensitive, trailing dot ignored). */
static gboolean report_domain_within(const char *child, const char *parent)
{
	g_autofree char *a = report_domain_norm(child), *b = report_domain_norm(parent);
	size_t la = strlen(a), lb = strlen(b);

	if (lb == 0 || la < lb || strcmp(a + la - lb, b) != 0)
		return FALSE;
	return la == lb || a[la - lb - 1] == '.';
}

/* The domain in contact-info: after the last '@', else a URL's host; or NULL. */
static char *report_contact_domain(const char *contact)
{
	const char *at = strrchr(contact, '@'), *start = NULL;
	g_autoptr(GUri) uri = NULL;
	size_t n = 0;

	if (at != NULL)
		start = at + 1;
	else if ((uri = g_uri_parse(contact, G_URI_FLAGS_NONE, NULL)) != NULL)
		start = g_uri_get_host(uri);
	if (start == NULL)
		return NULL;
	while (g_ascii_isalnum(start[n]) || start[n] == '.' || start[n] == '-' || start[n] == '_')
		n++;
	return n > 0 ? g_ascii_strdown(start, n) : NULL;
}

static gboolean report_domain_equal(const char *a, const char *b)
{
	g_autofree char *x = report_domain_norm(a), *y = report_domain_norm(b);

	return strcmp(x, y) == 0;
}

/* TLS-Report-Submitter should be the domain of contact-info or a parent. */
static void report_check_submitter(struct parse_ctx *c)
{
	const char *sub = c->hints->report_submitter;
	g_autofree char *contact = NULL, *q1 = NULL, *q2 = NULL;

	if (sub == NULL || *sub == '\0' || c->r->contact_info == NULL)
		return;
	contact = report_contact_domain(c->r->contact_info);
	if (contact == NULL || report_domain_within(contact, sub))
		return;
	q1 = report_quote(contact);
	q2 = report_quote(sub);
	report_warn(c, "contact-info", NULL, "domain %s does not match TLS-Report-Submitter %s", q1,
		    q2);
}

/* TLS-Report-Domain should be one of the policy-domains. */
static void report_check_domain(struct parse_ctx *c)
{
	const char *dom = c->hints->report_domain;
	g_autofree char *quoted = NULL;

	if (dom == NULL || *dom == '\0' || c->r->policies->len == 0)
		return;
	for (guint i = 0; i < c->r->policies->len; i++)
		if (report_domain_equal(g_array_index(c->r->policies, struct policy, i).domain,
					dom))
			return;
	quoted = report_quote(dom);
	report_warn(c, "policies", NULL, "no policy-domain matches TLS-Report-Domain %s", quoted);
}

/* ---- entry points ---------------------------------------------------- */

void report_init(struct report *r)
{
	memset(r, 0, sizeof(*r));
}

static void report_failure_clear(struct failure_detail *f)
{
	g_free(f->result_type);
	g_free(f->sending_mta_ip);
	g_free(f->receiving_mx_hostname);
	g_free(f->receiving_mx_helo);
	g_free(f->receiving_ip);
	g_free(f->additional_information);
	g_free(f->failure_reason_code);
	memset(f, 0, sizeof(*f));
}

static void report_policy_clear(struct policy *p)
{
	g_free(p->type);
	g_free(p->domain);
	g_free(p->sts_mode);
	if (p->strings != NULL)
		g_ptr_array_unref(p->strings);
	if (p->mx_hosts != NULL)
		g_ptr_array_unref(p->mx_hosts);
	for (guint i = 0; p->failures != NULL && i < p->failures->len; i++)
		report_failure_clear(&g_array_index(p->failures, struct failure_detail, i));
	if (p->failures != NULL)
		g_array_unref(p->failures);
	memset(p, 0, sizeof(*p));
}

void report_release(struct report *r)
{
	g_free(r->organization_name);
	g_free(r->report_id);
	g_free(r->contact_info);
	g_clear_pointer(&r->date_start, g_date_time_unref);
	g_clear_pointer(&r->date_end, g_date_time_unref);
	for (guint i = 0; r->policies != NULL && i < r->policies->len; i++)
		report_policy_clear(&g_array_index(r->policies, struct policy, i));
	g_clear_pointer(&r->policies, g_array_unref);
	g_clear_pointer(&r->warnings, g_ptr_array_unref);
	if (r->document != NULL)
		json_decref(r->document);
	report_init(r);
}

static int report_parse_root(struct parse_ctx *c, json_t *root)
{
	struct report *r = c->r;

	if (!json_is_object(root))
		return error_set(c->err, ERR_INPUT, "not a JSON object");
	if (report_check_limits(c, root) < 0 ||
	    report_req_string(c, root, NULL, "organization-name", TRUE, &r->organization_name) <
		    0 ||
	    report_parse_date_range(c, root) < 0 ||
	    report_opt_string(c, root, NULL, "contact-info", &r->contact_info) < 0 ||
	    report_req_string(c, root, NULL, "report-id", TRUE, &r->report_id) < 0 ||
	    report_parse_policies(c, root) < 0)
		return -1;
	report_check_submitter(c);
	report_check_domain(c);
	return 0;
}

static size_t report_limit_or(size_t v, size_t def)
{
	return v != 0 ? v : def;
}

/* jansson's allocations while a document loads. jansson goes on lexing
 * after an allocation fails (one 60 MiB string under max-parse-memory:
 * a failing malloc per byte, minutes of system time) and may then call the
 * failure a syntax error ("invalid token"). So the first failure makes
 * every later allocation of the load fail at once, and report_parse reads
 * the flag instead of guessing from the error text. */
static gboolean json_memory_out;

static void *report_json_malloc(size_t size)
{
	void *p = json_memory_out ? NULL : malloc(size);

	if (p == NULL)
		json_memory_out = TRUE;
	return p;
}

int report_parse(struct report *r, const char *buf, size_t len, const struct report_hints *hints,
		 const struct report_limits *limits, struct error *err)
{
	static const struct report_hints no_hints = { NULL, NULL };
	struct parse_ctx c = { r, hints ? hints : &no_hints, { 0, 0, 0, 0 }, err, 0, 0, NULL };
	g_autofree char *mended = NULL;
	json_error_t jerr;
	int rc = -1;

	if (limits != NULL)
		c.lim = *limits;
	c.lim.max_depth = report_limit_or(c.lim.max_depth, REPORT_DEFAULT_MAX_DEPTH);
	c.lim.max_policies =
		MIN(report_limit_or(c.lim.max_policies, REPORT_DEFAULT_MAX_POLICIES), G_MAXUINT);
	c.lim.max_failures =
		MIN(report_limit_or(c.lim.max_failures, REPORT_DEFAULT_MAX_FAILURES), G_MAXUINT);
	c.lim.max_string = report_limit_or(c.lim.max_string, REPORT_DEFAULT_MAX_STRING);
	if (buf == NULL)
		return error_set(err, ERR_INPUT, "invalid JSON: no data");
	r->warnings = g_ptr_array_new_with_free_func(g_free);
	/* Some writers put a byte order mark first; JSON forbids it (RFC 8259
	 * section 8.1) but allows a reader to ignore it, and the rest is a
	 * report. */
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
		buf += 3;
		len -= 3;
		report_warn(&c, "(document)", NULL,
			    "UTF-8 byte order mark before the JSON, ignored");
	}
	/* Bytes that are not UTF-8 (a raw NUL is left for jansson to refuse). */
	if (!g_utf8_validate_len(buf, len, NULL) && memchr(buf, '\0', len) == NULL) {
		mended = g_utf8_make_valid(buf, (gssize)len);
		buf = mended;
		len = strlen(mended);
		report_warn(&c, "(document)", NULL, "invalid UTF-8 replaced by U+FFFD");
	}
	json_set_alloc_funcs(report_json_malloc, free);
	json_memory_out = FALSE;
	r->document = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	if (json_memory_out) {
		json_decref(g_steal_pointer(&r->document));
		json_memory_out = FALSE;
		error_set(err, ERR_TEMP, "out of memory parsing the report's JSON (%zu bytes)",
			  len);
		goto fail;
	}
	if (r->document == NULL) {
		g_autofree char *text = report_sanitize(jerr.text, JSON_ERROR_TEXT_LENGTH);

		/* Not the report's fault: its parse is out of memory (contain.c
		 * judges whose fault that is). jansson 2.14 names only some of
		 * its allocation failures; the others leave the error blank
		 * (every syntax error has a text). */
		if (json_error_code(&jerr) == json_error_out_of_memory || jerr.text[0] == '\0')
			error_set(err, ERR_TEMP,
				  "out of memory parsing the report's JSON (%zu bytes)", len);
		else if (json_error_code(&jerr) == json_error_stack_overflow)
			error_set(err, ERR_INPUT,
				  "JSON nesting depth exceeds max-json-depth (%zu) at line %d",
				  c.lim.max_depth, jerr.line);
		else
			error_set(err, ERR_INPUT, "invalid JSON: %s (line %d, column %d)", text,
				  jerr.line, jerr.column);
		goto fail;
	}
	r->policies = g_array_new(FALSE, TRUE, sizeof(struct policy));
	if (report_parse_root(&c, r->document) < 0)
		goto fail;
	rc = 0;
fail:
	if (rc < 0)
		report_release(r);
	g_free(c.nul_first);
	return rc;
}
