/*
 * mail.c: from raw message bytes to the parts that may hold a report.
 *
 * GMime does the MIME work; this file only walks its tree, with our own
 * recursion so that part count and nesting are capped, and keeps every leaf
 * that a label, a filename or the first decoded bytes point at. Deciding
 * what a candidate really is belongs to decode.c and report.c.
 */
#include <string.h>

#include <gmime/gmime.h>

#include "ingest/decode.h"
#include "ingest/mail.h"

#define MAIL_MAX_PARTS 1000
#define MAIL_MAX_DEPTH 20

/* RFC 5322 allows 998 octets a line, but an unfolded header has no limit.
 * Header values longer than 4 such lines are cut (on a UTF-8 character
 * boundary): nothing tlswatch keeps from a header needs more, and a
 * hostile header must not end up whole in the database or the log. */
#define MAIL_HEADER_MAX (998 * 4)

/* Labels that make a leaf a candidate whatever its bytes look like. */
static const char *const mail_report_types[] = {
	"application/tlsrpt+gzip", "application/tlsrpt+json",	"application/tlsrpt",
	"application/tlsrpt+zip",  "application/tlsrpt+x-gzip", "application/gzip",
	"application/x-gzip",	   "application/zip",		"application/x-zip-compressed",
	"application/json",	   "application/octet-stream",
};

/* Filename endings that do the same (compared without case). */
static const char *const mail_report_suffixes[] = { ".json", ".json.gz", ".gz", ".zip", ".dat" };

/* State of one walk over a message's MIME tree. */
struct mail_walk {
	struct mail *m;
	struct error *err;
	guint parts;
	guint max_parts;
	guint max_depth;
};

void mail_library_init(void)
{
	static gsize done;

	if (g_once_init_enter(&done)) {
		g_mime_init();
		g_once_init_leave(&done, 1);
	}
}

void mail_init(struct mail *m)
{
	memset(m, 0, sizeof(*m));
}

static void mail_part_free(gpointer p)
{
	struct mail_part *part = p;

	if (part == NULL)
		return;
	g_bytes_unref(part->content);
	g_free(part->path);
	g_free(part->content_type);
	g_free(part->filename);
	g_free(part);
}

void mail_release(struct mail *m)
{
	g_free(m->message_id);
	g_free(m->from);
	g_free(m->subject);
	g_free(m->report_domain);
	g_free(m->report_submitter);
	g_free(m->content_type);
	if (m->auth_results != NULL)
		g_ptr_array_unref(m->auth_results);
	if (m->parts != NULL)
		g_ptr_array_unref(m->parts);
	mail_init(m);
}

/* A header value as we keep it: valid UTF-8, at most MAIL_HEADER_MAX bytes,
 * trimmed; NULL when absent or empty. */
static char *mail_text(const char *value)
{
	char *s, *end;

	if (value == NULL)
		return NULL;
	s = g_utf8_make_valid(value, -1);
	if (strlen(s) > MAIL_HEADER_MAX) {
		end = s + MAIL_HEADER_MAX;
		while (end > s && (*end & 0xc0) == 0x80)
			end--;
		*end = '\0';
	}
	g_strstrip(s);
	if (*s == '\0')
		g_clear_pointer(&s, g_free);
	return s;
}

/* mail_text with each run of white space (folding) made one space. */
static char *mail_text_collapsed(const char *value)
{
	char *s = mail_text(value);
	char *in, *out;

	if (s == NULL)
		return NULL;
	for (in = out = s; *in != '\0'; in++) {
		if (g_ascii_isspace(*in) && out > s && out[-1] == ' ')
			continue;
		*out++ = g_ascii_isspace(*in) ? ' ' : *in;
	}
	*out = '\0';
	return s;
}

