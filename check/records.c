/*
 * records.c: the TXT records of a deployment (check.h).
 *
 * _smtp._tls.DOMAIN (RFC 8460 3): exactly one record that starts with
 * v=TLSRPTv1, and at least one rua URI, mailto: or https:.
 * _mta-sts.DOMAIN (RFC 8461 3.1): exactly one record that starts with
 * v=STSv1, with an id of 1 to 32 letters and digits. Other TXT records at
 * those names are not ours and are left alone, as the RFCs say.
 */
#include <string.h>

#include "check/check.h"

/* The value of field key in a "k=v; k=v" record, stripped, or NULL. The
 * caller g_free()s it. */
static char *record_field(const char *record, const char *key)
{
	g_auto(GStrv) fields = g_strsplit(record, ";", -1);

	for (gsize i = 0; fields[i] != NULL; i++) {
		char *f = g_strstrip(fields[i]);
		gsize n = strlen(key);

		if (g_ascii_strncasecmp(f, key, n) == 0 && f[n] == '=')
			return g_strstrip(g_strdup(f + n + 1));
	}
	return NULL;
}

/* The records at name that start with version, into *ours; a finding when
 * there is not exactly one. Returns the one, or NULL. */
static const char *record_ours(struct dns *dns, struct check_result *r, const char *check,
			       const char *name, const char *version, GPtrArray **ours)
{
	g_autoptr(GPtrArray) all = NULL;
	g_autofree char *why = NULL;
	enum dns_status status = dns_lookup_txt(dns, name, &all, &why);

	*ours = g_ptr_array_new_with_free_func(g_free);
	if (status == DNS_TEMPFAIL) {
		check_add(r, check, CHECK_FAIL, name, "could not be looked up: %s", why);
		return NULL;
	}
	for (guint i = 0; all != NULL && i < all->len; i++) {
		const char *text = g_ptr_array_index(all, i);
		g_autofree char *v = record_field(text, "v");

		if (g_str_has_prefix(text, "v=") && v != NULL && g_str_equal(v, version))
			g_ptr_array_add(*ours, g_strdup(text));
	}
	if ((*ours)->len == 0) {
		check_add(r, check, CHECK_FAIL, name, "no %s record", version);
		return NULL;
	}
	if ((*ours)->len > 1) {
		check_add(r, check, CHECK_FAIL, name,
			  "%u %s records: there must be exactly one (senders then ignore all)",
			  (*ours)->len, version);
		return NULL;
	}
	return g_ptr_array_index(*ours, 0);
}

/* One rua URI: mailto: with an address, or https: with a host. */
static gboolean rua_usable(const char *uri)
{
	if (g_ascii_strncasecmp(uri, "mailto:", 7) == 0)
		return strchr(uri + 7, '@') != NULL && uri[7] != '@';
	if (g_ascii_strncasecmp(uri, "https://", 8) == 0)
		return uri[8] != '\0' && uri[8] != '/';
	return FALSE;
}

void check_tlsrpt_record(struct dns *dns, struct check_result *r)
{
	g_autofree char *name = g_strdup_printf("_smtp._tls.%s", r->domain);
	g_autoptr(GPtrArray) ours = NULL;
	const char *record = record_ours(dns, r, "tlsrpt-record", name, "TLSRPTv1", &ours);
	g_autofree char *rua = record ? record_field(record, "rua") : NULL;
	g_auto(GStrv) uris = NULL;
	guint usable = 0;

	if (record == NULL)
		return;
	if (rua == NULL || *rua == '\0') {
		check_add(r, "tlsrpt-record", CHECK_FAIL, name,
			  "no rua: reports have nowhere to go");
		return;
	}
	uris = g_strsplit(rua, ",", -1);
	for (gsize i = 0; uris[i] != NULL; i++) {
		const char *uri = g_strstrip(uris[i]);

		if (rua_usable(uri))
			usable++;
		else
			check_add(r, "tlsrpt-record", CHECK_WARN, name,
				  "rua %s is neither mailto: nor https: (ignored by reporters)",
				  uri);
	}
	if (usable == 0)
		check_add(r, "tlsrpt-record", CHECK_FAIL, name, "no usable rua URI");
	else
		check_add(r, "tlsrpt-record", CHECK_PASS, name, "%s", record);
}

void check_sts_record(struct dns *dns, struct check_result *r)
{
	g_autofree char *name = g_strdup_printf("_mta-sts.%s", r->domain);
	g_autoptr(GPtrArray) ours = NULL;
	const char *record = record_ours(dns, r, "sts-record", name, "STSv1", &ours);
	g_autofree char *id = record ? record_field(record, "id") : NULL;
	gsize n = id ? strlen(id) : 0;

	if (record == NULL)
		return;
	for (gsize i = 0; i < n; i++) {
		if (!g_ascii_isalnum(id[i]))
			n = 0;
	}
	if (n == 0 || n > 32) {
		check_add(r, "sts-record", CHECK_FAIL, name,
			  "id %s: 1 to 32 letters and digits are needed", id ? id : "missing");
		return;
	}
	r->sts_id = g_steal_pointer(&id);
	check_add(r, "sts-record", CHECK_PASS, name, "id=%s", r->sts_id);
}
