/*
 * dns.c: TXT lookups with glibc's resolver (dns.h).
 *
 * res_nquery does the asking (UDP, then TCP when the answer is cut) and
 * ns_parserr the reading: this file only chooses the servers and the
 * timeout and joins a TXT record's character-strings. Each struct dns has
 * its own resolver state, so [dns] nameservers changes nothing else in
 * the process.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <string.h>

#include "common/dns.h"

/* Room for any answer over TCP: a key record is a few hundred bytes, and
 * an answer past this is cut, not overflowed (res_nquery's contract). */
#define DNS_ANSWER_MAX 65535

/* Records kept per name: a name with more is a hostile one. */
#define DNS_RECORDS_MAX 16

struct dns {
	struct __res_state res;
};

/* The servers of cfg's [dns] nameservers into res, replacing those of
 * /etc/resolv.conf. They were checked when the file was read. */
static void dns_set_servers(struct dns *d, char **servers)
{
	int n = 0;

	for (gsize i = 0; servers[i] != NULL && n < MAXNS; i++) {
		struct sockaddr_in *sin = &d->res.nsaddr_list[n];
		guint16 port = 53;

		if (config_parse_nameserver(servers[i], &sin->sin_addr, &port) < 0)
			continue;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		n++;
	}
	d->res.nscount = n;
}

int dns_new(struct dns **out, const struct config *cfg, struct error *err)
{
	struct dns *d = g_new0(struct dns, 1);

	if (res_ninit(&d->res) != 0) {
		g_free(d);
		return error_set(err, ERR_TEMP, "cannot set up the DNS resolver");
	}
	if (cfg->dns_nameservers != NULL && cfg->dns_nameservers[0] != NULL)
		dns_set_servers(d, cfg->dns_nameservers);
	d->res.retrans = (int)cfg->dns_timeout;
	d->res.retry = 2;
	*out = d;
	return 0;
}

void dns_free(struct dns *d)
{
	if (d == NULL)
		return;
	res_nclose(&d->res);
	g_free(d);
}

/* The character-strings of one TXT rdata, joined; NULL when they are
 * malformed or hold a NUL byte. The caller g_free()s it. */
static char *dns_txt_join(const guchar *rdata, gsize len)
{
	GString *s = g_string_new(NULL);
	gsize at = 0;

	while (at < len) {
		gsize n = rdata[at++];

		if (n > len - at || memchr(rdata + at, '\0', n) != NULL) {
			g_string_free(s, TRUE);
			return NULL;
		}
		g_string_append_len(s, (const char *)rdata + at, (gssize)n);
		at += n;
	}
	return g_string_free(s, FALSE);
}

enum dns_status dns_lookup_txt(struct dns *d, const char *name, GPtrArray **records, char **why)
{
	g_autofree guchar *answer = g_malloc(DNS_ANSWER_MAX);
	g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func(g_free);
	ns_msg msg;
	int len, count;

	len = res_nquery(&d->res, name, ns_c_in, ns_t_txt, answer, DNS_ANSWER_MAX);
	if (len < 0) {
		switch (d->res.res_h_errno) {
		case HOST_NOT_FOUND:
		case NO_DATA:
			*why = g_strdup_printf("%s: no TXT record", name);
			return DNS_NOTFOUND;
		default:
			*why = g_strdup_printf("%s: no answer from DNS (%s)", name,
					       hstrerror(d->res.res_h_errno));
			return DNS_TEMPFAIL;
		}
	}
	if (ns_initparse(answer, MIN(len, DNS_ANSWER_MAX), &msg) < 0) {
		*why = g_strdup_printf("%s: unreadable DNS answer", name);
		return DNS_TEMPFAIL;
	}
	count = ns_msg_count(msg, ns_s_an);
	for (int i = 0; i < count && found->len < DNS_RECORDS_MAX; i++) {
		ns_rr rr;
		char *text;

		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0) {
			*why = g_strdup_printf("%s: unreadable DNS answer", name);
			return DNS_TEMPFAIL;
		}
		/* A CNAME on the way is followed by the server: only the
		 * TXT records at its end count. */
		if (ns_rr_type(rr) != ns_t_txt || ns_rr_class(rr) != ns_c_in)
			continue;
		text = dns_txt_join(ns_rr_rdata(rr), ns_rr_rdlen(rr));
		if (text != NULL)
			g_ptr_array_add(found, text);
	}
	if (found->len == 0) {
		*why = g_strdup_printf("%s: no TXT record", name);
		return DNS_NOTFOUND;
	}
	*records = g_steal_pointer(&found);
	return DNS_OK;
}
