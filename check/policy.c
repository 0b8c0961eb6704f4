/*
 * policy.c: the MTA-STS policy file and the MX hosts it must cover
 * (check.h).
 *
 * Fetched as RFC 8461 3.3 tells senders to: HTTPS to mta-sts.DOMAIN, the
 * certificate valid for that name, no redirect followed, 200 only,
 * text/plain, at most 64 KiB. The name is resolved through [dns] and
 * handed to libcurl (CURLOPT_RESOLVE), so that the check sees what the
 * configured resolver sees.
 */
#include <curl/curl.h>
#include <string.h>

#include "check/check.h"

#define POLICY_MAX    (64 * 1024) /* RFC 8461 3.3: senders may stop reading here */
#define MAX_AGE_LIMIT 31557600	  /* RFC 8461 3.2: about a year */
#define TESTING_MIN   604800	  /* one week: a test that lasts long enough */
#define TESTING_MAX   1209600	  /* two weeks */
#define ENFORCE_MIN   86400	  /* a day: shorter makes the policy moot */

void sts_policy_free(struct sts_policy *p)
{
	if (p == NULL)
		return;
	g_free(p->text);
	g_free(p->mode);
	g_ptr_array_unref(p->mx);
	g_free(p);
}

static size_t policy_write(char *data, size_t size, size_t n, void *user)
{
	GByteArray *body = user;
	gsize len = size * n;

	/* One byte past the cap is kept, to say "larger"; returning less
	 * than was given stops the transfer (CURLE_WRITE_ERROR). */
	if (body->len + len > POLICY_MAX) {
		g_byte_array_append(body, (const guint8 *)data,
				    (guint)(POLICY_MAX + 1 - body->len));
		return 0;
	}
	g_byte_array_append(body, (const guint8 *)data, (guint)len);
	return len;
}

/* GET url with host resolved to address; the body in *body. Returns the
 * libcurl result, the status and Content-Type in *status and *type. */
static CURLcode policy_get(const struct check_config *c, const char *url, const char *host,
			   const char *address, GByteArray *body, long *status, char **type,
			   char *errbuf)
{
	g_autofree char *pin =
		g_strdup_printf("%s:443:%s%s%s", host, strchr(address, ':') ? "[" : "", address,
				strchr(address, ':') ? "]" : "");
	struct curl_slist *resolve = curl_slist_append(NULL, pin);
	CURL *curl = curl_easy_init();
	char *ctype = NULL;
	CURLcode rc;

	if (curl == NULL) {
		curl_slist_free_all(resolve);
		return CURLE_OUT_OF_MEMORY;
	}
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_RESOLVE, resolve);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)c->timeout);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "tlswatch-check");
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, policy_write);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
	if (c->ca_file != NULL)
		curl_easy_setopt(curl, CURLOPT_CAINFO, c->ca_file);
	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
	curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &ctype);
	*type = g_strdup(ctype);
	curl_easy_cleanup(curl);
	curl_slist_free_all(resolve);
	return rc;
}

/* Read text as a policy into a new struct sts_policy, adding a finding
 * for each fault. */
static struct sts_policy *policy_read(struct check_result *r, const char *url, const char *text)
{
	struct sts_policy *p = g_new0(struct sts_policy, 1);
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	gboolean first = TRUE;
	guint64 age = 0;

	p->text = g_strdup(text);
	p->mx = g_ptr_array_new_with_free_func(g_free);
	p->max_age = -1;
	for (gsize i = 0; lines[i] != NULL; i++) {
		char *line = lines[i];
		char *colon = strchr(line, ':');
		char *key, *value;

		if (*line != '\0' && line[strlen(line) - 1] == '\r')
			line[strlen(line) - 1] = '\0';
		if (*line == '\0')
			continue;
		if (colon == NULL) {
			check_add(r, "policy", CHECK_FAIL, url, "line %zu is not key: value: %s",
				  i + 1, line);
			first = FALSE;
			continue;
		}
		*colon = '\0';
		key = line;
		value = g_strstrip(colon + 1);
		if (first && !(g_str_equal(key, "version") && g_str_equal(value, "STSv1")))
			check_add(r, "policy", CHECK_FAIL, url,
				  "the first line must be version: STSv1");
		first = FALSE;
		if (g_str_equal(key, "mode")) {
			g_free(p->mode);
			p->mode = g_strdup(value);
		} else if (g_str_equal(key, "mx")) {
			g_ptr_array_add(p->mx, g_ascii_strdown(value, -1));
		} else if (g_str_equal(key, "max_age")) {
			p->max_age =
				g_ascii_string_to_unsigned(value, 10, 0, MAX_AGE_LIMIT, &age, NULL)
					? (gint64)age
					: -1;
			if (p->max_age < 0)
				check_add(r, "policy", CHECK_FAIL, url,
					  "max_age %s: a whole number of seconds up to %d", value,
					  MAX_AGE_LIMIT);
		}
	}
	if (p->mode == NULL || (!g_str_equal(p->mode, "enforce") &&
				!g_str_equal(p->mode, "testing") && !g_str_equal(p->mode, "none")))
		check_add(r, "policy", CHECK_FAIL, url, "mode %s: enforce, testing or none",
			  p->mode ? p->mode : "missing");
	if (p->mx->len == 0 && p->mode != NULL && !g_str_equal(p->mode, "none"))
		check_add(r, "policy", CHECK_FAIL, url, "no mx: no MX host is allowed");
	return p;
}

