/*
 * http.c: the HTTPS receiver of `tlswatch serve`, for `rua=https:` (RFC
 * 8460, 3): a reporter POSTs one report, application/tlsrpt+gzip or
 * application/tlsrpt+json, to the URL the domain published. One worker
 * process runs one libmicrohttpd daemon (mhd.c) on one listener it
 * inherited from the master. The body goes through the pipe's path as a
 * bare report (deliver.c).
 *
 * Replies: 201 stored, 200 duplicate, 400 not a report (kept in
 * quarantine with its reason: nothing is lost), 413 a body over
 * max-message-size, 415 another type, 404 another path when https-path
 * is set, 405 another method, 429 with Retry-After past [serve]
 * http-rate (rate.c), 503 with Retry-After when nothing could be
 * committed (the reporter retries), and also when the bodies this worker
 * holds at once would pass twice max-message-size (a few slow clients
 * must not make it hold connections × max-message-size). libmicrohttpd
 * holds the other caps on the wire: header memory, connections per
 * client address, idle time.
 */
#include <netinet/in.h>
#include <string.h>

#include <gio/gio.h>
#include <microhttpd.h>

#include "common/log.h"
#include "serve/serve.h"

#define HTTP_HEADER_MEMORY (32 * 1024)
#define HTTP_RETRY_AFTER   300

struct http_worker {
	const struct serve_config *sc;
	const char *scheme; /* "http" or "https" */
	struct serve_ingest si;
	guint64 held; /* bytes of request bodies held by this worker now */
};

struct http_request {
	struct http_worker *w;
	GByteArray *body;
	gboolean too_big;
	gboolean too_busy; /* the worker's body budget was spent: 503 */
};

/* The reply, with Retry-After when retry_after (seconds) is not 0. */
static enum MHD_Result http_reply_after(struct MHD_Connection *c, unsigned int code,
					const char *text, guint retry_after)
{
	g_autofree char *body = g_strdup_printf("%s\n", text);
	g_autofree char *after = g_strdup_printf("%u", retry_after);
	struct MHD_Response *r =
		MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result rc;

	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (retry_after > 0)
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, after);
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "POST");
	rc = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return rc;
}

/* The reply; a 503 says when to come back. */
static enum MHD_Result http_reply(struct MHD_Connection *c, unsigned int code, const char *text)
{
	return http_reply_after(c, code, text,
				code == MHD_HTTP_SERVICE_UNAVAILABLE ? HTTP_RETRY_AFTER : 0);
}

/* The media type of the request without its parameters, lower case; a
 * new string, NULL when there is none. */
static char *http_media_type(struct MHD_Connection *c)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
	const char *semi;

	if (v == NULL)
		return NULL;
	semi = strchr(v, ';');
	return g_strstrip(g_ascii_strdown(v, semi ? semi - v : -1));
}

/* The client's address (a new reference the caller unrefs), NULL when
 * unknown. */
static GInetAddress *http_client_address(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	g_autoptr(GSocketAddress) sa = NULL;

	if (ci == NULL || ci->client_addr == NULL)
		return NULL;
	sa = g_socket_address_new_from_native(ci->client_addr,
					      ci->client_addr->sa_family == AF_INET6
						      ? sizeof(struct sockaddr_in6)
						      : sizeof(struct sockaddr_in));
	if (sa == NULL || !G_IS_INET_SOCKET_ADDRESS(sa))
		return NULL;
	return g_object_ref(g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(sa)));
}

/* The client's address as text (a new string), NULL when unknown. */
static char *http_client(struct MHD_Connection *c)
{
	g_autoptr(GInetAddress) a = http_client_address(c);

	return a != NULL ? g_inet_address_to_string(a) : NULL;
}

/* Seconds until the client may POST again under [serve] http-rate, 0
 * when it may now. An IPv4 address is counted as its IPv6 mapping
 * (::ffff:a.b.c.d), so that it is one client whichever way it came. */
static guint http_rate_wait(struct http_worker *w, struct MHD_Connection *c)
{
	g_autoptr(GInetAddress) a = http_client_address(c);
	guint8 key[16] = { [10] = 0xff, [11] = 0xff };

	if (a == NULL)
		return 0;
	if (g_inet_address_get_family(a) == G_SOCKET_FAMILY_IPV6)
		memcpy(key, g_inet_address_to_bytes(a), 16);
	else
		memcpy(key + 12, g_inet_address_to_bytes(a), 4);
	return serve_rate_take(key, w->sc->http_rate);
}

/* The headers are in: refuse what is not a report POST to our path. */
static enum MHD_Result http_begin(struct http_worker *w, struct MHD_Connection *c, const char *url,
				  const char *method, void **con_cls)
{
	g_autofree char *type = http_media_type(c);
	const char *length = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
	guint64 n = 0;
	guint wait;
	struct http_request *req;

	if (!g_str_equal(method, MHD_HTTP_METHOD_POST))
		return http_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED,
				  "POST a TLS report here (RFC 8460)");
	if (w->sc->https_path != NULL && !g_str_equal(url, w->sc->https_path))
		return http_reply(c, MHD_HTTP_NOT_FOUND, "no report endpoint at this path");
	if (type == NULL || (!g_str_equal(type, "application/tlsrpt+gzip") &&
			     !g_str_equal(type, "application/tlsrpt+json")))
		return http_reply(c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
				  "expected application/tlsrpt+gzip or application/tlsrpt+json");
	if (length != NULL && g_ascii_string_to_unsigned(length, 10, 0, G_MAXUINT64, &n, NULL) &&
	    n > w->si.cfg->max_message_size)
		return http_reply(c, MHD_HTTP_CONTENT_TOO_LARGE, "larger than max-message-size");
	/* Counted once the POST is one the ingest path would take: every
	 * such POST writes to the database. */
	if ((wait = http_rate_wait(w, c)) > 0)
		return http_reply_after(c, MHD_HTTP_TOO_MANY_REQUESTS,
					"too many reports from this address: try again later",
					wait);
	req = g_new0(struct http_request, 1);
	req->w = w;
	req->body = g_byte_array_new();
	*con_cls = req;
	return MHD_YES;
}

