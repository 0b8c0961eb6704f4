/*
 * input.c: cutting inputs into messages (see input.h).
 *
 * Every message is sliced out of one mapping of its file, never copied, so
 * memory stays flat whatever the size of a mailbox; the parsing of each
 * message is GMime's, in ingest_message.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/buffer.h"
#include "common/log.h"
#include "ingest/decode.h"
#include "ingest/input.h"

#define READ_CHUNK 65536

volatile sig_atomic_t input_stop;

int input_read_stdin(guint64 max, GBytes **out, gboolean *truncated, struct error *err)
{
	struct buffer buf = BUFFER_INIT;
	guint8 chunk[READ_CHUNK];
	ssize_t n;

	*truncated = FALSE;
	for (;;) {
		n = read(STDIN_FILENO, chunk, sizeof chunk);
		if (n == 0)
			break;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error_set(err, ERR_TEMP, "cannot read the message from stdin: %s",
				  g_strerror(errno));
			goto fail;
		}
		if (buf.len + (guint64)n > max) {
			*truncated = TRUE;
			n = (ssize_t)(max - buf.len);
		}
		if (buffer_append(&buf, chunk, (gsize)n) < 0) {
			error_set(err, ERR_TEMP,
				  "out of memory after reading %" G_GSIZE_FORMAT
				  " bytes of the message",
				  buf.len);
			goto fail;
		}
	}
	*out = buffer_steal(&buf);
	return 0;
fail:
	buffer_clear(&buf);
	return -1;
}

/* A bare report by name or by content, rather than a mail message. */
static gboolean input_is_bare_report(const char *path, GBytes *bytes)
{
	static const char *const suffixes[] = { ".json", ".json.gz", ".gz", ".zip" };
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

/* The offset of the next "From " line at or after pos (RFC 4155: a
 * message starts at a line beginning with "From "), or len. */
static gsize mbox_next_from(const char *data, gsize len, gsize pos)
{
	while (pos < len) {
		const char *nl;

		if (len - pos >= 5 && memcmp(data + pos, "From ", 5) == 0)
			return pos;
		nl = memchr(data + pos, '\n', len - pos);
		if (nl == NULL)
			break;
		pos = (gsize)(nl - data) + 1;
	}
	return len;
}

/* Every message of an mbox, sliced out of the mapping at its From_ lines.
 * GMime's own mbox mode was the first choice, but it stops at a message
 * whose header it cannot parse and silently drops the rest of the mailbox;
 * the From_ line is all the format defines, and each message is then
 * parsed by GMime in ingest_message like any other. Quoted ">From " lines
 * in bodies are left as they are: they only ever occur in text parts. */
static int input_ingest_mbox(struct ingest_ctx *ctx, const char *path, GBytes *all,
			     struct error *err)
{
	gsize len = 0;
	const char *data = g_bytes_get_data(all, &len);
	struct ingest_source src = { .input = path, .channel = "file" };
	gsize pos = mbox_next_from(data, len, 0);

	while (pos < len && !input_stop) {
		const char *eol = memchr(data + pos, '\n', len - pos);
		gsize start = eol ? (gsize)(eol - data) + 1 : len;
		gsize end = mbox_next_from(data, len, start);

		src.index++;
		if (input_ingest_slice(ctx, all, start, end - start, &src, err) < 0)
			return -1;
		pos = end;
	}
	return 0;
}

/* A Maildir's folders, in the order they are read. */
static const char *const maildir_subdirs[] = { "new", "cur" };

/* The names in the folder dirpath (a Maildir's new/ or cur/, or a plain
 * folder), hidden ones left out, in name order so that a rerun meets them
 * in the same order; a missing folder has none. The names go into chunk,
 * packed, since a mailbox of years may hold a million: *out is a new
 * GPtrArray of pointers into it. */
static int folder_list(const char *dirpath, GStringChunk *chunk, GPtrArray **out, struct error *err)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new();
	g_autoptr(GError) gerr = NULL;
	g_autoptr(GDir) dir = g_dir_open(dirpath, 0, &gerr);
	const char *name;

	if (dir == NULL && !g_error_matches(gerr, G_FILE_ERROR, G_FILE_ERROR_NOENT))
		return error_set(err, ERR_USAGE, "cannot read %s: %s", dirpath, gerr->message);
	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		if (name[0] != '.')
			g_ptr_array_add(names, g_string_chunk_insert(chunk, name));
	}
	g_ptr_array_sort(names, compare_names);
	*out = g_steal_pointer(&names);
	return 0;
}

