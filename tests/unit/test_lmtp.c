/*
 * test_lmtp.c: the LMTP state machine on its own (serve/lmtp.c): what it
 * answers, byte for byte, and what it hands to delivery, for pipelined
 * commands, dot-stuffing, bare LF, input split anywhere, long lines,
 * RSET, unknown commands, several recipients and a truncated message.
 */
#include <string.h>

#include "serve/lmtp.h"

struct delivered {
	guint count;
	GString *msg;
	gboolean truncated;
	char *sender;
	guint recipients;
	int code; /* what the next delivery answers */
};

static void deliver(gpointer data, GBytes *msg, gboolean truncated, const char *sender,
		    const GPtrArray *recipients, struct lmtp_outcome *out)
{
	struct delivered *d = data;
	gsize len;
	const char *p = g_bytes_get_data(msg, &len);

	d->count++;
	g_string_truncate(d->msg, 0);
	g_string_append_len(d->msg, p, (gssize)len);
	d->truncated = truncated;
	g_free(d->sender);
	d->sender = g_strdup(sender);
	d->recipients = recipients->len;
	out->code = d->code;
	out->text = g_strdup(d->code == 250   ? "stored 1 report: example.com"
			     : d->code == 451 ? "database down"
					      : "stored 1 report: a\r\n250 2.0.0 forged");
	if (d->code != 250 && d->code != 451)
		out->code = 250;
}

struct fixture {
	struct delivered d;
	struct lmtp_session *s;
	GString *out;
};

static void setup(struct fixture *f, gconstpointer max)
{
	f->d.msg = g_string_new(NULL);
	f->d.code = 250;
	f->s = lmtp_session_new("mx.test", max ? GPOINTER_TO_SIZE(max) : 1 << 20, deliver, &f->d);
	f->out = g_string_new(NULL);
}

static void teardown(struct fixture *f, gconstpointer unused)
{
	(void)unused;
	lmtp_session_free(f->s);
	g_string_free(f->out, TRUE);
	g_string_free(f->d.msg, TRUE);
	g_free(f->d.sender);
}

/* Feed text; returns what the session answered to it (and clears it). */
static char *feed(struct fixture *f, const char *text, gboolean *open)
{
	gboolean o = lmtp_session_feed(f->s, text, strlen(text), f->out);
	char *said = g_strdup(f->out->str);

	if (open != NULL)
		*open = o;
	g_string_truncate(f->out, 0);
	return said;
}

#define LHLO_REPLY                                                                                 \
	"250-mx.test\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n"             \
	"250-SMTPUTF8\r\n250 SIZE 1048576\r\n"

static void test_pipelined(struct fixture *f, gconstpointer unused)
{
	g_autofree char *hello = NULL, *env = NULL, *data = NULL, *bye = NULL;
	gboolean open = TRUE;

	(void)unused;
	lmtp_session_greet(f->s, f->out);
	g_assert_cmpstr(f->out->str, ==, "220 mx.test LMTP tlswatch\r\n");
	g_string_truncate(f->out, 0);
	hello = feed(f, "LHLO postfix.test\r\n", NULL);
	g_assert_cmpstr(hello, ==, LHLO_REPLY);
	/* One write from the client, as Postfix pipelines: every reply in order. */
	env = feed(f,
		   "MAIL FROM:<r@example.org> SIZE=20 BODY=8BITMIME\r\nRCPT TO:<a@example.com>\r\n"
		   "RCPT TO:<b@example.com>\r\nDATA\r\n",
		   NULL);
	g_assert_cmpstr(env, ==,
			"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n"
			"354 End data with <CR><LF>.<CR><LF>\r\n");
	data = feed(f, "Subject: x\r\n\r\n..leading dot\r\n.\r\nQUIT\r\n", &open);
	/* One reply per recipient, after the one delivery. */
	g_assert_cmpstr(data, ==,
			"250 2.0.0 stored 1 report: example.com\r\n"
			"250 2.0.0 stored 1 report: example.com\r\n221 2.0.0 Bye\r\n");
	g_assert_false(open);
	g_assert_cmpuint(f->d.count, ==, 1);
	g_assert_cmpuint(f->d.recipients, ==, 2);
	g_assert_cmpstr(f->d.sender, ==, "r@example.org");
	g_assert_cmpstr(f->d.msg->str, ==, "Subject: x\n\n.leading dot\n");
	g_assert_false(f->d.truncated);
	bye = feed(f, "NOOP\r\n", NULL);
	g_assert_cmpstr(bye, ==, "");
}

