/*
 * reverify.h: judge again the stored messages whose DKIM key could not be
 * fetched when they arrived (`tlswatch db reverify`).
 *
 * With [ingest] dkim = record, a DNS failure stores the message as
 * temperror, not authenticated, and keeps its raw bytes: this runs them
 * through the parse and the judgement again, under the configuration of
 * now, and writes the verdict on the message, its reports and their
 * policies in one transaction per message. The raw bytes go once the
 * verdict is no longer temperror (unless keep-raw).
 */
#ifndef TLSWATCH_REVERIFY_H
#define TLSWATCH_REVERIFY_H

#include "ingest/ingest.h"

struct reverify_counts {
	guint authenticated;
	guint unauthenticated;
	guint temperror; /* still no key */
};

/* Judge again every stored message with dkim_result temperror and raw
 * bytes, counting the verdicts in *n. Returns -1 with err when the
 * database or the parse child fails (ERR_TEMP). */
int ingest_reverify(struct ingest_ctx *ctx, struct reverify_counts *n, struct error *err);

#endif
