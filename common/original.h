/*
 * original.h: a stored report's JSON as the reporter sent it, compressed.
 *
 * reports.original holds the JSON a report arrived as (after gzip or zip,
 * before any reading), deflated in the zlib format (RFC 1950) against a
 * preset dictionary of RFC 8460's field names and registry values. Daily
 * reports are short and alike, too short for PostgreSQL to compress (it
 * never tries a row under about 2 KB): a 1.4 KB report takes about 240
 * bytes this way against 915 as jsonb. The policies and failures tables
 * hold every figure; this is the evidence behind them, read back with
 * `tlswatch db report`.
 */
#ifndef TLSWATCH_ORIGINAL_H
#define TLSWATCH_ORIGINAL_H

#include <glib.h>

#include "common/error.h"

/* The len bytes at json, deflated; NULL without memory. A new GBytes
 * (g_bytes_unref). */
GBytes *original_deflate(const void *json, gsize len);

/* What original_deflate made of a JSON text, inflated again, at most max
 * bytes (ERR_INPUT past that, or for bytes it did not make). A new
 * GBytes (g_bytes_unref), NULL on error. */
GBytes *original_inflate(const void *data, gsize len, gsize max, struct error *err);

#endif
