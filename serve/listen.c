/*
 * listen.c: the listening sockets of `tlswatch serve`, opened by the
 * master before it starts the workers, which inherit them and take turns
 * accepting (each polls, then accepts without blocking: whoever loses the
 * race goes back to polling).
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>

#include "serve/serve.h"

/* "127.0.0.1:2424", "[::1]:2424" (after "inet:"): a numeric address to
 * bind, a new object the caller unrefs; NULL when it is not one. */
static GSocketAddress *listen_inet_address(const char *spec)
{
	const char *colon = spec ? strrchr(spec, ':') : NULL;
	g_autofree char *host = NULL;
	guint64 port = 0;

	if (colon == NULL || !g_ascii_string_to_unsigned(colon + 1, 10, 1, 65535, &port, NULL))
		return NULL;
	if (colon - spec >= 2 && spec[0] == '[' && colon[-1] == ']')
		host = g_strndup(spec + 1, (gsize)(colon - spec - 2));
	else
		host = g_strndup(spec, (gsize)(colon - spec));
	return g_inet_socket_address_new_from_string(host, (guint)port);
}

/* Whether a process accepts connections on the Unix socket at addr. */
static gboolean listen_socket_live(GSocketAddress *addr)
{
	g_autoptr(GSocket) probe = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
						G_SOCKET_PROTOCOL_DEFAULT, NULL);

	return probe != NULL && g_socket_connect(probe, addr, NULL, NULL);
}

/* A stale socket from a run that did not end cleanly is replaced. One
 * that a process still accepts on (another serve) is ERR_TEMP: taking
 * its path over would leave it serving nobody, and the MTA delivering to
 * whichever started last. Any other file at the path is left alone (bind
 * then fails, naming it). */
static int listen_remove_stale(const char *spec, GSocketAddress *addr, struct error *err)
{
	const char *path = spec + 5;
	struct stat st;

	if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
		return 0;
	if (listen_socket_live(addr))
		return error_set(err, ERR_TEMP,
				 "[serve] lmtp: %s: in use: another tlswatch serve listens there",
				 spec);
	unlink(path);
	return 0;
}

/* The listener spec ("unix:/path", "inet:address:port") of key, bound
 * and listening: a new GSocket the caller unrefs, or NULL with err. */
static GSocket *listen_one(const char *spec, const char *key, struct error *err)
{
	g_autoptr(GSocketAddress) addr = NULL;
	g_autoptr(GSocket) sock = NULL;
	g_autoptr(GError) gerr = NULL;
	const char *path = g_str_has_prefix(spec, "unix:") ? spec + 5 : NULL;

	if (path != NULL) {
		addr = g_unix_socket_address_new(path);
		if (listen_remove_stale(spec, addr, err) < 0)
			return NULL;
	} else {
		addr = listen_inet_address(spec + 5);
	}
	if (addr == NULL) {
		error_set(err, ERR_CONFIG, "[serve] %s: not an address: '%s'", key, spec);
		return NULL;
	}
	sock = g_socket_new(g_socket_address_get_family(addr), G_SOCKET_TYPE_STREAM,
			    G_SOCKET_PROTOCOL_DEFAULT, &gerr);
	if (sock == NULL || !g_socket_bind(sock, addr, TRUE, &gerr) ||
	    !g_socket_listen(sock, &gerr)) {
		error_set(err, ERR_TEMP, "[serve] %s: %s: %s", key, spec, gerr->message);
		return NULL;
	}
	if (path != NULL && chmod(path, 0666) < 0) {
		error_set(err, ERR_TEMP, "[serve] %s: %s: %s", key, spec, g_strerror(errno));
		return NULL;
	}
	g_socket_set_blocking(sock, FALSE);
	return g_steal_pointer(&sock);
}

/* http or https = ADDRESS:PORT (NULL: none) */
static int listen_http(const char *spec, const char *key, GSocket **out, struct error *err)
{
	g_autofree char *inet = NULL;

	if (spec == NULL)
		return 0;
	inet = g_strconcat("inet:", spec, NULL);
	*out = listen_one(inet, key, err);
	return *out != NULL ? 0 : -1;
}

int serve_listen(const struct serve_config *c, struct serve_listeners *out, struct error *err)
{
	*out = (struct serve_listeners){ .lmtp = g_ptr_array_new_with_free_func(g_object_unref) };
	for (gsize i = 0; c->lmtp != NULL && c->lmtp[i] != NULL; i++) {
		GSocket *s = listen_one(c->lmtp[i], "lmtp", err);

		if (s == NULL)
			goto fail;
		g_ptr_array_add(out->lmtp, s);
	}
	if (listen_http(c->http, "http", &out->http, err) < 0 ||
	    listen_http(c->https, "https", &out->https, err) < 0 ||
	    listen_http(c->metrics, "metrics", &out->metrics, err) < 0)
		goto fail;
	return 0;
fail:
	serve_listeners_release(out);
	return -1;
}

void serve_listeners_release(struct serve_listeners *l)
{
	g_clear_pointer(&l->lmtp, g_ptr_array_unref);
	g_clear_object(&l->http);
	g_clear_object(&l->https);
	g_clear_object(&l->metrics);
}

void serve_unlisten(const struct serve_config *c)
{
	struct stat st;

	for (gsize i = 0; c->lmtp != NULL && c->lmtp[i] != NULL; i++) {
		const char *path = c->lmtp[i] + 5;

		if (g_str_has_prefix(c->lmtp[i], "unix:") && lstat(path, &st) == 0 &&
		    S_ISSOCK(st.st_mode))
			unlink(path);
	}
}
