/*
 * lmtp.h: the LMTP (RFC 2033) server side of one connection, as a state
 * machine with no I/O: the caller feeds the bytes it read and writes back
 * what the session appends to its output. Delivery is a callback, called
 * once per message at the end of DATA, whose one outcome becomes one reply
 * per accepted recipient (the message is stored once, whoever it was for).
 *
 * SMTPUTF8 is offered: without it Postfix bounces a message whose header
 * or envelope holds UTF-8 (GMime reads it), instead of delivering it.
 *
 * Lines end in LF (CRLF or a bare LF: Postfix sends CRLF, a test may not).
 * Commands are at most LMTP_COMMAND_MAX bytes (RFC 5321's 512); a longer
 * one is refused whole. In DATA, leading dots are unstuffed and every line
 * is kept with an LF end, as the MTA's pipe delivers it; past max_message
 * bytes the rest is counted but not kept (the message is then delivered
 * truncated: ingest keeps its header in quarantine). Replies are buffered:
 * the caller writes them once it has no more input in hand, which is all
 * RFC 2920 (PIPELINING) asks of a server.
 */
#ifndef TLSWATCH_LMTP_H
#define TLSWATCH_LMTP_H

#include <glib.h>

#define LMTP_COMMAND_MAX    512
#define LMTP_MAX_RECIPIENTS 1000
#define LMTP_MAX_ERRORS	    20

/* What became of one message: code 250 (handled) or 451 (retry later), and
 * the text after the enhanced status code (one line, no CR or LF). */
struct lmtp_outcome {
	int code;
	char *text; /* owned by the outcome; lmtp_session frees it */
};

/* Deliver msg (with truncated when it was cut at max_message) for the
 * envelope sender and recipients; fill out. Called during
 * lmtp_session_feed. */
typedef void (*lmtp_deliver_fn)(gpointer data, GBytes *msg, gboolean truncated, const char *sender,
				const GPtrArray *recipients, struct lmtp_outcome *out);

struct lmtp_session;

/* A session that greets as hostname and keeps at most max_message bytes
 * of a message. The caller frees it with lmtp_session_free. */
struct lmtp_session *lmtp_session_new(const char *hostname, gsize max_message,
				      lmtp_deliver_fn deliver, gpointer data);
void lmtp_session_free(struct lmtp_session *s);

/* The 220 greeting, appended to out. */
void lmtp_session_greet(struct lmtp_session *s, GString *out);

/* Feed len bytes read from the client; replies are appended to out.
 * Returns FALSE once the session is over (QUIT answered, or too many
 * errors): the caller writes out, then closes. */
gboolean lmtp_session_feed(struct lmtp_session *s, const char *buf, gsize len, GString *out);

/* The client is gone or idle too long: TRUE when it left mid-message (the
 * message was not delivered, so nothing of it is stored). */
gboolean lmtp_session_in_data(const struct lmtp_session *s);

/* Say 421 (shutting down or timed out) with text; the caller closes. */
void lmtp_session_abort(struct lmtp_session *s, const char *text, GString *out);

#endif
