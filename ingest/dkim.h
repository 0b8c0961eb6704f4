/*
 * dkim.h: the DKIM signatures of one message, verified with libopendkim.
 *
 * libopendkim does the canonicalisation and the crypto; this file gives
 * it the message, looks up each key through the one resolver (dns.h) and
 * reads back, per signature, what trust.c needs to judge the message.
 */
#ifndef TLSWATCH_DKIM_H
#define TLSWATCH_DKIM_H

#include <glib.h>

#include "common/dns.h"
#include "common/error.h"

/* Signatures verified per message: each costs a DNS lookup, and a report
 * needs one. The others are listed as not verified. */
#define DKIM_SIGNATURES_MAX 8

/* One signature, verified here or as a trusted Authentication-Results
 * field states it (authres.h). */
struct dkim_signature {
	char *result;	      /* "pass", "fail", "neutral", "temperror" or "permerror" */
	char *domain;	      /* d=, or NULL */
	char *selector;	      /* s=, or NULL */
	char *error;	      /* why it did not pass, or NULL */
	gboolean body_length; /* an l= tag: it need not cover the whole body */
	gboolean tlsrpt_key;  /* the key's s= allows tlsrpt (absent, "*" or "tlsrpt") */
};

/* A new, empty signature; free it with dkim_signature_free. */
struct dkim_signature *dkim_signature_new(void);

void dkim_signature_free(gpointer sig);

/* Verify every DKIM-Signature field of the message raw, adding one struct
 * dkim_signature per field, in header order, to sigs (which frees them
 * with dkim_signature_free). A message with no signature adds none.
 * Returns -1 (ERR_TEMP) only when libopendkim cannot be set up. */
int dkim_verify_message(GBytes *raw, struct dns *dns, GPtrArray *sigs, struct error *err);

#endif
