/*
 * lmtp.c: the LMTP server state machine (lmtp.h). It reads lines, answers
 * them and collects one message at a time; what a message becomes is the
 * deliver callback's business. Nothing here blocks or touches a socket.
 */
#include <string.h>

#include "serve/lmtp.h"

/* A line of message text longer than this is kept in pieces: the memory a
 * client can tie up is this plus max_message. */
#define DATA_PIECE (64 * 1024)

enum lmtp_state {
	LMTP_NEED_LHLO, /* greeted, no LHLO yet */
	LMTP_READY,	/* LHLO done, no transaction */
	LMTP_MAIL,	/* MAIL accepted, no recipient yet */
	LMTP_RCPT,	/* at least one recipient */
	LMTP_DATA,	/* reading the message */
	LMTP_OVER,	/* QUIT answered or given up */
};

struct lmtp_session {
	char *hostname;
	gsize max_message;
	lmtp_deliver_fn deliver;
	gpointer data;
	enum lmtp_state state;
	GByteArray *line;	/* the line read so far (commands, or a piece of text) */
	gboolean line_too_long; /* a command past LMTP_COMMAND_MAX: skip to its end */
	gboolean mid_line;	/* DATA: a long line's first piece went to msg already */
	char *sender;
	GPtrArray *recipients; /* char * */
	GByteArray *msg;
	gboolean truncated;
	guint errors;
};

struct lmtp_session *lmtp_session_new(const char *hostname, gsize max_message,
				      lmtp_deliver_fn deliver, gpointer data)
{
	struct lmtp_session *s = g_new0(struct lmtp_session, 1);

	s->hostname = g_strdup(hostname);
	s->max_message = max_message;
	s->deliver = deliver;
	s->data = data;
	s->line = g_byte_array_new();
	s->recipients = g_ptr_array_new_with_free_func(g_free);
	s->msg = g_byte_array_new();
	return s;
}

void lmtp_session_free(struct lmtp_session *s)
{
	if (s == NULL)
		return;
	g_free(s->hostname);
	g_byte_array_unref(s->line);
	g_free(s->sender);
	g_ptr_array_unref(s->recipients);
	g_byte_array_unref(s->msg);
	g_free(s);
}

static void lmtp_reset(struct lmtp_session *s)
{
	g_clear_pointer(&s->sender, g_free);
	g_ptr_array_set_size(s->recipients, 0);
	g_byte_array_set_size(s->msg, 0);
	s->truncated = FALSE;
	s->mid_line = FALSE;
	if (s->state != LMTP_NEED_LHLO && s->state != LMTP_OVER)
		s->state = LMTP_READY;
}

void lmtp_session_greet(struct lmtp_session *s, GString *out)
{
	g_string_append_printf(out, "220 %s LMTP tlswatch\r\n", s->hostname);
}

gboolean lmtp_session_in_data(const struct lmtp_session *s)
{
	return s->state == LMTP_DATA;
}

void lmtp_session_abort(struct lmtp_session *s, const char *text, GString *out)
{
	g_string_append_printf(out, "421 4.3.2 %s\r\n", text);
	s->state = LMTP_OVER;
}

/* A refused command; too many of them end the session (a client that is
 * not an MTA, or a confused one). */
static void lmtp_error(struct lmtp_session *s, GString *out, const char *reply)
{
	if (++s->errors >= LMTP_MAX_ERRORS) {
		lmtp_session_abort(s, "Too many errors", out);
		return;
	}
	g_string_append_printf(out, "%s\r\n", reply);
}

/* The <path> of "FROM:<path> PARAMS" or "TO:<path> PARAMS", after the
 * keyword (case-insensitive); NULL when it is not there. A new string. */
static char *lmtp_path(const char *arg, const char *keyword)
{
	gsize k = strlen(keyword);
	const char *open, *close;

	if (g_ascii_strncasecmp(arg, keyword, k) != 0)
		return NULL;
	open = arg + k;
	while (*open == ' ')
		open++;
	if (*open != '<' || (close = strchr(open, '>')) == NULL)
		return NULL;
	return g_strndup(open + 1, (gsize)(close - open - 1));
}

