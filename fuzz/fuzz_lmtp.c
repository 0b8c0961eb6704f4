/*
 * fuzz_lmtp.c: the LMTP state machine (serve/lmtp.c), fed what a client
 * might send.
 *
 * bytes -> the session, in chunks whose sizes the first byte chooses (a
 * command or a dot line split across reads is the case to get right) ->
 * replies. Delivery answers 250 or, by the message's length, 451, so that
 * both outcomes go out per recipient. Replies must be whole CRLF lines of
 * a three-digit code, and a message handed over must never pass
 * max_message nor come without a recipient.
 */
#include <stdint.h>
#include <string.h>

#include "serve/lmtp.h"

#define FUZZ_MAX_MESSAGE 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_deliver(gpointer data, GBytes *msg, gboolean truncated, const char *sender,
			 const GPtrArray *recipients, struct lmtp_outcome *out)
{
	gsize len = 0;

	(void)data;
	(void)truncated;
	(void)sender;
	g_bytes_get_data(msg, &len);
	if (len > FUZZ_MAX_MESSAGE || recipients->len == 0)
		__builtin_trap();
	out->code = len % 2 ? 451 : 250;
	out->text = g_strdup("handled");
}

/* Every reply line: three digits, a space or a dash, CRLF at its end. */
static void fuzz_check_replies(const GString *out)
{
	const char *p = out->str, *end = out->str + out->len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (nl == NULL || nl - p < 5 || nl[-1] != '\r' || !g_ascii_isdigit(p[0]) ||
		    !g_ascii_isdigit(p[1]) || !g_ascii_isdigit(p[2]) ||
		    (p[3] != ' ' && p[3] != '-'))
			__builtin_trap();
		p = nl + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lmtp_session *s;
	g_autoptr(GString) out = g_string_new(NULL);
	gsize chunk, at = 1;

	if (size < 1)
		return 0;
	chunk = 1 + data[0] % 64;
	s = lmtp_session_new("fuzz.example", FUZZ_MAX_MESSAGE, fuzz_deliver, NULL);
	lmtp_session_greet(s, out);
	while (at < size) {
		gsize n = MIN(chunk, size - at);
		gboolean more = lmtp_session_feed(s, (const char *)data + at, n, out);

		fuzz_check_replies(out);
		g_string_truncate(out, 0);
		at += n;
		if (!more)
			break;
	}
	lmtp_session_free(s);
	return 0;
}
