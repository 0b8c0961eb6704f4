/*
 * imap.h: the IMAP commands tlswatch fetch needs, through libcurl.
 *
 * One libcurl easy handle per account keeps one connection for the whole
 * run. libcurl logs in (password or XOAUTH2), selects the mailbox and
 * fetches by UID; the other commands are custom requests whose untagged
 * answers are read here. Every answer is capped: the server is as
 * untrusted as the mail it holds.
 */
#ifndef TLSWATCH_IMAP_H
#define TLSWATCH_IMAP_H

#include <glib.h>

#include "common/error.h"
#include "fetch/fetch.h"

struct imap;

/* Set up a session for a (nothing is sent yet). The caller owns *out and
 * frees it with imap_close. Returns -1 with err when the password file
 * cannot be read or the token command fails (ERR_TEMP: it may work next
 * time; the message says which). */
int imap_open(struct imap **out, const struct imap_account *a, struct error *err);

void imap_close(struct imap *im);

/* The mailbox's UIDVALIDITY. */
int imap_uidvalidity(struct imap *im, guint64 *uidvalidity, struct error *err);

/* The UIDs after after_uid (and matching the account's search keys), in
 * ascending order, in *uids (a new array of guint64, the caller's). */
int imap_search(struct imap *im, guint64 after_uid, GArray **uids, struct error *err);

/* Message uid into *raw (a new reference). At most max bytes are kept;
 * *truncated says more came. ERR_INPUT: the message is gone. */
int imap_fetch(struct imap *im, guint64 uid, guint64 max, GBytes **raw, gboolean *truncated,
	       struct error *err);

/* Move message uid to folder (RFC 6851 MOVE), or delete it (folder
 * NULL: flagged \Deleted, then expunged by UID, RFC 4315). */
int imap_move(struct imap *im, guint64 uid, const char *folder, struct error *err);

#endif