static void lmtp_mail(struct lmtp_session *s, const char *arg, GString *out)
{
	char *path;

	if (s->state == LMTP_NEED_LHLO)
		return lmtp_error(s, out, "503 5.5.1 Send LHLO first");
	if (s->state != LMTP_READY)
		return lmtp_error(s, out, "503 5.5.1 Nested MAIL command");
	if ((path = lmtp_path(arg, "FROM:")) == NULL)
		return lmtp_error(s, out, "501 5.5.4 Syntax: MAIL FROM:<address>");
	s->sender = path;
	s->state = LMTP_MAIL;
	g_string_append(out, "250 2.1.0 Ok\r\n");
}

static void lmtp_rcpt(struct lmtp_session *s, const char *arg, GString *out)
{
	char *path;

	if (s->state != LMTP_MAIL && s->state != LMTP_RCPT)
		return lmtp_error(s, out, "503 5.5.1 Send MAIL first");
	if ((path = lmtp_path(arg, "TO:")) == NULL || *path == '\0') {
		g_free(path);
		return lmtp_error(s, out, "501 5.5.4 Syntax: RCPT TO:<address>");
	}
	if (s->recipients->len >= LMTP_MAX_RECIPIENTS) {
		g_free(path);
		g_string_append(out, "452 4.5.3 Too many recipients\r\n");
		return;
	}
	g_ptr_array_add(s->recipients, path);
	s->state = LMTP_RCPT;
	g_string_append(out, "250 2.1.5 Ok\r\n");
}

static void lmtp_data(struct lmtp_session *s, GString *out)
{
	if (s->state == LMTP_MAIL)
		return lmtp_error(s, out, "554 5.5.1 No valid recipients");
	if (s->state != LMTP_RCPT)
		return lmtp_error(s, out, "503 5.5.1 Send MAIL and RCPT first");
	s->state = LMTP_DATA;
	g_string_append(out, "354 End data with <CR><LF>.<CR><LF>\r\n");
}

static void lmtp_command(struct lmtp_session *s, const char *line, GString *out)
{
	const char *sp = strchr(line, ' ');
	g_autofree char *verb = g_ascii_strup(line, sp ? sp - line : -1);
	const char *arg = sp ? sp + 1 : "";

	if (g_str_equal(verb, "LHLO")) {
		if (*arg == '\0')
			return lmtp_error(s, out, "501 5.5.4 Syntax: LHLO hostname");
		s->state = LMTP_READY;
		lmtp_reset(s);
		g_string_append_printf(out,
				       "250-%s\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n"
				       "250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE %" G_GSIZE_FORMAT
				       "\r\n",
				       s->hostname, s->max_message);
	} else if (g_str_equal(verb, "MAIL")) {
		lmtp_mail(s, arg, out);
	} else if (g_str_equal(verb, "RCPT")) {
		lmtp_rcpt(s, arg, out);
	} else if (g_str_equal(verb, "DATA")) {
		lmtp_data(s, out);
	} else if (g_str_equal(verb, "RSET")) {
		lmtp_reset(s);
		g_string_append(out, "250 2.0.0 Ok\r\n");
	} else if (g_str_equal(verb, "NOOP")) {
		g_string_append(out, "250 2.0.0 Ok\r\n");
	} else if (g_str_equal(verb, "VRFY")) {
		g_string_append(out, "252 2.5.2 Cannot VRFY\r\n");
	} else if (g_str_equal(verb, "QUIT")) {
		g_string_append(out, "221 2.0.0 Bye\r\n");
		s->state = LMTP_OVER;
	} else if (g_str_equal(verb, "HELO") || g_str_equal(verb, "EHLO")) {
		lmtp_error(s, out, "500 5.5.1 This is LMTP: send LHLO");
	} else {
		lmtp_error(s, out, "500 5.5.2 Command not recognized");
	}
}

/* Keep len bytes of message text, as far as max_message allows. */
static void lmtp_keep(struct lmtp_session *s, const guint8 *p, gsize len)
{
	gsize room = s->max_message - MIN(s->msg->len, s->max_message);

	if (len > room)
		s->truncated = TRUE;
	g_byte_array_append(s->msg, p, (guint)MIN(len, room));
}

