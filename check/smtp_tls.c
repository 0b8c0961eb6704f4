/*
 * smtp_tls.c: what each MX host offers on port 25 (check.h).
 *
 * libcurl speaks the SMTP: EHLO, STARTTLS (required: CURLUSESSL_ALL),
 * EHLO again, NOOP, QUIT, with TLS 1.2 at the least and the certificate
 * verified for the MX host's name against the system's trust store (and
 * [check] ca-file). The probes run at once through one multi handle, at
 * most [check] parallel connections. A certificate that passes is read
 * for its expiry (CURLOPT_CERTINFO).
 */
#include <curl/curl.h>
#include <string.h>
#include <time.h>

#include "check/check.h"

#define EXPIRY_WARN_DAYS 21 /* a renewal that failed still has time to be fixed */

struct probe {
	char *host;
	char *address;
	char *why; /* the lookup's failure, when no probe runs */
	CURL *curl;
	struct curl_slist *resolve;
	char errbuf[CURL_ERROR_SIZE];
	gboolean done; /* libcurl said it ended, with rc */
	CURLcode rc;
};

static void probe_free(gpointer data)
{
	struct probe *p = data;

	if (p->curl != NULL)
		curl_easy_cleanup(p->curl);
	curl_slist_free_all(p->resolve);
	g_free(p->host);
	g_free(p->address);
	g_free(p->why);
	g_free(p);
}

static size_t probe_discard(char *data, size_t size, size_t n, void *user)
{
	return size * n;
}

/* An easy handle for host at address. */
static CURL *probe_handle(struct probe *p, const struct check_config *c)
{
	g_autofree char *url = g_strdup_printf("smtp://%s:25", p->host);
	g_autofree char *pin =
		g_strdup_printf("%s:25:%s%s%s", p->host, strchr(p->address, ':') ? "[" : "",
				p->address, strchr(p->address, ':') ? "]" : "");
	CURL *curl = curl_easy_init();

	if (curl == NULL)
		return NULL;
	p->resolve = curl_slist_append(NULL, pin);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_RESOLVE, p->resolve);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp");
	curl_easy_setopt(curl, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	curl_easy_setopt(curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "NOOP");
	curl_easy_setopt(curl, CURLOPT_CERTINFO, 1L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)c->timeout);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, p->errbuf);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, probe_discard);
	if (c->ca_file != NULL)
		curl_easy_setopt(curl, CURLOPT_CAINFO, c->ca_file);
	return curl;
}

/* The leaf certificate's "Expire date" (OpenSSL: "Mar  1 12:00:00 2027
 * GMT") as unix seconds, or 0. */
static gint64 probe_expiry(CURL *curl)
{
	struct curl_certinfo *info = NULL;
	struct tm tm;

	if (curl_easy_getinfo(curl, CURLINFO_CERTINFO, &info) != CURLE_OK || info == NULL ||
	    info->num_of_certs < 1)
		return 0;
	for (struct curl_slist *s = info->certinfo[0]; s != NULL; s = s->next) {
		const char *end;

		if (!g_str_has_prefix(s->data, "Expire date:"))
			continue;
		memset(&tm, 0, sizeof tm);
		end = strptime(s->data + 12, "%b %d %H:%M:%S %Y", &tm);
		if (end != NULL)
			return (gint64)timegm(&tm);
	}
	return 0;
}

/* What came of probe p. */
static void probe_judge(struct check_result *r, struct probe *p)
{
	gint64 expiry, days;

	if (p->why != NULL || !p->done) {
		check_add(r, "mx-tls", CHECK_FAIL, p->host, "%s",
			  p->why ? p->why : "the probe did not run");
		return;
	}
	if (p->rc == CURLE_USE_SSL_FAILED) {
		check_add(r, "mx-tls", CHECK_FAIL, p->host, "%s: STARTTLS is not offered",
			  p->address);
		return;
	}
	if (p->rc != CURLE_OK) {
		check_add(r, "mx-tls", CHECK_FAIL, p->host, "%s: %s%s", p->address,
			  *p->errbuf ? p->errbuf : curl_easy_strerror(p->rc),
			  p->rc == CURLE_SSL_CONNECT_ERROR ? " (TLS 1.2 or newer is needed)" : "");
		return;
	}
	expiry = probe_expiry(p->curl);
	days = expiry > 0 ? (expiry - r->checked_at) / 86400 : -1;
	if (days >= 0 && days < EXPIRY_WARN_DAYS)
		check_add(r, "mx-tls", CHECK_WARN, p->host,
			  "%s: STARTTLS, TLS 1.2 or newer, certificate valid, but it expires in "
			  "%" G_GINT64_FORMAT " day%s",
			  p->address, days, days == 1 ? "" : "s");
	else
		check_add(r, "mx-tls", CHECK_PASS, p->host,
			  "%s: STARTTLS, TLS 1.2 or newer, certificate valid for the "
			  "name%s%" G_GINT64_FORMAT "%s",
			  p->address, days >= 0 ? ", " : "", days >= 0 ? days : 0,
			  days >= 0 ? " days left" : "");
}

void check_mx_tls(struct dns *dns, const struct check_config *c, struct check_result *r)
{
	g_autoptr(GPtrArray) probes = g_ptr_array_new_with_free_func(probe_free);
	CURLM *multi = curl_multi_init();
	int running = 0;

	if (multi == NULL || r->mx_hosts->len == 0) {
		if (multi != NULL)
			curl_multi_cleanup(multi);
		return;
	}
	curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)c->parallel);
	for (guint i = 0; i < r->mx_hosts->len; i++) {
		struct probe *p = g_new0(struct probe, 1);
		g_autoptr(GPtrArray) addresses = NULL;

		p->host = g_strdup(g_ptr_array_index(r->mx_hosts, i));
		g_ptr_array_add(probes, p);
		if (dns_lookup_addresses(dns, p->host, &addresses, &p->why) != DNS_OK)
			continue;
		/* The first address, as a sender that gets through would use. */
		p->address = g_strdup(g_ptr_array_index(addresses, 0));
		if ((p->curl = probe_handle(p, c)) == NULL) {
			p->why = g_strdup("libcurl: cannot set up a probe");
			continue;
		}
		curl_easy_setopt(p->curl, CURLOPT_PRIVATE, p);
		if (curl_multi_add_handle(multi, p->curl) != CURLM_OK)
			p->why = g_strdup("libcurl: cannot start the probe");
	}
	do {
		CURLMsg *msg;
		int left;

		curl_multi_perform(multi, &running);
		while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
			struct probe *p = NULL;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&p);
			p->rc = msg->data.result;
			p->done = TRUE;
		}
		if (running > 0)
			curl_multi_poll(multi, NULL, 0, 1000, NULL);
	} while (running > 0);
	for (guint i = 0; i < probes->len; i++) {
		struct probe *p = g_ptr_array_index(probes, i);

		probe_judge(r, p);
		if (p->curl != NULL)
			curl_multi_remove_handle(multi, p->curl);
	}
	curl_multi_cleanup(multi);
}