/* max_age within what the mode wants. */
static void policy_max_age(struct check_result *r, const struct sts_policy *p, const char *url)
{
	if (p->max_age < 0) {
		if (strstr(p->text, "max_age") == NULL)
			check_add(r, "policy", CHECK_FAIL, url, "no max_age");
		return;
	}
	if (g_strcmp0(p->mode, "testing") == 0 &&
	    (p->max_age < TESTING_MIN || p->max_age > TESTING_MAX))
		check_add(r, "policy", CHECK_WARN, url,
			  "max_age %" G_GINT64_FORMAT
			  ": under testing, one to two weeks (%d to %d) is usual",
			  p->max_age, TESTING_MIN, TESTING_MAX);
	if (g_strcmp0(p->mode, "enforce") == 0 && p->max_age < ENFORCE_MIN)
		check_add(r, "policy", CHECK_WARN, url,
			  "max_age %" G_GINT64_FORMAT ": under enforce, at least a day (%d)",
			  p->max_age, ENFORCE_MIN);
}

void check_policy(struct dns *dns, const struct check_config *c, struct check_result *r)
{
	g_autofree char *host = g_strdup_printf("mta-sts.%s", r->domain);
	g_autofree char *url = g_strdup_printf("https://%s/.well-known/mta-sts.txt", host);
	g_autoptr(GPtrArray) addresses = NULL;
	g_autoptr(GByteArray) body = g_byte_array_new();
	g_autofree char *why = NULL, *type = NULL, *text = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURLcode rc;
	guint before = r->findings->len;

	if (dns_lookup_addresses(dns, host, &addresses, &why) != DNS_OK) {
		check_add(r, "policy", CHECK_FAIL, url, "%s", why);
		return;
	}
	rc = policy_get(c, url, host, g_ptr_array_index(addresses, 0), body, &status, &type,
			errbuf);
	if (rc == CURLE_WRITE_ERROR && body->len > POLICY_MAX) {
		check_add(r, "policy", CHECK_FAIL, url, "larger than %d bytes", POLICY_MAX);
		return;
	}
	if (rc != CURLE_OK) {
		check_add(r, "policy", CHECK_FAIL, url, "%s",
			  *errbuf ? errbuf : curl_easy_strerror(rc));
		return;
	}
	if (status != 200) {
		check_add(r, "policy", CHECK_FAIL, url,
			  "HTTP %ld%s: senders accept 200 only, and follow no redirect", status,
			  status >= 300 && status < 400 ? " (a redirect)" : "");
		return;
	}
	if (type == NULL || g_ascii_strncasecmp(type, "text/plain", 10) != 0 ||
	    (type[10] != '\0' && type[10] != ';' && type[10] != ' '))
		check_add(r, "policy", CHECK_FAIL, url, "Content-Type %s: text/plain is needed",
			  type ? type : "missing");
	if (memchr(body->data, '\0', body->len) != NULL ||
	    !g_utf8_validate((const char *)body->data, (gssize)body->len, NULL)) {
		check_add(r, "policy", CHECK_FAIL, url, "not text");
		return;
	}
	text = g_strndup((const char *)body->data, body->len);
	r->policy = policy_read(r, url, text);
	policy_max_age(r, r->policy, url);
	if (r->findings->len == before)
		check_add(r, "policy", CHECK_PASS, url,
			  "mode %s, max_age %" G_GINT64_FORMAT ", %u mx", r->policy->mode,
			  r->policy->max_age, r->policy->mx->len);
}

gboolean check_mx_matches(const char *pattern, const char *host)
{
	const char *dot;

	if (g_ascii_strcasecmp(pattern, host) == 0)
		return TRUE;
	/* "*.example.com" stands for exactly one label (RFC 8461 4.1). */
	if (!g_str_has_prefix(pattern, "*.") || (dot = strchr(host, '.')) == NULL || dot == host)
		return FALSE;
	return g_ascii_strcasecmp(pattern + 1, dot) == 0;
}

void check_mx_coverage(struct dns *dns, struct check_result *r)
{
	g_autoptr(GPtrArray) hosts = NULL;
	g_autofree char *why = NULL;
	gboolean enforce = r->policy && g_strcmp0(r->policy->mode, "enforce") == 0;

	if (dns_lookup_mx(dns, r->domain, &hosts, &why) != DNS_OK) {
		check_add(r, "mx-coverage", CHECK_FAIL, r->domain, "%s", why);
		return;
	}
	for (guint i = 0; i < hosts->len; i++)
		g_ptr_array_add(r->mx_hosts, g_ascii_strdown(g_ptr_array_index(hosts, i), -1));
	if (r->policy == NULL || g_strcmp0(r->policy->mode, "none") == 0)
		return;
	for (guint i = 0; i < r->mx_hosts->len; i++) {
		const char *host = g_ptr_array_index(r->mx_hosts, i);
		const char *by = NULL;

		for (guint j = 0; j < r->policy->mx->len && by == NULL; j++) {
			if (check_mx_matches(g_ptr_array_index(r->policy->mx, j), host))
				by = g_ptr_array_index(r->policy->mx, j);
		}
		if (by != NULL)
			check_add(r, "mx-coverage", CHECK_PASS, host, "covered by mx: %s", by);
		else
			check_add(r, "mx-coverage", enforce ? CHECK_FAIL : CHECK_WARN, host,
				  "not covered by any mx of the policy: %s",
				  enforce ? "senders refuse to deliver to it"
					  : "under enforce, senders would refuse it");
	}
}