/* A Maildir's messages: new/ then cur/. */
static int input_ingest_maildir(struct ingest_ctx *ctx, const char *path, struct error *err)
{
	for (gsize i = 0; i < G_N_ELEMENTS(maildir_subdirs); i++) {
		g_autofree char *dirpath = g_build_filename(path, maildir_subdirs[i], NULL);
		g_autoptr(GStringChunk) chunk = g_string_chunk_new(65536);
		g_autoptr(GPtrArray) names = NULL;

		if (folder_list(dirpath, chunk, &names, err) < 0)
			return -1;
		for (guint j = 0; j < names->len && !input_stop; j++) {
			g_autofree char *file =
				g_build_filename(dirpath, g_ptr_array_index(names, j), NULL);

			if (input_ingest_file(ctx, file, TRUE, err) < 0)
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
	struct ingest_source src = { .input = path, .channel = "file" };
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

static gboolean input_is_maildir(const char *path)
{
	g_autofree char *cur = g_build_filename(path, "cur", NULL);
	g_autofree char *new = g_build_filename(path, "new", NULL);

	return g_file_test(cur, G_FILE_TEST_IS_DIR) || g_file_test(new, G_FILE_TEST_IS_DIR);
}

/* Whether a plain folder's walk goes into entry: a file, or a folder that
 * is not a symbolic link (one could lead back up and never end); not a
 * FIFO or a device. The ingest and the progress count agree through it. */
static gboolean folder_entry_walked(const char *entry)
{
	return g_file_test(entry, G_FILE_TEST_IS_REGULAR) ||
	       (g_file_test(entry, G_FILE_TEST_IS_DIR) &&
		!g_file_test(entry, G_FILE_TEST_IS_SYMLINK));
}

/* What a plain folder holds, in name order: each file as if named on the
 * command line, each folder in turn (Maildir or plain). */
static int input_ingest_folder(struct ingest_ctx *ctx, const char *path, struct error *err)
{
	g_autoptr(GStringChunk) chunk = g_string_chunk_new(65536);
	g_autoptr(GPtrArray) names = NULL;
	int rc = 0;

	if (folder_list(path, chunk, &names, err) < 0)
		return -1;
	for (guint i = 0; i < names->len && !input_stop; i++) {
		g_autofree char *entry = g_build_filename(path, g_ptr_array_index(names, i), NULL);

		if (!folder_entry_walked(entry))
			log_info("skipped %s: not a file or a folder", entry);
		else if (g_file_test(entry, G_FILE_TEST_IS_REGULAR))
			rc = input_ingest_file(ctx, entry, FALSE, err);
		else
			rc = input_ingest_path(ctx, entry, err);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int input_ingest_path(struct ingest_ctx *ctx, const char *path, struct error *err)
{
	if (!g_file_test(path, G_FILE_TEST_IS_DIR))
		return input_ingest_file(ctx, path, FALSE, err);
	if (input_is_maildir(path))
		return input_ingest_maildir(ctx, path, err);
	return input_ingest_folder(ctx, path, err);
}

guint input_count_path(const char *path)
{
	g_autoptr(GMappedFile) map = NULL;
	const char *data;
	gsize len, pos;
	guint n = 0;

	if (g_file_test(path, G_FILE_TEST_IS_DIR) && input_is_maildir(path)) {
		for (gsize i = 0; i < G_N_ELEMENTS(maildir_subdirs); i++) {
			g_autofree char *dirpath = g_build_filename(path, maildir_subdirs[i], NULL);
			g_autoptr(GStringChunk) chunk = g_string_chunk_new(65536);
			g_autoptr(GPtrArray) names = NULL;
			struct error err = ERROR_INIT;

			if (folder_list(dirpath, chunk, &names, &err) == 0 && names != NULL)
				n += names->len;
			error_clear(&err);
		}
		return n;
	}
	if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
		g_autoptr(GStringChunk) chunk = g_string_chunk_new(65536);
		g_autoptr(GPtrArray) names = NULL;
		struct error err = ERROR_INIT;

		if (folder_list(path, chunk, &names, &err) == 0 && names != NULL) {
			for (guint i = 0; i < names->len; i++) {
				g_autofree char *entry =
					g_build_filename(path, g_ptr_array_index(names, i), NULL);

				if (folder_entry_walked(entry))
					n += input_count_path(entry);
			}
		}
		error_clear(&err);
		return n;
	}
	map = g_mapped_file_new(path, FALSE, NULL);
	if (map == NULL)
		return 0;
	data = g_mapped_file_get_contents(map);
	len = g_mapped_file_get_length(map);
	if (len < 5 || memcmp(data, "From ", 5) != 0)
		return 1;
	for (pos = 0; pos < len; n++) {
		const char *eol = memchr(data + pos, '\n', len - pos);

		pos = mbox_next_from(data, len, eol ? (gsize)(eol - data) + 1 : len);
	}
	return n;
}
