/*
 * dns.h: DNS lookups (TXT, MX, addresses) through one resolver
 * configuration.
 *
 * The system resolver (/etc/resolv.conf, through glibc's res_n* calls)
 * unless [dns] nameservers names others, with [dns] timeout per try. It
 * is the one way tlswatch asks DNS anything (DKIM keys now, the `check`
 * command later), so that a site with a local validating resolver, or a
 * test with its own server on 127.0.0.1, sets it in one place.
 */
#ifndef TLSWATCH_DNS_H
#define TLSWATCH_DNS_H

#include <glib.h>

#include "common/config.h"
#include "common/error.h"

enum dns_status {
	DNS_OK,	      /* the name has TXT records */
	DNS_NOTFOUND, /* NXDOMAIN or no TXT record: an answer, not a failure */
	DNS_TEMPFAIL, /* no answer (timeout, SERVFAIL, refused, unusable reply) */
};

struct dns;

/* A resolver set up from cfg ([dns] nameservers, timeout). The caller owns
 * *out and frees it with dns_free. Returns -1 with err (ERR_TEMP) when the
 * resolver cannot be set up. */
int dns_new(struct dns **out, const struct config *cfg, struct error *err);

void dns_free(struct dns *d);

/* The TXT records of name, each one's character-strings joined, in
 * *records (a new array of char * the caller unrefs; only with DNS_OK).
 * A record holding a NUL byte is left out. *why (the caller g_free()s it)
 * says what went wrong for anything but DNS_OK. */
enum dns_status dns_lookup_txt(struct dns *d, const char *name, GPtrArray **records, char **why);

/* The MX hosts of name, the most preferred first, without the final dot,
 * in *hosts (char *, the caller's), as dns_lookup_txt. */
enum dns_status dns_lookup_mx(struct dns *d, const char *name, GPtrArray **hosts, char **why);

/* The IPv4 and IPv6 addresses of name, as text, in *addresses (char *,
 * the caller's), as dns_lookup_txt. */
enum dns_status dns_lookup_addresses(struct dns *d, const char *name, GPtrArray **addresses,
				     char **why);

#endif
