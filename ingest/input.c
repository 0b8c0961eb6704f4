/*
 * input.c: cutting inputs into messages (see input.h).
 *
 * mbox boundaries come from GMime's own mbox parser (offsets of each
 * message's header and end), not from a "From " scan of ours, and every
 * message is sliced out of one mapping of the file, so memory stays flat
 * whatever the size of the mailbox.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "ingest/decode.h"
#include "ingest/input.h"

#define READ_CHUNK 65536

int input_read_stdin(guint64 max, GBytes **out, gboolean *truncated, struct error *err)
{
	g_autoptr(GByteArray) buf = g_byte_array_new();
	guint8 chunk[READ_CHUNK];
	ssize_t n;

	*truncated = FALSE;
	for (;;) {
		n = read(STDIN_FILENO, chunk, sizeof chunk);
		if (n == 0)
			break;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_set(err, ERR_TEMP, "cannot read the message from stdin: %s",
					 g_strerror(errno));
		if (buf->len + (guint64)n > max) {
			g_byte_array_append(buf, chunk, (guint)(max - buf->len));
			*truncated = TRUE;
			continue;
		}
		g_byte_array_append(buf, chunk, (guint)n);
	}
	*out = g_byte_array_free_to_bytes(g_steal_pointer(&buf));
	return 0;
}

/* A bare report by name or by content, rather than a mail message. */
static gboolean input_is_bare_report(const char *path, GBytes *bytes)
{
	static const char *const suffixes[] = {".json", ".json.gz", ".gz", ".zip"};
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(bytes, &len);

	for (gsize i = 0; i < G_N_ELEMENTS(suffixes); i++) {
		if (g_str_has_suffix(path, suffixes[i]))
			return TRUE;
	}
	switch (decode_sniff(data, len)) {
	case PAYLOAD_GZIP:
	case PAYLOAD_ZIP:
	case PAYLOAD_JSON:
		return TRUE;
	default:
		return FALSE;
	}
}

/* One message slice of a file, capped like stdin. */
static int input_ingest_slice(struct ingest_ctx *ctx, GBytes *all, gsize start, gsize len,
			      const struct ingest_source *src, struct error *err)
{
	gboolean truncated = len > ctx->cfg->max_message_size;
	g_autoptr(GBytes) raw =
		g_bytes_new_from_bytes(all, start, truncated ? ctx->cfg->max_message_size : len);

	return ingest_message(ctx, raw, truncated, src, err);
}

static int input_ingest_file(struct ingest_ctx *ctx, const char *path, gboolean is_message,
			     struct error *err);

static int compare_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every message of an mbox, as GMime's mbox parser finds them; all is the
 * mapping of the same file, which the messages are sliced from. */
static int input_ingest_mbox(struct ingest_ctx *ctx, const char *path, GBytes *all,
			     struct error *err)
{
	GMimeStream *stream = NULL;
	GMimeParser *parser = NULL;
	GMimeMessage *msg = NULL;
	struct ingest_source src = {.input = path};
	gsize size = g_bytes_get_size(all);
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;

	if (fd < 0)
		return error_set(err, ERR_USAGE, "cannot open %s: %s", path, g_strerror(errno));
	stream = g_mime_stream_fs_new(fd); /* owns fd */
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MBOX);
	while (!g_mime_parser_eos(parser)) {
		gint64 begin, end;

		msg = g_mime_parser_construct_message(parser, NULL);
		begin = g_mime_parser_get_headers_begin(parser);
		end = g_mime_parser_tell(parser);
		if (msg == NULL || begin < 0 || end < begin || (guint64)end > size)
			break;
		g_clear_object(&msg);
		src.index++;
		if (input_ingest_slice(ctx, all, (gsize)begin, (gsize)(end - begin), &src, err) < 0)
			goto fail;
	}
	rc = 0;
fail:
	g_clear_object(&msg);
	g_object_unref(parser);
	g_object_unref(stream);
	return rc;
}

/* A Maildir's messages: new/ then cur/, each in name order so that a
 * rerun meets them in the same order. */
static int input_ingest_maildir(struct ingest_ctx *ctx, const char *path, struct error *err)
{
	static const char *const subdirs[] = {"new", "cur"};

	for (gsize i = 0; i < G_N_ELEMENTS(subdirs); i++) {
		g_autofree char *dirpath = g_build_filename(path, subdirs[i], NULL);
		g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
		g_autoptr(GError) gerr = NULL;
		g_autoptr(GDir) dir = g_dir_open(dirpath, 0, &gerr);
		const char *name;

		if (dir == NULL && g_error_matches(gerr, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			continue;
		if (dir == NULL)
			return error_set(err, ERR_USAGE, "cannot read %s: %s", dirpath,
					 gerr->message);
		while ((name = g_dir_read_name(dir)) != NULL) {
			if (name[0] != '.')
				g_ptr_array_add(names, g_build_filename(dirpath, name, NULL));
		}
		g_ptr_array_sort(names, compare_names);
		for (guint j = 0; j < names->len; j++) {
			if (input_ingest_file(ctx, g_ptr_array_index(names, j), TRUE, err) < 0)
				return -1;
		}
	}
	return 0;
}

/* A file: an mbox, a bare report or one message. is_message skips the
 * guessing for a Maildir's files, which are messages by definition. */
static int input_ingest_file(struct ingest_ctx *ctx, const char *path, gboolean is_message,
			     struct error *err)
{
	g_autoptr(GError) gerr = NULL;
	g_autoptr(GMappedFile) map = g_mapped_file_new(path, FALSE, &gerr);
	g_autoptr(GBytes) all = NULL;
	struct ingest_source src = {.input = path};
	const char *data;
	gsize size;

	if (map == NULL)
		return error_set(err, ERR_USAGE, "cannot read %s", gerr->message);
	all = g_mapped_file_get_bytes(map);
	data = g_bytes_get_data(all, &size);
	if (!is_message && size >= 5 && memcmp(data, "From ", 5) == 0)
		return input_ingest_mbox(ctx, path, all, err);
	if (!is_message && input_is_bare_report(path, all))
		return ingest_bare_report(ctx, all, &src, err);
	return input_ingest_slice(ctx, all, 0, size, &src, err);
}

int input_ingest_path(struct ingest_ctx *ctx, const char *path, struct error *err)
{
	g_autofree char *cur = g_build_filename(path, "cur", NULL);
	g_autofree char *new = g_build_filename(path, "new", NULL);

	if (!g_file_test(path, G_FILE_TEST_IS_DIR))
		return input_ingest_file(ctx, path, FALSE, err);
	if (!g_file_test(cur, G_FILE_TEST_IS_DIR) && !g_file_test(new, G_FILE_TEST_IS_DIR))
		return error_set(err, ERR_USAGE, "%s: a folder but not a Maildir (no cur/ or new/)",
				 path);
	return input_ingest_maildir(ctx, path, err);
}
