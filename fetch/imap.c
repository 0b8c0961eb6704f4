/*
 * imap.c: IMAP through libcurl (imap.h).
 */
#include <curl/curl.h>
#include <string.h>

#include "fetch/imap.h"

/* Untagged answers kept per command: a SEARCH of a large backlog is a
 * few bytes per message; a server sending more is not one to believe. */
#define IMAP_ANSWER_MAX (16 * 1024 * 1024)

/* A password file or a token longer than this is not one. */
#define IMAP_SECRET_MAX 16384

struct imap {
	const struct imap_account *a;
	CURL *curl;
	char *mailbox_url; /* server + the mailbox, URL-escaped */
	char *secret;	   /* the password or the bearer token */
	char errbuf[CURL_ERROR_SIZE];
};

/* What a write callback collects. */
struct sink {
	GByteArray *bytes;
	guint64 max;
	gboolean truncated;
};

static size_t imap_sink_write(char *data, size_t size, size_t n, void *user)
{
	struct sink *s = user;
	gsize len = size * n;
	gsize room = s->bytes->len < s->max ? (gsize)(s->max - s->bytes->len) : 0;

	/* Past the cap the rest is read and dropped: the command completes
	 * and the connection stays usable. */
	if (len > room)
		s->truncated = TRUE;
	g_byte_array_append(s->bytes, (const guint8 *)data, (guint)MIN(len, room));
	return len;
}

/* The password (first line of password-file) or the bearer token (first
 * line the token command prints), in a new string. */
static char *imap_secret(const struct imap_account *a, struct error *err)
{
	g_autofree char *out = NULL, *errout = NULL;
	g_autoptr(GError) gerr = NULL;
	g_auto(GStrv) argv = NULL;
	gsize len = 0;
	int status = 0;
	char *line;

	if (a->password_file != NULL) {
		if (!g_file_get_contents(a->password_file, &out, &len, &gerr) ||
		    len > IMAP_SECRET_MAX) {
			error_set(err, ERR_TEMP, "[imap %s] password-file: %s", a->name,
				  gerr ? gerr->message : "too long for a password");
			return NULL;
		}
	} else if (!g_shell_parse_argv(a->token_command, NULL, &argv, &gerr) ||
		   !g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &errout,
				 &status, &gerr) ||
		   !g_spawn_check_wait_status(status, &gerr)) {
		error_set(err, ERR_TEMP, "[imap %s] oauth2-token-command failed: %s%s%s", a->name,
			  gerr->message, errout && *errout ? ": " : "",
			  errout ? g_strstrip(errout) : "");
		return NULL;
	}
	line = g_strndup(out, strcspn(out, "\r\n"));
	if (*g_strstrip(line) == '\0' || strlen(line) > IMAP_SECRET_MAX) {
		error_set(err, ERR_TEMP, "[imap %s] %s gave no %s", a->name,
			  a->password_file ? "password-file" : "oauth2-token-command",
			  a->password_file ? "password" : "token");
		g_free(line);
		return NULL;
	}
	return line;
}