/* The addr-spec of the first mailbox in list, looking into groups. */
static char *mail_first_addr(InternetAddressList *list)
{
	int n = list != NULL ? internet_address_list_length(list) : 0;

	for (int i = 0; i < n; i++) {
		InternetAddress *ia = internet_address_list_get_address(list, i);
		char *addr = NULL;

		if (INTERNET_ADDRESS_IS_MAILBOX(ia))
			addr = mail_text(
				internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)));
		else if (INTERNET_ADDRESS_IS_GROUP(ia))
			addr = mail_first_addr(
				internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)));
		if (addr != NULL)
			return addr;
	}
	return NULL;
}

/* The Authentication-Results fields, in header order (the topmost was
 * added last, by the MTA nearest to us). */
static void mail_read_auth_results(struct mail *m, GMimeHeaderList *headers)
{
	int n = headers != NULL ? g_mime_header_list_get_count(headers) : 0;

	for (int i = 0; i < n && m->auth_results->len < MAIL_AUTH_RESULTS_MAX; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(headers, i);
		char *value;

		if (g_ascii_strcasecmp(g_mime_header_get_name(h), "Authentication-Results") != 0)
			continue;
		/* Whole, never cut as other kept fields are: a cut could
		 * change what it says (header.d=example.net.attacker.test).
		 * max-header-size bounds it. */
		value = g_utf8_make_valid(
			g_mime_header_get_value(h) ? g_mime_header_get_value(h) : "", -1);
		g_ptr_array_add(m->auth_results, value);
	}
}

static void mail_read_headers(struct mail *m, GMimeMessage *msg)
{
	GMimeObject *top = GMIME_OBJECT(msg);
	GMimeObject *body = g_mime_message_get_mime_part(msg);

	m->message_id = mail_text(g_mime_message_get_message_id(msg));
	m->from = mail_first_addr(g_mime_message_get_from(msg));
	m->subject = mail_text(g_mime_message_get_subject(msg));
	m->report_domain = mail_text(g_mime_object_get_header(top, "TLS-Report-Domain"));
	m->report_submitter = mail_text(g_mime_object_get_header(top, "TLS-Report-Submitter"));
	if (body != NULL)
		m->content_type =
			mail_text_collapsed(g_mime_object_get_header(body, "Content-Type"));
	mail_read_auth_results(m, g_mime_object_get_header_list(top));
}

/* "type/subtype" in lower case. A part whose header was rewritten as
 * "ContentType:" (Trustwave) is text/plain to GMime; its label is read
 * from the rewritten header instead, since that is what the sender meant. */
static char *mail_part_type(GMimeObject *obj)
{
	const char *rewritten = g_mime_object_get_header(obj, "ContentType");
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	char *type, *lower;

	if (g_mime_object_get_header(obj, "Content-Type") == NULL && rewritten != NULL) {
		ct = g_mime_content_type_parse(NULL, rewritten);
		type = g_mime_content_type_get_mime_type(ct);
		g_object_unref(ct);
	} else {
		type = g_mime_content_type_get_mime_type(ct);
	}
	lower = g_ascii_strdown(type, -1);
	g_free(type);
	return lower;
}

/* A Content-Description that is a bare file name (Microsoft puts the name
 * only there): one word with a dot inside, no path. */
static gboolean mail_is_filename(const char *s)
{
	const char *dot;

	if (s == NULL || *s == '\0' || strlen(s) > 255 || strpbrk(s, " \t/\\") != NULL)
		return FALSE;
	dot = strrchr(s, '.');
	return dot != NULL && dot != s && dot[1] != '\0';
}

static char *mail_part_filename(GMimePart *part)
{
	char *name = mail_text(g_mime_part_get_filename(part));

	if (name != NULL)
		return name;
	name = mail_text(g_mime_object_get_header(GMIME_OBJECT(part), "Content-Description"));
	if (mail_is_filename(name))
		return name;
	g_free(name);
	return NULL;
}

/* The part's bytes with the transfer encoding (base64, QP) undone. GMime
 * is lenient with broken base64, which is what real senders need. */
