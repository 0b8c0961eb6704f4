/*
 * lmtp.c: an LMTP load client for `make bench`.
 *
 * bench/lmtp SOCKET SESSIONS FILE...
 *
 * SESSIONS threads each open one session on the Unix socket SOCKET and
 * deliver their share of the FILEs (messages), one after the other: MAIL,
 * RCPT and DATA pipelined, the message after the 354, then the reply. The
 * latency of a message is from its last byte sent to its reply. Prints
 * "MESSAGES SECONDS P50-MS P99-MS" and exits 1 if any reply was not 250.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>

struct session {
	const char *socket;
	char **files;
	guint n_files, first, step;
	GArray *latency; /* double, seconds */
	gboolean failed;
};

/* Read one reply (its last line); NULL when the server is gone. */
static char *read_reply(GDataInputStream *in)
{
	for (;;) {
		char *line = g_data_input_stream_read_line(in, NULL, NULL, NULL);

		if (line == NULL || strlen(line) < 4 || line[3] == ' ')
			return line;
		g_free(line);
	}
}

static gboolean expect(GDataInputStream *in, const char *code)
{
	g_autofree char *r = read_reply(in);

	if (r == NULL || strncmp(r, code, 3) != 0) {
		fprintf(stderr, "bench/lmtp: wanted %s, got %s\n", code, r ? r : "(closed)");
		return FALSE;
	}
	return TRUE;
}

static gboolean say(GOutputStream *out, const char *s, gsize len)
{
	return g_output_stream_write_all(out, s, len, NULL, NULL, NULL);
}

/* The message with CRLF line ends and leading dots doubled, then ".". */
static GString *stuffed(const char *path)
{
	g_autofree char *text = NULL;
	gsize len = 0;
	GString *s = g_string_new(NULL);

	if (!g_file_get_contents(path, &text, &len, NULL))
		return s;
	for (gsize i = 0; i < len; i++) {
		if ((i == 0 || text[i - 1] == '\n') && text[i] == '.')
			g_string_append_c(s, '.');
		if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r'))
			g_string_append_c(s, '\r');
		g_string_append_c(s, text[i]);
	}
	if (s->len > 0 && s->str[s->len - 1] != '\n')
		g_string_append(s, "\r\n");
	g_string_append(s, ".\r\n");
	return s;
}

static gpointer session_run(gpointer data)
{
	struct session *s = data;
	g_autoptr(GSocketClient) client = g_socket_client_new();
	g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(s->socket);
	g_autoptr(GSocketConnection) conn =
		g_socket_client_connect(client, G_SOCKET_CONNECTABLE(addr), NULL, NULL);
	GDataInputStream *in;
	GOutputStream *out;
	static const char env[] =
		"MAIL FROM:<bench@example.org>\r\nRCPT TO:<tlsrpt@example.com>\r\n"
		"DATA\r\n";

	if (conn == NULL) {
		s->failed = TRUE;
		return NULL;
	}
	in = g_data_input_stream_new(g_io_stream_get_input_stream(G_IO_STREAM(conn)));
	g_data_input_stream_set_newline_type(in, G_DATA_STREAM_NEWLINE_TYPE_CR_LF);
	out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
	if (!expect(in, "220") || !say(out, "LHLO bench\r\n", 12) || !expect(in, "250"))
		goto fail;
	for (guint i = s->first; i < s->n_files; i += s->step) {
		g_autoptr(GString) msg = stuffed(s->files[i]);
		gint64 t0;
		double dt;

		if (!say(out, env, sizeof env - 1) || !expect(in, "250") || !expect(in, "250") ||
		    !expect(in, "354") || !say(out, msg->str, msg->len))
			goto fail;
		t0 = g_get_monotonic_time();
		if (!expect(in, "250"))
			goto fail;
		dt = (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
		g_array_append_val(s->latency, dt);
	}
	say(out, "QUIT\r\n", 6);
	g_object_unref(in);
	return NULL;
fail:
	s->failed = TRUE;
	g_object_unref(in);
	return NULL;
}

static int cmp_double(gconstpointer a, gconstpointer b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	guint sessions;
	struct session *s;
	GThread **threads;
	g_autoptr(GArray) all = g_array_new(FALSE, FALSE, sizeof(double));
	gboolean failed = FALSE;
	gint64 start;
	double secs;

	if (argc < 4 || (sessions = (guint)strtoul(argv[2], NULL, 10)) == 0) {
		fprintf(stderr, "usage: bench/lmtp SOCKET SESSIONS FILE...\n");
		return 2;
	}
	s = g_new0(struct session, sessions);
	threads = g_new0(GThread *, sessions);
	start = g_get_monotonic_time();
	for (guint i = 0; i < sessions; i++) {
		s[i] = (struct session){
			argv[1], argv + 3, (guint)argc - 3,
			i,	 sessions, g_array_new(FALSE, FALSE, sizeof(double)),
			FALSE
		};
		threads[i] = g_thread_new("session", session_run, &s[i]);
	}
	for (guint i = 0; i < sessions; i++) {
		g_thread_join(threads[i]);
		failed |= s[i].failed;
		g_array_append_vals(all, s[i].latency->data, s[i].latency->len);
		g_array_unref(s[i].latency);
	}
	secs = (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
	g_array_sort(all, cmp_double);
	if (all->len > 0)
		printf("%u %.3f %.3f %.3f\n", all->len, secs,
		       g_array_index(all, double, all->len / 2) * 1000,
		       g_array_index(all, double, (all->len * 99) / 100) * 1000);
	g_free(s);
	g_free(threads);
	return failed || all->len != (guint)argc - 3;
}