int imap_open(struct imap **out, const struct imap_account *a, struct error *err)
{
	struct imap *im = g_new0(struct imap, 1);
	char *escaped;

	im->a = a;
	im->secret = imap_secret(a, err);
	im->curl = curl_easy_init();
	if (im->secret == NULL || im->curl == NULL) {
		if (im->curl == NULL && im->secret != NULL)
			error_set(err, ERR_TEMP, "libcurl: cannot set up a session");
		imap_close(im);
		return -1;
	}
	escaped = curl_easy_escape(im->curl, a->mailbox, 0);
	im->mailbox_url = g_strconcat(a->server, escaped, NULL);
	curl_free(escaped);
	curl_easy_setopt(im->curl, CURLOPT_PROTOCOLS_STR, "imap,imaps");
	curl_easy_setopt(im->curl, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	curl_easy_setopt(im->curl, CURLOPT_NOSIGNAL, 1L);
	/* timeout is time without progress, not for a whole command: a
	 * large message on a slow link must not fail every run. */
	curl_easy_setopt(im->curl, CURLOPT_CONNECTTIMEOUT, (long)a->timeout);
	curl_easy_setopt(im->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(im->curl, CURLOPT_LOW_SPEED_TIME, (long)a->timeout);
	curl_easy_setopt(im->curl, CURLOPT_ERRORBUFFER, im->errbuf);
	curl_easy_setopt(im->curl, CURLOPT_USERNAME, a->user);
	if (a->ca_file != NULL)
		curl_easy_setopt(im->curl, CURLOPT_CAINFO, a->ca_file);
	if (a->token_command != NULL) {
		curl_easy_setopt(im->curl, CURLOPT_LOGIN_OPTIONS, "AUTH=XOAUTH2");
		curl_easy_setopt(im->curl, CURLOPT_XOAUTH2_BEARER, im->secret);
	} else {
		curl_easy_setopt(im->curl, CURLOPT_PASSWORD, im->secret);
	}
	*out = im;
	return 0;
}

void imap_close(struct imap *im)
{
	if (im == NULL)
		return;
	if (im->curl != NULL)
		curl_easy_cleanup(im->curl);
	if (im->secret != NULL) {
		memset(im->secret, 0, strlen(im->secret));
		g_free(im->secret);
	}
	g_free(im->mailbox_url);
	g_free(im);
}

/* What a libcurl failure means to a postmaster. */
static const char *imap_hint(CURLcode rc)
{
	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION:
		return " (the server's certificate is not trusted: ca-file names a private CA)";
	case CURLE_LOGIN_DENIED:
		return " (user, password or token refused)";
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_OPERATION_TIMEDOUT:
		return " (the server is not reachable now)";
	default:
		return "";
	}
}

/* Run one request: url, with command as a custom request (NULL: fetch
 * what url names), the answer into s. */
static int imap_request(struct imap *im, const char *url, const char *command, struct sink *s,
			struct error *err)
{
	CURLcode rc;

	im->errbuf[0] = '\0';
	curl_easy_setopt(im->curl, CURLOPT_URL, url);
	curl_easy_setopt(im->curl, CURLOPT_CUSTOMREQUEST, command);
	curl_easy_setopt(im->curl, CURLOPT_WRITEFUNCTION, imap_sink_write);
	curl_easy_setopt(im->curl, CURLOPT_WRITEDATA, s);
	rc = curl_easy_perform(im->curl);
	if (rc == CURLE_OK)
		return 0;
	return error_set(err, ERR_TEMP, "[imap %s] %s: %s%s", im->a->name,
			 command ? command : "FETCH",
			 im->errbuf[0] ? im->errbuf : curl_easy_strerror(rc), imap_hint(rc));
}

/* The untagged answers of command on url, as a string (capped). */
static char *imap_answer(struct imap *im, const char *url, const char *command, struct error *err)
{
	struct sink s = { g_byte_array_new(), IMAP_ANSWER_MAX, FALSE };

	if (imap_request(im, url, command, &s, err) < 0 ||
	    (s.truncated && error_set(err, ERR_TEMP, "[imap %s] %s: answer over %d bytes",
				      im->a->name, command, IMAP_ANSWER_MAX) < 0)) {
		g_byte_array_free(s.bytes, TRUE);
		return NULL;
	}
	g_byte_array_append(s.bytes, (const guint8 *)"", 1);
	return (char *)g_byte_array_free(s.bytes, FALSE);
}

/* A command on the mailbox whose answer only needs to be OK. */
static int imap_command(struct imap *im, const char *command, struct error *err)
{
	g_autofree char *answer = imap_answer(im, im->mailbox_url, command, err);

	return answer != NULL ? 0 : -1;
}

/* A folder as an IMAP quoted string (config.c allows printable ASCII). */
static char *imap_quoted(const char *folder)
{
	GString *q = g_string_new("\"");

	for (const char *c = folder; *c != '\0'; c++) {
		if (*c == '"' || *c == '\\')
			g_string_append_c(q, '\\');
		g_string_append_c(q, *c);
	}
	g_string_append_c(q, '"');
	return g_string_free(q, FALSE);
}

/* The number (1 to 2^32 - 1, RFC 3501 nz-number) that starts at s. */
static gboolean imap_number(const char *s, guint64 *out)
{
	gsize n = strspn(s, "0123456789");
	g_autofree char *digits = n <= 10 ? g_strndup(s, n) : NULL;

	return digits != NULL && g_ascii_string_to_unsigned(digits, 10, 1, G_MAXUINT32, out, NULL);
}

int imap_uidvalidity(struct imap *im, guint64 *uidvalidity, struct error *err)
{
	g_autofree char *mailbox = imap_quoted(im->a->mailbox);
	g_autofree char *command = g_strdup_printf("STATUS %s (UIDVALIDITY)", mailbox);
	g_autofree char *answer = imap_answer(im, im->a->server, command, err);
	const char *at = answer ? strstr(answer, "UIDVALIDITY ") : NULL;

	if (answer == NULL)
		return -1;
	if (at == NULL || !imap_number(at + 12, uidvalidity))
		return error_set(err, ERR_TEMP, "[imap %s] STATUS: no UIDVALIDITY in the answer",
				 im->a->name);
	return 0;
}

static gint imap_uid_cmp(gconstpointer a, gconstpointer b)
{
	guint64 x = *(const guint64 *)a, y = *(const guint64 *)b;

	return x < y ? -1 : x > y;
}

int imap_search(struct imap *im, guint64 after_uid, GArray **uids, struct error *err)
{
	g_autofree char *command = g_strdup_printf(
		"UID SEARCH UID %" G_GUINT64_FORMAT ":*%s%s", MIN(after_uid, G_MAXUINT32 - 1) + 1,
		im->a->search ? " " : "", im->a->search ? im->a->search : "");
	g_autofree char *answer = imap_answer(im, im->mailbox_url, command, err);
	g_auto(GStrv) lines = NULL;
	GArray *list;

	if (answer == NULL)
		return -1;
	list = g_array_new(FALSE, FALSE, sizeof(guint64));
	/* Past the largest UID there is nothing to ask for (a server that
	 * gave it would get a BAD for every search after). */
	if (after_uid >= G_MAXUINT32) {
		*uids = list;
		return 0;
	}
	lines = g_strsplit(answer, "\n", -1);
	for (gsize i = 0; lines[i] != NULL; i++) {
		g_auto(GStrv) words = NULL;

		if (!g_str_has_prefix(lines[i], "* SEARCH"))
			continue;
		words = g_strsplit_set(lines[i] + 8, " \r", -1);
		for (gsize j = 0; words[j] != NULL; j++) {
			guint64 uid;

			/* "N:*" also matches the highest UID when it is below N. */
			if (imap_number(words[j], &uid) && uid > after_uid)
				g_array_append_val(list, uid);
		}
	}
	g_array_sort(list, imap_uid_cmp);
	*uids = list;
	return 0;
}

/* Whether message uid is still in the mailbox: libcurl answers "remote
 * file not found" to a FETCH that got no message, whatever the server
 * said (gone, or a NO for throttling). */
static int imap_exists(struct imap *im, guint64 uid, gboolean *exists, struct error *err)
{
	g_autofree char *command = g_strdup_printf("UID SEARCH UID %" G_GUINT64_FORMAT, uid);
	g_autofree char *answer = imap_answer(im, im->mailbox_url, command, err);
	g_autofree char *want = g_strdup_printf(" %" G_GUINT64_FORMAT, uid);
	const char *line = answer ? strstr(answer, "* SEARCH") : NULL;
	gsize n = strlen(want);
	const char *at;

	if (answer == NULL)
		return -1;
	*exists = FALSE;
	for (at = line ? strstr(line, want) : NULL; at != NULL && !*exists;
	     at = strstr(at + 1, want))
		*exists = at[n] == '\r' || at[n] == '\n' || at[n] == ' ' || at[n] == '\0';
	return 0;
}

int imap_fetch(struct imap *im, guint64 uid, guint64 max, GBytes **raw, gboolean *truncated,
	       struct error *err)
{
	g_autofree char *url = g_strdup_printf("%s;UID=%" G_GUINT64_FORMAT, im->mailbox_url, uid);
	struct sink s = { g_byte_array_new(), max, FALSE };
	gboolean exists = TRUE;
	struct error probe = ERROR_INIT;

	if (imap_request(im, url, NULL, &s, err) < 0) {
		g_byte_array_free(s.bytes, TRUE);
		/* Skipped only when the server says it is gone. */
		if (imap_exists(im, uid, &exists, &probe) == 0 && !exists)
			error_set(err, ERR_INPUT, "[imap %s] UID %" G_GUINT64_FORMAT ": gone",
				  im->a->name, uid);
		error_clear(&probe);
		return -1;
	}
	*truncated = s.truncated;
	*raw = g_byte_array_free_to_bytes(s.bytes);
	return 0;
}

int imap_move(struct imap *im, guint64 uid, const char *folder, struct error *err)
{
	g_autofree char *quoted = folder ? imap_quoted(folder) : NULL;
	g_autofree char *move = NULL, *store = NULL, *expunge = NULL;

	if (folder != NULL) {
		move = g_strdup_printf("UID MOVE %" G_GUINT64_FORMAT " %s", uid, quoted);
		return imap_command(im, move, err);
	}
	store = g_strdup_printf("UID STORE %" G_GUINT64_FORMAT " +FLAGS.SILENT (\\Deleted)", uid);
	expunge = g_strdup_printf("UID EXPUNGE %" G_GUINT64_FORMAT, uid);
	if (imap_command(im, store, err) < 0 || imap_command(im, expunge, err) < 0)
		return -1;
	return 0;
}
