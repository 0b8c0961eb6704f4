/*
 * trust.h: is a message authenticated? The judgement of ingest's trust
 * stage, from the evidence the parser gathered (parse.h: DKIM signatures
 * verified, or a trusted MTA's Authentication-Results).
 *
 * A message is authenticated when a signature passes, covers the whole
 * body (no l= tag) and its d= is aligned with the reporter: the same
 * organisational domain (public suffix list) as the TLS-Report-Submitter
 * field, or when that is absent the From address's domain. RFC 8460 5.3
 * makes TLS-Report-Submitter the reporter's domain; the report's own
 * contact-info is free text and not used. [ingest] trusted-reporters
 * names reporters counted as authenticated without a signature, by
 * organization-name or by signing domain. A report POSTed over HTTP(S)
 * has no signature: it is unauthenticated, and says so. A bare report
 * file named on the command line is not judged: the operator who
 * imports it vouches for it.
 */
#ifndef TLSWATCH_TRUST_H
#define TLSWATCH_TRUST_H

#include <glib.h>

#include "common/config.h"
#include "ingest/parse.h"

struct trust {
	gboolean judged;	/* FALSE with dkim = off (nothing below is set), and for a
				   report file imported by hand (note says so) */
	gboolean authenticated; /* the reports count (alert, digest) */
	char *result;		/* "pass", "fail", "none", "neutral", "temperror", "permerror"
				   of the deciding signature; "none" for no signature */
	char *domain;		/* its d=, or NULL */
	char *selector;		/* its s=, or NULL */
	char *note;		/* one line for people: why it is or is not authenticated */
	char *signatures;	/* every signature as a JSON array (messages.dkim_signatures),
				   or NULL when there was no evidence */
};

/* Judge the message p (parsed, with its evidence) that came over channel
 * ("pipe", "lmtp", "https", ...; client the POSTing address or NULL) into
 * t, which trust_release frees. */
void trust_judge(struct trust *t, const struct config *cfg, const struct parsed *p,
		 const char *channel, const char *client);

void trust_release(struct trust *t);

#endif