/* Bare LF line ends, and the input cut at every possible place. */
static void test_split_bare_lf(struct fixture *f, gconstpointer unused)
{
	const char *all = "LHLO x\nMAIL FROM:<>\nRCPT TO:<t@example.com>\nDATA\nA: b\n\nbody\n.\n";

	(void)unused;
	for (gsize i = 0; all[i] != '\0'; i++)
		lmtp_session_feed(f->s, all + i, 1, f->out);
	g_assert_cmpstr(f->out->str, ==,
			LHLO_REPLY
			"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with "
			"<CR><LF>.<CR><LF>\r\n250 2.0.0 stored 1 report: example.com\r\n");
	g_assert_cmpstr(f->d.msg->str, ==, "A: b\n\nbody\n");
	g_assert_cmpstr(f->d.sender, ==, "");
}

static void test_sequence_errors(struct fixture *f, gconstpointer unused)
{
	g_autofree char *early = NULL, *helo = NULL, *nomail = NULL, *nodata = NULL;
	g_autofree char *rset = NULL, *unknown = NULL, *syntax = NULL;

	(void)unused;
	early = feed(f, "MAIL FROM:<a@b>\r\n", NULL);
	g_assert_cmpstr(early, ==, "503 5.5.1 Send LHLO first\r\n");
	helo = feed(f, "EHLO x\r\nLHLO x\r\n", NULL);
	g_assert_cmpstr(helo, ==, "500 5.5.1 This is LMTP: send LHLO\r\n" LHLO_REPLY);
	nomail = feed(f, "RCPT TO:<a@b>\r\nDATA\r\n", NULL);
	g_assert_cmpstr(nomail, ==,
			"503 5.5.1 Send MAIL first\r\n503 5.5.1 Send MAIL and RCPT first\r\n");
	nodata = feed(f, "MAIL FROM:<a@b>\r\nDATA\r\nMAIL FROM:<c@d>\r\n", NULL);
	g_assert_cmpstr(nodata, ==,
			"250 2.1.0 Ok\r\n554 5.5.1 No valid recipients\r\n"
			"503 5.5.1 Nested MAIL command\r\n");
	rset = feed(f, "RSET\r\nMAIL FROM:<c@d>\r\n", NULL);
	g_assert_cmpstr(rset, ==, "250 2.0.0 Ok\r\n250 2.1.0 Ok\r\n");
	unknown = feed(f, "BDAT 10 LAST\r\n", NULL);
	g_assert_cmpstr(unknown, ==, "500 5.5.2 Command not recognized\r\n");
	syntax = feed(f, "RCPT TO:a@b\r\nRCPT TO:<>\r\n", NULL);
	g_assert_cmpstr(syntax, ==,
			"501 5.5.4 Syntax: RCPT TO:<address>\r\n"
			"501 5.5.4 Syntax: RCPT TO:<address>\r\n");
	g_assert_cmpuint(f->d.count, ==, 0);
}

/* A command line past 512 bytes is refused whole, and what follows it
 * is read as the next command. */
static void test_long_command(struct fixture *f, gconstpointer unused)
{
	g_autoptr(GString) line = g_string_new("NOOP ");
	g_autofree char *said = NULL, *next = NULL;

	(void)unused;
	for (int i = 0; i < 2000; i++)
		g_string_append_c(line, 'x');
	g_string_append(line, "\r\nNOOP\r\n");
	said = feed(f, line->str, NULL);
	g_assert_cmpstr(said, ==, "500 5.5.2 Line too long\r\n250 2.0.0 Ok\r\n");
	next = feed(f, "NOOP\r\n", NULL);
	g_assert_cmpstr(next, ==, "250 2.0.0 Ok\r\n");
}

/* A 200 KB line of text (kept in pieces), a CR at a piece's end, and a
 * message over max_message: delivered truncated to exactly that size. */
static void test_long_data(struct fixture *f, gconstpointer unused)
{
	g_autoptr(GString) body = g_string_new(NULL);
	g_autofree char *a = NULL, *b = NULL;
	gsize long_line = 200 * 1024;

	(void)unused;
	a = feed(f, "LHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n", NULL);
	g_string_append(body, ".");
	for (gsize i = 0; i < long_line; i++)
		g_string_append_c(body, 'y');
	g_string_append(body, "\r\n");
	/* Fed in pieces of 65,535: the CR of the CRLF ends one piece. */
	for (gsize off = 0; off < body->len; off += 65535)
		lmtp_session_feed(f->s, body->str + off, MIN(65535, body->len - off), f->out);
	b = feed(f, ".\r\n", NULL);
	g_assert_cmpuint(f->d.count, ==, 1);
	g_assert_cmpuint(f->d.msg->len, ==, long_line + 1);
	g_assert_true(f->d.msg->str[0] == 'y' && f->d.msg->str[long_line] == '\n');
	g_assert_null(strchr(f->d.msg->str, '\r'));
	g_assert_false(f->d.truncated);
	(void)a;
	(void)b;
}

