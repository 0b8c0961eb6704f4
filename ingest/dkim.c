/*
 * dkim.c: DKIM verification with libopendkim (dkim.h).
 *
 * The key lookup is ours (dkim_set_key_lookup): it goes through dns.h, so
 * [dns] applies and a test can serve keys from 127.0.0.1, and it lets us
 * read the key's service types. libopendkim 2.11 accepts only keys whose
 * s= tag allows email ("*" or "email"); RFC 8460 section 3 lets a
 * reporter restrict its key to "tlsrpt". Such a key is handed to
 * libopendkim without its s= tag, once we have checked that it names
 * tlsrpt: the tag restricts what a key may sign, and a TLS report is
 * exactly what it allows.
 */
#include <opendkim/dkim.h>
#include <string.h>

#include "ingest/dkim.h"

/* What one verification shares with the key lookup callback. */
struct dkim_run {
	struct dns *dns;
	guint lookups;
	GHashTable *keys; /* DKIM_SIGINFO * -> struct key_lookup * */
};

/* What the lookup of one signature's key found. */
struct key_lookup {
	gboolean tlsrpt;    /* the key allows the tlsrpt service */
	gboolean temporary; /* the lookup failed for now (DNS) */
	char *why;	    /* why no key was handed over, or NULL */
};

static void key_lookup_free(gpointer data)
{
	struct key_lookup *k = data;

	g_free(k->why);
	g_free(k);
}

struct dkim_signature *dkim_signature_new(void)
{
	return g_new0(struct dkim_signature, 1);
}

void dkim_signature_free(gpointer data)
{
	struct dkim_signature *sig = data;

	if (sig == NULL)
		return;
	g_free(sig->result);
	g_free(sig->domain);
	g_free(sig->selector);
	g_free(sig->error);
	g_free(sig);
}

/* The key record without its s= tag when s= allows tlsrpt but not email,
 * in a new string; the service types allowed in *tlsrpt. RFC 6376 3.6.1:
 * a tag list of name=value separated by ';', white space around both. */
static char *key_record_for_libopendkim(const char *record, gboolean *tlsrpt)
{
	g_auto(GStrv) tags = g_strsplit(record, ";", -1);
	GString *kept = g_string_new(NULL);
	gboolean email = TRUE, drop_s = FALSE;

	*tlsrpt = TRUE;
	for (gsize i = 0; tags[i] != NULL; i++) {
		char *tag = g_strstrip(tags[i]);
		g_auto(GStrv) services = NULL;

		if (tag[0] != 's' || strchr(" \t\r\n=", tag[1]) == NULL)
			continue;
		services = g_strsplit(strchr(tag, '=') ? strchr(tag, '=') + 1 : "", ":", -1);
		email = *tlsrpt = FALSE;
		for (gsize j = 0; services[j] != NULL; j++) {
			const char *s = g_strstrip(services[j]);

			email = email || g_str_equal(s, "*") || g_str_equal(s, "email");
			*tlsrpt = *tlsrpt || g_str_equal(s, "*") || g_str_equal(s, "tlsrpt");
		}
		drop_s = *tlsrpt && !email;
	}
	for (gsize i = 0; tags[i] != NULL; i++) {
		if (drop_s && tags[i][0] == 's' && strchr(" \t\r\n=", tags[i][1]) != NULL)
			continue;
		if (*tags[i] == '\0')
			continue;
		g_string_append_printf(kept, "%s%s", kept->len ? "; " : "", tags[i]);
	}
	return g_string_free(kept, FALSE);
}

/* libopendkim's key lookup: the TXT record of selector._domainkey.domain
 * into buf. */
static DKIM_CBSTAT dkim_key_lookup(DKIM *dkim, DKIM_SIGINFO *sig, u_char *buf, size_t buflen)
{
	struct dkim_run *run = dkim_get_user_context(dkim);
	struct key_lookup *k = g_new0(struct key_lookup, 1);
	const char *selector = (const char *)dkim_sig_getselector(sig);
	const char *domain = (const char *)dkim_sig_getdomain(sig);
	g_autoptr(GPtrArray) records = NULL;
	g_autofree char *name = NULL, *record = NULL;
	enum dns_status status;
	DKIM_CBSTAT rc = DKIM_CBSTAT_NOTFOUND;

	/* Every failure is NOTFOUND to libopendkim, its reason kept here:
	 * TRYAGAIN or ERROR would make it stop, and leave the signatures
	 * after this one unchecked. */
	g_hash_table_insert(run->keys, sig, k);
	if (++run->lookups > DKIM_SIGNATURES_MAX) {
		k->why = g_strdup_printf("not verified: more than %d signatures",
					 DKIM_SIGNATURES_MAX);
		return DKIM_CBSTAT_NOTFOUND;
	}
	name = g_strdup_printf("%s._domainkey.%s", selector ? selector : "", domain ? domain : "");
	status = dns_lookup_txt(run->dns, name, &records, &k->why);
	if (status == DNS_TEMPFAIL)
		k->temporary = TRUE;
	if (status != DNS_OK)
		return DKIM_CBSTAT_NOTFOUND;
	/* Several records at one name: the first is used, as libopendkim's
	 * own lookup does. */
	record = key_record_for_libopendkim(g_ptr_array_index(records, 0), &k->tlsrpt);
	if (strlen(record) >= buflen) {
		k->why = g_strdup_printf("%s: key record too long", name);
		rc = DKIM_CBSTAT_NOTFOUND;
	} else {
		memcpy(buf, record, strlen(record) + 1);
		rc = DKIM_CBSTAT_CONTINUE;
	}
	return rc;
}

