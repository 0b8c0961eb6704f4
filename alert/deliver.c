/*
 * deliver.c: one HTTP POST with libcurl, and the HMAC that signs it.
 * The outcome is three-way because the outbox needs it: sent (2xx),
 * worth retrying (no connection, timeout, 5xx, 429) or never going to
 * work (any other status: the receiver rejected this payload). Reasons
 * never contain the URL: webhook URLs are secrets (Slack's are tokens).
 */
#include <string.h>

#include <curl/curl.h>

#include "alert/alert.h"

#define MAX_RESPONSE 512 /* bytes of the receiver's answer kept in last_error */

char *alert_signature(const char *secret, gint64 timestamp, const char *body)
{
	g_autofree char *signed_text = g_strdup_printf("%" G_GINT64_FORMAT ".%s", timestamp, body);
	g_autofree char *hex = g_compute_hmac_for_string(G_CHECKSUM_SHA256, (const guchar *)secret,
							 strlen(secret), signed_text, -1);

	return g_strdup_printf("sha256=%s", hex);
}

/* Keep the first MAX_RESPONSE bytes of the answer; read the rest away. */
static size_t deliver_sink(char *data, size_t size, size_t n, void *arg)
{
	GString *s = arg;
	size_t len = size * n;

	if (s->len < MAX_RESPONSE)
		g_string_append_len(s, data, (gssize)MIN(len, MAX_RESPONSE - s->len));
	return len;
}

static struct curl_slist *deliver_headers(const struct alert_webhook *w, const char *body,
					  gint64 timestamp)
{
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");

	h = curl_slist_append(h, "Expect:");
	if (w->secret != NULL && w->format == ALERT_FORMAT_GENERIC) {
		g_autofree char *sig = alert_signature(w->secret, timestamp, body);
		g_autofree char *l1 = g_strdup_printf("X-Tlswatch-Signature: %s", sig);
		g_autofree char *l2 =
			g_strdup_printf("X-Tlswatch-Timestamp: %" G_GINT64_FORMAT, timestamp);

		h = curl_slist_append(h, l1);
		h = curl_slist_append(h, l2);
	}
	return h;
}

/* The outcome of a finished transfer, as alert_deliver describes it. */
static int deliver_outcome(CURLcode rc, long status, GString *answer, gboolean *retry, char **why)
{
	g_strdelimit(answer->str, "\r\n\t", ' ');
	if (rc != CURLE_OK) {
		*retry = TRUE;
		*why = g_strdup_printf("webhook not reached: %s", curl_easy_strerror(rc));
		return -1;
	}
	if (status >= 200 && status < 300)
		return 0;
	g_autofree char *text = g_utf8_make_valid(answer->str, -1);

	*retry = status >= 500 || status == 429;
	*why = g_strdup_printf("webhook answered HTTP %ld: %s", status, text);
	return -1;
}

int alert_deliver(const struct alert_webhook *w, const char *body, gint64 timestamp,
		  gboolean *retry, char **why)
{
	CURL *curl = curl_easy_init();
	struct curl_slist *headers = NULL;
	GString *answer = g_string_new(NULL);
	long status = 0;
	CURLcode rc;
	int ret;

	*retry = TRUE;
	*why = NULL;
	if (curl == NULL) {
		*why = g_strdup("webhook: cannot start libcurl");
		ret = -1;
		goto out;
	}
	headers = deliver_headers(w, body, timestamp);
	curl_easy_setopt(curl, CURLOPT_URL, w->url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)w->timeout);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "tlswatch");
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, deliver_sink);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, answer);
	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	ret = deliver_outcome(rc, status, answer, retry, why);
out:
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	g_string_free(answer, TRUE);
	return ret;
}