static GBytes *mail_part_content(GMimePart *part)
{
	GMimeDataWrapper *wrapper = g_mime_part_get_content(part);
	GMimeStream *mem;
	GByteArray *bytes;

	if (wrapper == NULL)
		return g_bytes_new(NULL, 0);
	mem = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(wrapper, mem);
	bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
	g_object_unref(mem);
	return g_byte_array_free_to_bytes(bytes);
}

/* A text part counts only when its bytes are a report (JSON) or packed
 * (gzip, zip: no human-readable part starts that way, and a rewritten
 * "ContentType:" leaves a gzip part labelled text/plain). Any other leaf
 * counts by label, by filename, or by the same sniff. */
static gboolean mail_is_candidate(const char *type, const char *filename, GBytes *content)
{
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(content, &len);
	enum payload_kind kind = decode_sniff(data, len);
	gboolean by_content = kind == PAYLOAD_GZIP || kind == PAYLOAD_ZIP || kind == PAYLOAD_JSON;

	if (by_content || g_str_has_prefix(type, "text/"))
		return by_content;
	for (gsize i = 0; i < G_N_ELEMENTS(mail_report_types); i++) {
		if (strcmp(type, mail_report_types[i]) == 0)
			return TRUE;
	}
	for (gsize i = 0; filename != NULL && i < G_N_ELEMENTS(mail_report_suffixes); i++) {
		gsize n = strlen(filename), k = strlen(mail_report_suffixes[i]);

		if (n > k && g_ascii_strcasecmp(filename + n - k, mail_report_suffixes[i]) == 0)
			return TRUE;
	}
	return FALSE;
}

static void mail_leaf(struct mail_walk *w, GMimeObject *obj, const char *path)
{
	struct mail_part *part = g_new0(struct mail_part, 1);

	part->content_type = mail_part_type(obj);
	part->filename = mail_part_filename(GMIME_PART(obj));
	part->content = mail_part_content(GMIME_PART(obj));
	if (!mail_is_candidate(part->content_type, part->filename, part->content)) {
		mail_part_free(part);
		return;
	}
	part->path = g_strdup(path);
	g_ptr_array_add(w->m->parts, part);
}

static int mail_walk_object(struct mail_walk *w, GMimeObject *obj, const char *path, guint depth);

/* A message's body (the top one, or one inside message/rfc822 at prefix):
 * a multipart's children are prefix.N, a single part is prefix.1. */
static int mail_walk_body(struct mail_walk *w, GMimeObject *body, const char *prefix, guint depth)
{
	char *path;
	int rc;

	if (GMIME_IS_MULTIPART(body))
		return mail_walk_object(w, body, prefix, depth);
	path = *prefix != '\0' ? g_strdup_printf("%s.1", prefix) : g_strdup("1");
	rc = mail_walk_object(w, body, path, depth);
	g_free(path);
	return rc;
}

