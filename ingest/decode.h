/*
 * decode.h: from the bytes of a MIME part to the bytes of a JSON document.
 *
 * Transfer encodings (base64, quoted-printable) are GMime's job and are done
 * before this point. Here the content itself is sniffed (gzip magic, zip
 * magic, a JSON object) because real reporters' labels cannot be trusted,
 * and inflated under a cap that holds while inflating, not after.
 */
#ifndef TLSWATCH_DECODE_H
#define TLSWATCH_DECODE_H

#include <glib.h>

#include "common/error.h"

enum payload_kind {
	PAYLOAD_UNKNOWN = 0,
	PAYLOAD_GZIP,
	PAYLOAD_ZIP,
	PAYLOAD_JSON, /* first non-blank byte is '{' */
	PAYLOAD_XML,  /* first non-blank byte is '<' (DMARC reports) */
};

/* What the first bytes of buf say it is. */
enum payload_kind decode_sniff(const guint8 *buf, gsize len);

/* A human name for a kind ("gzip", "zip", ...), static. */
const char *decode_kind_name(enum payload_kind kind);

/* Decompress in (gzip: one member, trailing bytes ignored; zip: the single
 * member, or the one whose name ends in .json) or pass it through when it is
 * already plain. Never produces more than max_out bytes: past that it stops
 * and fails with a reason naming the cap. Returns a new GBytes the caller
 * owns, or NULL with err set (ERR_INPUT for bad data, ERR_TEMP for memory).
 * *kind, when not NULL, receives what the input was. */
GBytes *decode_payload(GBytes *in, gsize max_out, enum payload_kind *kind, struct error *err);

/* Start the per-message caps that decode_payload applies on top of max_out
 * until the next call: at most max_total bytes out of all parts together
 * (max-total-report-size) and, once a part's output passes 1 MiB, at most
 * max_ratio output bytes per compressed input byte (max-gzip-ratio); 0
 * turns either off. Process-wide state, because a process handles one
 * message at a time: called per message by watchdog_message_begin(). Before
 * the first call neither cap applies. */
void decode_message_begin(guint64 max_total, guint max_ratio);

#endif