/* The end of the message: one delivery, one reply per recipient. */
static void lmtp_deliver(struct lmtp_session *s, GString *out)
{
	g_autoptr(GBytes) msg = g_bytes_new(s->msg->data, s->msg->len);
	struct lmtp_outcome o = { 451, NULL };

	s->deliver(s->data, msg, s->truncated, s->sender, s->recipients, &o);
	/* The text may carry what a report says (its domain, its id): a CR
	 * or LF in it would make lines the client takes for more replies. */
	if (o.text != NULL)
		g_strdelimit(o.text, "\r\n", ' ');
	for (guint i = 0; i < s->recipients->len; i++)
		g_string_append_printf(out, "%d %s %s\r\n", o.code,
				       o.code == 250 ? "2.0.0" : "4.3.0", o.text ? o.text : "");
	g_free(o.text);
	s->state = LMTP_READY;
	lmtp_reset(s);
}

/* One complete line of DATA (without its LF): the end, or text. */
static void lmtp_data_line(struct lmtp_session *s, GString *out)
{
	const guint8 *p = s->line->data;
	gsize len = s->line->len;

	if (len > 0 && p[len - 1] == '\r')
		len--;
	if (!s->mid_line && len == 1 && p[0] == '.')
		return lmtp_deliver(s, out);
	if (!s->mid_line && len > 0 && p[0] == '.') {
		p++;
		len--;
	}
	lmtp_keep(s, p, len);
	lmtp_keep(s, (const guint8 *)"\n", 1);
	s->mid_line = FALSE;
}

/* A long line of DATA: keep what is read so far (a CR at its end waits, it
 * may be the line's CRLF). */
static void lmtp_data_piece(struct lmtp_session *s)
{
	const guint8 *p = s->line->data;
	gsize len = s->line->len, hold = p[len - 1] == '\r' ? 1 : 0;

	if (!s->mid_line && p[0] == '.') {
		p++;
		len--;
	}
	lmtp_keep(s, p, len - hold);
	g_byte_array_remove_range(s->line, 0, s->line->len - (guint)hold);
	s->mid_line = TRUE;
}

static void lmtp_command_line(struct lmtp_session *s, GString *out)
{
	g_autofree char *line = NULL;
	gsize len = s->line->len;

	if (s->line_too_long) {
		s->line_too_long = FALSE;
		return lmtp_error(s, out, "500 5.5.2 Line too long");
	}
	if (len > 0 && s->line->data[len - 1] == '\r')
		len--;
	/* An empty line may have no buffer at all (data NULL, which memchr
	 * must not see and g_strndup turns into NULL): fuzz_lmtp found it. */
	if (len == 0)
		return lmtp_error(s, out, "500 5.5.2 Empty command");
	if (memchr(s->line->data, '\0', len) != NULL)
		return lmtp_error(s, out, "500 5.5.2 NUL in command");
	line = g_strndup((const char *)s->line->data, len);
	lmtp_command(s, line, out);
}

gboolean lmtp_session_feed(struct lmtp_session *s, const char *buf, gsize len, GString *out)
{
	const char *end = buf + len;

	while (buf < end && s->state != LMTP_OVER) {
		const char *lf = memchr(buf, '\n', (gsize)(end - buf));
		gsize n = (gsize)((lf ? lf : end) - buf);

		if (s->state == LMTP_DATA || !s->line_too_long)
			g_byte_array_append(s->line, (const guint8 *)buf, (guint)n);
		buf += n;
		if (s->state != LMTP_DATA && s->line->len > LMTP_COMMAND_MAX + 1) {
			s->line_too_long = TRUE;
			g_byte_array_set_size(s->line, 0);
		}
		if (lf == NULL) {
			if (s->state == LMTP_DATA && s->line->len >= DATA_PIECE)
				lmtp_data_piece(s);
			break;
		}
		buf++; /* the LF */
		if (s->state == LMTP_DATA)
			lmtp_data_line(s, out);
		else
			lmtp_command_line(s, out);
		g_byte_array_set_size(s->line, 0);
	}
	return s->state != LMTP_OVER;
}
