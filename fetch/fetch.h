/*
 * fetch.h: report mail from IMAP mailboxes (`tlswatch fetch`).
 *
 * One [imap NAME] group per mailbox. A run asks the server for the
 * messages after the last UID handled (state.c), fetches each (imap.c,
 * libcurl's IMAP), hands it to the one ingest path like a piped message,
 * and only once that is committed moves it on the server (to
 * processed-folder or quarantine-folder, or deletes it) and records its
 * UID. A failure between the commit and the move leaves the message to be
 * fetched again: stored as a duplicate, never lost, never counted twice.
 */
#ifndef TLSWATCH_FETCH_H
#define TLSWATCH_FETCH_H

#include <glib.h>
#include <signal.h>

#include "common/config.h"
#include "common/error.h"
#include "ingest/ingest.h"

/* One [imap NAME] group. */
struct imap_account {
	char *name;		 /* NAME */
	char *url;		 /* url: imaps://host[:port]/MAILBOX */
	char *server;		 /* the url without its mailbox: imaps://host[:port]/ */
	char *mailbox;		 /* the mailbox, decoded (INBOX) */
	char *user;		 /* user */
	char *password_file;	 /* password-file, or NULL */
	char *token_command;	 /* oauth2-token-command (XOAUTH2), or NULL */
	char *processed;	 /* processed-folder, or NULL */
	char *quarantine;	 /* quarantine-folder, or NULL */
	gboolean delete_handled; /* delete: remove handled messages instead */
	char *ca_file;		 /* ca-file, or NULL: the system's trust store */
	char *search;		 /* search: more IMAP search keys, or NULL */
	guint max_messages;	 /* max-messages per run, default 1000 */
	guint64 max_bytes;	 /* max-bytes per run, default 512M */
	gint64 timeout;		 /* timeout: seconds per IMAP command, default 60 */
};

/* What one run of one account did. */
struct fetch_counts {
	guint fetched;
	guint moved;
	guint64 bytes;
	gboolean more; /* stopped at max-messages or max-bytes: more is waiting */
};

/* The [imap NAME] groups of cfg (only those named in only, when not NULL)
 * into *out (a new array of struct imap_account *, the caller's). An
 * account named in only that does not exist, or a bad value, is an
 * ERR_CONFIG naming file, group and key. */
int fetch_config_load(GPtrArray **out, const struct config *cfg, char **only, struct error *err);

void imap_account_free(gpointer a);

/* One run of account a: everything new, up to its caps, through ctx (its
 * store open), until *stop is set (a signal: checked between messages).
 * Returns -1 with err (ERR_TEMP: server, network, database, a token
 * command that fails) when the run stopped early; what was committed
 * before stays committed and recorded. */
int fetch_account(struct ingest_ctx *ctx, const struct imap_account *a,
		  const volatile sig_atomic_t *stop, struct fetch_counts *n, struct error *err);

#endif
