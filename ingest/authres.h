/*
 * authres.h: the DKIM results an Authentication-Results field states
 * (RFC 8601), for a site whose MTA verifies DKIM already ([ingest]
 * trusted-authserv-id). GMime has no parser for this field.
 */
#ifndef TLSWATCH_AUTHRES_H
#define TLSWATCH_AUTHRES_H

#include <glib.h>

/* Find, among fields (char *: Authentication-Results values, the topmost
 * first), the topmost one whose authserv-id is authserv_id (compared
 * without case) and add each of its dkim results to sigs as a struct
 * dkim_signature (dkim.h). Fields of other hosts are ignored: anyone can
 * write one. Returns FALSE when no field has that authserv-id, or the
 * topmost one has no dkim result (verify the signatures instead). */
gboolean authres_dkim(GPtrArray *fields, const char *authserv_id, GPtrArray *sigs);

#endif