/* The whole body is in: the ingest path, and the reply it calls for. */
static enum MHD_Result http_end(struct http_worker *w, struct MHD_Connection *c,
				struct http_request *req)
{
	g_autoptr(GBytes) raw = g_bytes_new(req->body->data, req->body->len);
	g_autofree char *client = http_client(c), *text = NULL;
	/* No slash in it: ingest takes its last path element as the name. */
	g_autofree char *input = g_strdup_printf("%s POST from %s", w->scheme,
						 client ? client : "an unknown address");
	struct ingest_source src = {
		.input = input,
		.channel = w->scheme,
		.client = client,
		.user_agent = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "User-Agent"),
	};
	enum message_status status = MESSAGE_QUARANTINED;

	if (req->too_big)
		return http_reply(c, MHD_HTTP_CONTENT_TOO_LARGE, "larger than max-message-size");
	if (req->too_busy)
		return http_reply(c, MHD_HTTP_SERVICE_UNAVAILABLE,
				  "too many reports in transit at once: try again later");
	if (serve_ingest(&w->si, raw, FALSE, TRUE, &src, &status, &text) < 0)
		return http_reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, text);
	switch (status) {
	case MESSAGE_STORED:
		return http_reply(c, MHD_HTTP_CREATED, text);
	case MESSAGE_DUPLICATE:
		return http_reply(c, MHD_HTTP_OK, text);
	case MESSAGE_QUARANTINED:
		break;
	}
	return http_reply(c, MHD_HTTP_BAD_REQUEST, text);
}

static enum MHD_Result http_handle(void *cls, struct MHD_Connection *c, const char *url,
				   const char *method, const char *version, const char *upload_data,
				   size_t *upload_size, void **con_cls)
{
	struct http_worker *w = cls;
	struct http_request *req = *con_cls;

	(void)version;
	if (req == NULL)
		return http_begin(w, c, url, method, con_cls);
	if (*upload_size > 0) {
		/* Past a cap the rest is read and dropped, so that the client
		 * gets its 413 or 503 instead of a reset connection. */
		if (!req->too_big && req->body->len + *upload_size > w->si.cfg->max_message_size)
			req->too_big = TRUE;
		else if (w->held + *upload_size > 2 * w->si.cfg->max_message_size)
			req->too_busy = TRUE;
		if (req->too_big || req->too_busy) {
			w->held -= req->body->len;
			g_byte_array_set_size(req->body, 0);
		} else {
			g_byte_array_append(req->body, (const guint8 *)upload_data,
					    (guint)*upload_size);
			w->held += *upload_size;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	return http_end(w, c, req);
}

static void http_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			   enum MHD_RequestTerminationCode why)
{
	struct http_request *req = *con_cls;

	(void)cls;
	(void)c;
	(void)why;
	if (req == NULL)
		return;
	req->w->held -= req->body->len;
	g_byte_array_unref(req->body);
	g_free(req);
	*con_cls = NULL;
}

int serve_http_run(const struct config *cfg, const struct serve_config *sc, GSocket *listener,
		   gboolean tls, volatile sig_atomic_t *stop)
{
	struct http_worker w = { .sc = sc, .scheme = tls ? "https" : "http" };
	struct MHD_OptionItem opts[] = {
		{ MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)sc->idle_timeout, NULL },
		{ MHD_OPTION_CONNECTION_LIMIT, (intptr_t)sc->http_connections, NULL },
		{ MHD_OPTION_PER_IP_CONNECTION_LIMIT, (intptr_t)sc->http_per_client, NULL },
		{ MHD_OPTION_CONNECTION_MEMORY_LIMIT, HTTP_HEADER_MEMORY, NULL },
		{ MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)http_completed, NULL },
		{ tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, sc->key_pem },
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, sc->certificate_pem },
		{ MHD_OPTION_END, 0, NULL },
	};
	g_autofree char *what = g_strdup_printf("%s receiver", w.scheme);
	struct MHD_Daemon *d = NULL;
	struct error err = ERROR_INIT;
	int rc = 75;

	serve_ingest_init(&w.si, cfg, tls ? SERVE_HTTPS_CHANNEL : SERVE_HTTP_CHANNEL);
	if (ingest_parser_start(&w.si.ctx, &err) < 0) {
		log_error("%s", err.msg);
		error_clear(&err);
		goto out;
	}
	/* Without TLS the list ends before the key and certificate. */
	d = serve_mhd_start(listener, tls ? MHD_USE_TLS : MHD_NO_FLAG, http_handle, &w, opts, what);
	if (d == NULL)
		goto out;
	serve_mhd_run(d, &w.si, stop);
	rc = 0;
out:
	serve_ingest_release(&w.si);
	return rc;
}