/* The library, set up once per process (the parse child). */
static DKIM_LIB *dkim_lib(void)
{
	static DKIM_LIB *lib;
	/* Report mail comes with LF line ends from a pipe: libopendkim
	 * makes them CRLF, as they were on the wire. */
	unsigned int flags = DKIM_LIBFLAGS_FIXCRLF;

	if (lib != NULL)
		return lib;
	lib = dkim_init(NULL, NULL);
	if (lib == NULL)
		return NULL;
	dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof flags);
	dkim_set_key_lookup(lib, dkim_key_lookup);
	return lib;
}

/* The RFC 8601 result of sig, with why in sig->error when not a pass. */
static void dkim_signature_judge(struct dkim_signature *out, DKIM_SIGINFO *sig,
				 const struct key_lookup *k)
{
	unsigned int flags = dkim_sig_getflags(sig);
	int error = dkim_sig_geterror(sig);

	if (k != NULL && k->why != NULL) {
		out->result = g_strdup(k->temporary ? "temperror" : "permerror");
		out->error = g_strdup(k->why);
	} else if ((flags & DKIM_SIGFLAG_PASSED) && dkim_sig_getbh(sig) == DKIM_SIGBH_MATCH) {
		out->result = g_strdup("pass");
	} else if ((flags & DKIM_SIGFLAG_PASSED) || dkim_sig_getbh(sig) == DKIM_SIGBH_MISMATCH) {
		out->result = g_strdup("fail");
		out->error = g_strdup("body hash mismatch: the body changed after signing");
	} else if (error == DKIM_SIGERROR_BADSIG) {
		out->result = g_strdup("fail");
		out->error = g_strdup(dkim_sig_geterrorstr(error));
	} else if (error == DKIM_SIGERROR_KEYFAIL) {
		out->result = g_strdup("temperror");
		out->error = g_strdup(dkim_sig_geterrorstr(error));
	} else if (error == DKIM_SIGERROR_NOKEY) {
		out->result = g_strdup("permerror");
		out->error = g_strdup("no key in DNS");
	} else {
		out->result = g_strdup("permerror");
		out->error = g_strdup(error == DKIM_SIGERROR_OK || error == DKIM_SIGERROR_UNKNOWN
					      ? "not verified"
					      : dkim_sig_geterrorstr(error));
	}
}

int dkim_verify_message(GBytes *raw, struct dns *dns, GPtrArray *sigs, struct error *err)
{
	struct dkim_run run = { dns, 0, g_hash_table_new_full(NULL, NULL, NULL, key_lookup_free) };
	DKIM_LIB *lib = dkim_lib();
	DKIM_SIGINFO **list = NULL;
	DKIM *dkim = NULL;
	DKIM_STAT status;
	gsize len = 0;
	const guchar *data = g_bytes_get_data(raw, &len);
	int nsigs = 0, rc = 0;

	if (lib == NULL) {
		rc = error_set(err, ERR_TEMP, "cannot set up libopendkim");
		goto done;
	}
	dkim = dkim_verify(lib, (const u_char *)"tlswatch", NULL, &status);
	if (dkim == NULL) {
		rc = error_set(err, ERR_TEMP, "libopendkim: %s", dkim_getresultstr(status));
		goto done;
	}
	dkim_set_user_context(dkim, &run);
	/* Each step may fail (a key lookup that failed: it runs at the end
	 * of the header; a message libopendkim cannot read). The signatures
	 * it saw are judged all the same, and it lists them only once every
	 * step was called. */
	if (len > 0)
		dkim_chunk(dkim, (u_char *)data, len);
	dkim_chunk(dkim, NULL, 0);
	dkim_eom(dkim, NULL);
	if (dkim_getsiglist(dkim, &list, &nsigs) != DKIM_STAT_OK)
		nsigs = 0;
	for (int i = 0; i < nsigs; i++) {
		struct dkim_signature *out = dkim_signature_new();
		const struct key_lookup *k = g_hash_table_lookup(run.keys, list[i]);
		const u_char *d = dkim_sig_getdomain(list[i]);
		const u_char *s = dkim_sig_getselector(list[i]);

		out->domain = d != NULL ? g_utf8_make_valid((const char *)d, -1) : NULL;
		out->selector = s != NULL ? g_utf8_make_valid((const char *)s, -1) : NULL;
		out->body_length = dkim_sig_gettagvalue(list[i], FALSE, (u_char *)"l") != NULL;
		out->tlsrpt_key = k != NULL && k->tlsrpt;
		dkim_signature_judge(out, list[i], k);
		g_ptr_array_add(sigs, out);
	}
done:
	if (dkim != NULL)
		dkim_free(dkim);
	g_hash_table_unref(run.keys);
	return rc;
}
