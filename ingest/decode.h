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

#endif