static void test_truncated(struct fixture *f, gconstpointer unused)
{
	g_autofree char *a = NULL, *b = NULL;

	(void)unused;
	a = feed(f, "LHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n", NULL);
	b = feed(f, "Subject: 0123456789\r\n\r\nbody\r\n.\r\n", NULL);
	g_assert_cmpuint(f->d.count, ==, 1);
	g_assert_true(f->d.truncated);
	g_assert_cmpuint(f->d.msg->len, ==, 16);
	g_assert_cmpstr(f->d.msg->str, ==, "Subject: 0123456");
	(void)a;
	(void)b;
}

/* A failed delivery is 451 4.3.0 for every recipient (the MTA retries);
 * a client gone mid-DATA delivered nothing. */
static void test_temp_failure_and_hangup(struct fixture *f, gconstpointer unused)
{
	g_autofree char *a = NULL, *b = NULL, *c = NULL;

	(void)unused;
	f->d.code = 451;
	a = feed(f, "LHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nRCPT TO:<e@f>\r\nDATA\r\n",
		 NULL);
	b = feed(f, "x\r\n.\r\n", NULL);
	g_assert_cmpstr(b, ==, "451 4.3.0 database down\r\n451 4.3.0 database down\r\n");
	c = feed(f, "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nhalf a mess", NULL);
	g_assert_true(lmtp_session_in_data(f->s));
	g_assert_cmpuint(f->d.count, ==, 1);
	lmtp_session_abort(f->s, "Timeout", f->out);
	g_assert_cmpstr(f->out->str, ==, "421 4.3.2 Timeout\r\n");
	(void)a;
	(void)c;
}

/* What a report says cannot add a reply line: a CR LF in the outcome's
 * text (a report-id, a domain) is a space in the one reply. */
static void test_reply_one_line(struct fixture *f, gconstpointer unused)
{
	g_autofree char *a = NULL, *b = NULL;

	(void)unused;
	f->d.code = 1; /* the hostile text */
	a = feed(f, "LHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n", NULL);
	b = feed(f, "x\r\n.\r\n", NULL);
	g_assert_cmpstr(b, ==, "250 2.0.0 stored 1 report: a  250 2.0.0 forged\r\n");
	(void)a;
}

/* Twenty errors end the session. */
static void test_too_many_errors(struct fixture *f, gconstpointer unused)
{
	gboolean open = TRUE;
	g_autofree char *said = NULL;

	(void)unused;
	for (int i = 0; i < LMTP_MAX_ERRORS - 1 && open; i++)
		g_free(feed(f, "XYZZY\r\n", &open));
	g_assert_true(open);
	said = feed(f, "XYZZY\r\nNOOP\r\n", &open);
	g_assert_false(open);
	g_assert_cmpstr(said, ==, "421 4.3.2 Too many errors\r\n");
}

/* An empty line before anything else, when the session's line buffer
 * has never held a byte (fuzz_lmtp found the crash), then after a
 * command: 500 both times, and the session goes on. */
static void test_empty_lines(struct fixture *f, gconstpointer unused)
{
	g_autofree char *first = NULL, *bare = NULL, *hello = NULL;
	gboolean open = FALSE;

	(void)unused;
	first = feed(f, "\n", &open);
	g_assert_true(open);
	g_assert_cmpstr(first, ==, "500 5.5.2 Empty command\r\n");
	hello = feed(f, "LHLO postfix.test\r\n", NULL);
	g_assert_cmpstr(hello, ==, LHLO_REPLY);
	bare = feed(f, "\r\n", &open);
	g_assert_true(open);
	g_assert_cmpstr(bare, ==, "500 5.5.2 Empty command\r\n");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(name, fn, max)                                                                         \
	g_test_add("/lmtp/" name, struct fixture, GSIZE_TO_POINTER(max), setup, fn, teardown)
	ADD("pipelined", test_pipelined, 0);
	ADD("split-bare-lf", test_split_bare_lf, 0);
	ADD("sequence-errors", test_sequence_errors, 0);
	ADD("long-command", test_long_command, 0);
	ADD("long-data", test_long_data, 0);
	ADD("truncated", test_truncated, 16);
	ADD("temp-failure-and-hangup", test_temp_failure_and_hangup, 0);
	ADD("too-many-errors", test_too_many_errors, 0);
	ADD("reply-one-line", test_reply_one_line, 0);
	ADD("empty-lines", test_empty_lines, 0);
	return g_test_run();
}
