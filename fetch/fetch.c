/*
 * fetch.c: one run of one [imap NAME] account (fetch.h).
 *
 * The order is the guarantee: commit, then move on the server, then
 * record the UID. A run stopped anywhere in between (killed, network
 * down, database gone) leaves each message either still new on the
 * server, fetched again next time and stored as a duplicate, or moved
 * and recorded; never gone from the server without its commit.
 */
#include <unistd.h>

#include "common/log.h"
#include "fetch/fetch.h"
#include "fetch/imap.h"
#include "fetch/state.h"

/* Fetch, ingest, commit, move and record message uid. */
static int fetch_one(struct ingest_ctx *ctx, struct imap *im, const struct imap_account *a,
		     guint64 validity, guint64 uid, struct fetch_counts *n, struct error *err)
{
	g_autofree char *what = g_strdup_printf("imap %s uid %" G_GUINT64_FORMAT, a->name, uid);
	struct ingest_source src = { .input = what, .channel = "imap" };
	guint quarantined = ctx->totals.quarantined;
	g_autoptr(GBytes) raw = NULL;
	gboolean truncated = FALSE;
	const char *folder;

	if (imap_fetch(im, uid, ctx->cfg->max_message_size, &raw, &truncated, err) < 0) {
		if (err->cls != ERR_INPUT)
			return -1;
		log_warning("%s: gone from the mailbox since the search, skipped", what);
		error_clear(err);
		return imap_state_set(store_conn(ctx->store), a->name, validity, uid, err);
	}
	n->fetched++;
	n->bytes += g_bytes_get_size(raw);
	if (ingest_message(ctx, raw, truncated, &src, err) < 0 || ingest_flush(ctx, err) < 0)
		return -1;
	folder = ctx->totals.quarantined > quarantined ? a->quarantine : a->processed;
	if (folder != NULL || a->delete_handled) {
		if (imap_move(im, uid, folder, err) < 0)
			return -1;
		n->moved++;
	}
	return imap_state_set(store_conn(ctx->store), a->name, validity, uid, err);
}

int fetch_account(struct ingest_ctx *ctx, const struct imap_account *a,
		  const volatile sig_atomic_t *stop, struct fetch_counts *n, struct error *err)
{
	PGconn *conn = store_conn(ctx->store);
	g_autoptr(GArray) uids = NULL;
	struct imap *im = NULL;
	guint64 validity = 0, saved = 0, last = 0;
	int rc = -1;

	if (imap_state_get(conn, a->name, &saved, &last, err) < 0 || imap_open(&im, a, err) < 0 ||
	    imap_uidvalidity(im, &validity, err) < 0)
		goto done;
	if (saved != 0 && saved != validity) {
		log_warning("[imap %s] %s: UIDVALIDITY is %" G_GUINT64_FORMAT
			    ", was %" G_GUINT64_FORMAT
			    " (the mailbox was re-created): reading it again from its first "
			    "message; reports already stored are recognised as duplicates",
			    a->name, a->mailbox, validity, saved);
		last = 0;
	}
	if (imap_search(im, last, &uids, err) < 0)
		goto done;
	/* The progress line of ingest, on a terminal only (quiet under cron
	 * and systemd). */
	if (isatty(STDERR_FILENO)) {
		ctx->progress_total = MIN(uids->len, a->max_messages);
		ctx->progress_start = g_get_monotonic_time();
	}
	for (guint i = 0; i < uids->len && !*stop; i++) {
		if (n->fetched >= a->max_messages || n->bytes >= a->max_bytes) {
			n->more = TRUE;
			break;
		}
		if (fetch_one(ctx, im, a, validity, g_array_index(uids, guint64, i), n, err) < 0)
			goto done;
	}
	/* A re-created mailbox with nothing new in it: remember it anyway. */
	if (saved != validity && uids->len == 0 &&
	    imap_state_set(conn, a->name, validity, 0, err) < 0)
		goto done;
	rc = 0;
done:
	ingest_progress_clear(ctx);
	ctx->progress_total = 0;
	imap_close(im);
	return rc;
}
