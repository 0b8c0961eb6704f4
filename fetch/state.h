/*
 * state.h: per [imap NAME] account, the mailbox's UIDVALIDITY and the
 * last UID handled (tlswatch.imap_state), so that a run reads only what
 * is new.
 */
#ifndef TLSWATCH_FETCH_STATE_H
#define TLSWATCH_FETCH_STATE_H

#include <glib.h>
#include <libpq-fe.h>

#include "common/error.h"

/* The state of account: *uidvalidity 0 and *last_uid 0 when there is
 * none yet. */
int imap_state_get(PGconn *conn, const char *account, guint64 *uidvalidity, guint64 *last_uid,
		   struct error *err);

/* Record that account's mailbox (uidvalidity) is handled up to last_uid. */
int imap_state_set(PGconn *conn, const char *account, guint64 uidvalidity, guint64 last_uid,
		   struct error *err);

#endif