static int mail_walk_children(struct mail_walk *w, GMimeMultipart *mp, const char *prefix,
			      guint depth)
{
	int n = g_mime_multipart_get_count(mp);

	for (int i = 0; i < n; i++) {
		char *path = *prefix != '\0' ? g_strdup_printf("%s.%d", prefix, i + 1)
					     : g_strdup_printf("%d", i + 1);
		int rc = mail_walk_object(w, g_mime_multipart_get_part(mp, i), path, depth + 1);

		g_free(path);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* Depth first, counting every object (containers too) against the caps
 * before looking inside it, so recursion never goes past max_depth. */
static int mail_walk_object(struct mail_walk *w, GMimeObject *obj, const char *path, guint depth)
{
	if (++w->parts > w->max_parts)
		return error_set(w->err, ERR_INPUT, "too many MIME parts (over max-mime-parts, %u)",
				 w->max_parts);
	if (depth > w->max_depth)
		return error_set(w->err, ERR_INPUT,
				 "MIME nesting too deep (over max-mime-depth, %u levels)",
				 w->max_depth);
	if (GMIME_IS_MULTIPART(obj))
		return mail_walk_children(w, GMIME_MULTIPART(obj), path, depth);
	if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
		GMimeObject *body = inner != NULL ? g_mime_message_get_mime_part(inner) : NULL;

		return body != NULL ? mail_walk_body(w, body, path, depth + 1) : 0;
	}
	if (GMIME_IS_PART(obj))
		mail_leaf(w, obj, path);
	return 0;
}

/* The longest field of the header (up to its blank line), continuation
 * lines included; *name is where it starts. GMime has no cap of its own,
 * and one long field is what makes it recurse once per address group
 * until the stack runs out, or copy megabytes: so this bounded scan runs
 * before GMime sees the message. */
static gsize mail_longest_field(const char *data, gsize len, const char **name)
{
	gsize longest = 0, field = 0, i = 0;

	while (i < len) {
		const char *nl = memchr(data + i, '\n', len - i);
		gsize end = nl != NULL ? (gsize)(nl - data) + 1 : len;

		if (data[i] == '\n' || (data[i] == '\r' && end - i == 2))
			break; /* the blank line: the body begins */
		if (data[i] != ' ' && data[i] != '\t')
			field = i;
		if (end - field > longest) {
			longest = end - field;
			*name = data + field;
		}
		i = end;
	}
	return longest;
}

/* Refuse a header field over max (ERR_INPUT), naming it by at most 40
 * printable characters of its name. */
static int mail_check_fields(const char *data, gsize len, guint64 max, struct error *err)
{
	const char *name = NULL;
	gsize longest = mail_longest_field(data, len, &name);
	gsize n = 0;

	if (max == 0 || longest <= max)
		return 0;
	while (n < 40 && name + n < data + len && g_ascii_isgraph(name[n]) && name[n] != ':')
		n++;
	return error_set(err, ERR_INPUT,
			 "header field %.*s is %zu bytes, over max-header-size (%" G_GUINT64_FORMAT
			 ")",
			 (int)n, name, longest, max);
}

int mail_parse(struct mail *m, GBytes *raw, const struct mail_limits *limits, struct error *err)
{
	struct mail_walk w = { m, err, 0, MAIL_MAX_PARTS, MAIL_MAX_DEPTH };
	GMimeStream *stream = NULL;
	GMimeParser *parser = NULL;
	GMimeMessage *msg = NULL;
	GMimeObject *body;
	gsize len = 0;
	const char *data = g_bytes_get_data(raw, &len);
	int rc = -1;

	if (limits != NULL && limits->max_parts > 0)
		w.max_parts = limits->max_parts;
	if (limits != NULL && limits->max_depth > 0)
		w.max_depth = limits->max_depth;
	if (m->parts == NULL)
		m->parts = g_ptr_array_new_with_free_func(mail_part_free);
	if (m->auth_results == NULL)
		m->auth_results = g_ptr_array_new_with_free_func(g_free);
	if (limits != NULL && mail_check_fields(data, len, limits->max_field, err) < 0)
		goto fail;
	stream = g_mime_stream_mem_new_with_buffer(data != NULL ? data : "", len);
	parser = g_mime_parser_new_with_stream(stream);
	msg = g_mime_parser_construct_message(parser, NULL);
	if (msg == NULL) {
		error_set(err, ERR_INPUT, "not a mail message");
		goto fail;
	}
	mail_read_headers(m, msg);
	body = g_mime_message_get_mime_part(msg);
	if (body != NULL && mail_walk_body(&w, body, "", 0) < 0) {
		g_ptr_array_set_size(m->parts, 0);
		goto fail;
	}
	rc = 0;
fail:
	g_clear_object(&msg);
	g_clear_object(&parser);
	g_clear_object(&stream);
	return rc;
}
