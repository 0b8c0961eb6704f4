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

static gint dns_strcmp(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
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

/* The rdata of rr as the string a lookup returns, or NULL to leave it
 * out; msg for the names compressed in it. */
typedef char *(*dns_rdata_fn)(const ns_msg *msg, const ns_rr *rr);

static char *dns_rdata_txt(const ns_msg *msg, const ns_rr *rr)
{
	return dns_txt_join(ns_rr_rdata(*rr), ns_rr_rdlen(*rr));
}

/* "PPPPP host": the preference first, zero-padded, so that sorting the
 * strings sorts the hosts; dns_lookup_mx takes it off. */
static char *dns_rdata_mx(const ns_msg *msg, const ns_rr *rr)
{
	char host[NS_MAXDNAME];

	if (ns_rr_rdlen(*rr) < 3 || ns_name_uncompress(ns_msg_base(*msg), ns_msg_end(*msg),
						       ns_rr_rdata(*rr) + 2, host, sizeof host) < 0)
		return NULL;
	return g_strdup_printf("%05u %s", ns_get16(ns_rr_rdata(*rr)), host);
}

static char *dns_rdata_address(const ns_msg *msg, const ns_rr *rr)
{
	char text[INET6_ADDRSTRLEN];
	int family = ns_rr_type(*rr) == ns_t_a ? AF_INET : AF_INET6;
	gsize want = family == AF_INET ? 4 : 16;

	if (ns_rr_rdlen(*rr) != want ||
	    inet_ntop(family, ns_rr_rdata(*rr), text, sizeof text) == NULL)
		return NULL;
	return g_strdup(text);
}

/* The records of name of type (what: "TXT", for messages), each made a
 * string by fn, appended to found. */
static enum dns_status dns_lookup(struct dns *d, const char *name, ns_type type, const char *what,
				  dns_rdata_fn fn, GPtrArray *found, char **why)
{
	g_autofree guchar *answer = g_malloc(DNS_ANSWER_MAX);
	guint before = found->len;
	ns_msg msg;
	int len, count;

	len = res_nquery(&d->res, name, ns_c_in, type, answer, DNS_ANSWER_MAX);
	if (len < 0) {
		switch (d->res.res_h_errno) {
		case HOST_NOT_FOUND:
		case NO_DATA:
			*why = g_strdup_printf("%s: no %s record", name, what);
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
	for (int i = 0; i < count && found->len - before < DNS_RECORDS_MAX; i++) {
		ns_rr rr;
		char *text;

		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0) {
			*why = g_strdup_printf("%s: unreadable DNS answer", name);
			return DNS_TEMPFAIL;
		}
		/* A CNAME on the way is followed by the server: only the
		 * records at its end count. */
		if (ns_rr_type(rr) != type || ns_rr_class(rr) != ns_c_in)
			continue;
		if ((text = fn(&msg, &rr)) != NULL)
			g_ptr_array_add(found, text);
	}
	if (found->len == before) {
		*why = g_strdup_printf("%s: no %s record", name, what);
		return DNS_NOTFOUND;
	}
	return DNS_OK;
}

enum dns_status dns_lookup_txt(struct dns *d, const char *name, GPtrArray **records, char **why)
{
	g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func(g_free);
	enum dns_status status = dns_lookup(d, name, ns_t_txt, "TXT", dns_rdata_txt, found, why);

	if (status == DNS_OK)
		*records = g_steal_pointer(&found);
	return status;
}

enum dns_status dns_lookup_mx(struct dns *d, const char *name, GPtrArray **hosts, char **why)
{
	g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func(g_free);
	enum dns_status status = dns_lookup(d, name, ns_t_mx, "MX", dns_rdata_mx, found, why);

	if (status != DNS_OK)
		return status;
	g_ptr_array_sort(found, (GCompareFunc)dns_strcmp);
	for (guint i = 0; i < found->len; i++) {
		char *entry = g_ptr_array_index(found, i);

		/* The preference and its space off, and no final dot. */
		memmove(entry, entry + 6, strlen(entry + 6) + 1);
		if (*entry != '\0' && entry[strlen(entry) - 1] == '.')
			entry[strlen(entry) - 1] = '\0';
	}
	*hosts = g_steal_pointer(&found);
	return DNS_OK;
}

enum dns_status dns_lookup_addresses(struct dns *d, const char *name, GPtrArray **addresses,
				     char **why)
{
	g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *why4 = NULL, *why6 = NULL;
	enum dns_status v4 = dns_lookup(d, name, ns_t_a, "A", dns_rdata_address, found, &why4);
	enum dns_status v6 =
		dns_lookup(d, name, ns_t_aaaa, "AAAA", dns_rdata_address, found, &why6);

	if (found->len > 0) {
		*addresses = g_steal_pointer(&found);
		return DNS_OK;
	}
	if (v4 == DNS_TEMPFAIL || v6 == DNS_TEMPFAIL) {
		*why = v4 == DNS_TEMPFAIL ? g_steal_pointer(&why4) : g_steal_pointer(&why6);
		return DNS_TEMPFAIL;
	}
	*why = g_strdup_printf("%s: no address (A or AAAA)", name);
	return DNS_NOTFOUND;
}
