/*
 * trust.c: the judgement of trust.h.
 *
 * Alignment is DMARC's relaxed one (RFC 7489 3.1.1): the signing domain
 * and the reporter's share an organisational domain, found with libpsl.
 * The deciding signature is the first that authenticates; without one,
 * a temperror before any other result, so that a DNS failure is not
 * taken for a forgery.
 */
#include <jansson.h>
#include <libpsl.h>
#include <string.h>

#include "ingest/dkim.h"
#include "ingest/trust.h"

/* The public suffix list, loaded once per process: Debian's current file
 * when the publicsuffix package is there, else the list built into
 * libpsl. */
static const psl_ctx_t *trust_psl(void)
{
	static const psl_ctx_t *psl;

	if (psl == NULL)
		psl = psl_latest(NULL);
	if (psl == NULL)
		psl = psl_builtin();
	return psl;
}

/* The organisational domain of name (lower case), in a new string: its
 * registrable domain, or name itself when it has none (a public suffix,
 * or no list at all). */
static char *trust_org_domain(const char *name)
{
	g_autofree char *lower = g_ascii_strdown(name, -1);
	const psl_ctx_t *psl = trust_psl();
	const char *registrable = psl != NULL ? psl_registrable_domain(psl, lower) : NULL;

	return g_strdup(registrable != NULL ? registrable : lower);
}

/* The domain the signatures must align with, in a new string, or NULL:
 * TLS-Report-Submitter, else the From address's domain. */
static char *trust_reporter(const struct parsed *p)
{
	const char *submitter = p->header[HEADER_REPORT_SUBMITTER];
	const char *from = p->header[HEADER_FROM];
	const char *at = from != NULL ? strrchr(from, '@') : NULL;
	const char *domain = submitter != NULL ? submitter : at != NULL ? at + 1 : NULL;

	if (domain == NULL || *domain == '\0')
		return NULL;
	return g_ascii_strdown(domain, -1);
}

static gboolean trust_aligned(const char *signer, const char *reporter)
{
	g_autofree char *a = NULL, *b = NULL;

	if (signer == NULL || reporter == NULL)
		return FALSE;
	a = trust_org_domain(signer);
	b = trust_org_domain(reporter);
	return g_str_equal(a, b);
}

/* Whether name is one of [ingest] trusted-reporters (without case). */
static gboolean trust_listed(const struct config *cfg, const char *name)
{
	for (gsize i = 0; name != NULL && cfg->trusted_reporters && cfg->trusted_reporters[i]; i++)
		if (g_ascii_strcasecmp(cfg->trusted_reporters[i], name) == 0)
			return TRUE;
	return FALSE;
}

/* The trusted reporter that vouches for p: every report's
 * organization-name listed, or a passing signature's domain listed.
 * NULL when none. */
static const char *trust_reporter_listed(const struct config *cfg, const struct parsed *p)
{
	const char *org = NULL;

	for (guint i = 0; i < p->signatures->len; i++) {
		const struct dkim_signature *sig = g_ptr_array_index(p->signatures, i);

		if (g_strcmp0(sig->result, "pass") == 0 && !sig->body_length &&
		    trust_listed(cfg, sig->domain))
			return sig->domain;
	}
	for (guint i = 0; i < p->found->len; i++) {
		const struct found *f = g_ptr_array_index(p->found, i);

		if (!trust_listed(cfg, f->report.organization_name))
			return NULL;
		org = f->report.organization_name;
	}
	return org;
}

/* The signatures as the JSON array messages.dkim_signatures keeps. */
static char *trust_signatures_json(const struct parsed *p)
{
	json_t *a = json_array();
	char *text;

	for (guint i = 0; i < p->signatures->len; i++) {
		const struct dkim_signature *sig = g_ptr_array_index(p->signatures, i);

		json_array_append_new(a,
				      json_pack("{s:s?,s:s?,s:s?,s:s?,s:b,s:b}", "result",
						sig->result, "domain", sig->domain, "selector",
						sig->selector, "error", sig->error, "body-length",
						sig->body_length, "tlsrpt-key", sig->tlsrpt_key));
	}
	text = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return text;
}

/* Rank of a signature for the deciding one, lower first. */
static int trust_rank(const struct dkim_signature *sig, const char *reporter)
{
	if (g_strcmp0(sig->result, "pass") == 0 && !sig->body_length &&
	    trust_aligned(sig->domain, reporter))
		return 0;
	if (g_strcmp0(sig->result, "temperror") == 0)
		return 1;
	if (g_strcmp0(sig->result, "pass") == 0)
		return 2;
	return 3;
}

/* Why the deciding signature sig does or does not authenticate. */
static char *trust_note(const char *method, const struct dkim_signature *sig, const char *reporter,
			int rank)
{
	const char *via = g_str_equal(method, "authserv") ? " (Authentication-Results)" : "";

	if (rank == 0)
		return g_strdup_printf("dkim%s pass d=%s, aligned with %s", via, sig->domain,
				       reporter);
	if (g_strcmp0(sig->result, "pass") == 0 && sig->body_length)
		return g_strdup_printf("dkim%s pass d=%s with l=: the body is not all signed", via,
				       sig->domain ? sig->domain : "?");
	if (g_strcmp0(sig->result, "pass") == 0)
		return g_strdup_printf("dkim%s pass d=%s, not aligned with %s", via,
				       sig->domain ? sig->domain : "?",
				       reporter ? reporter : "an unknown reporter");
	return g_strdup_printf("dkim%s %s d=%s%s%s", via, sig->result ? sig->result : "?",
			       sig->domain ? sig->domain : "?", sig->error ? ": " : "",
			       sig->error ? sig->error : "");
}

void trust_judge(struct trust *t, const struct config *cfg, const struct parsed *p,
		 const char *channel, const char *client)
{
	g_autofree char *reporter = trust_reporter(p);
	const struct dkim_signature *best = NULL;
	const char *listed;
	int best_rank = 4;

	memset(t, 0, sizeof *t);
	/* A message without a report is quarantined whoever sent it. */
	if (cfg->dkim == CONFIG_DKIM_OFF || p->found->len == 0)
		return;
	t->judged = TRUE;
	for (guint i = 0; i < p->signatures->len; i++) {
		const struct dkim_signature *sig = g_ptr_array_index(p->signatures, i);
		int rank = trust_rank(sig, reporter);

		if (rank < best_rank)
			best = sig, best_rank = rank;
	}
	t->result = g_strdup(best != NULL ? best->result : "none");
	if (best != NULL) {
		t->domain = g_strdup(best->domain);
		t->selector = g_strdup(best->selector);
		t->authenticated = best_rank == 0;
		t->note = trust_note(p->auth_method, best, reporter, best_rank);
	} else if (p->auth_method != NULL) {
		t->note = g_strdup_printf("no DKIM signature%s",
					  g_str_equal(p->auth_method, "authserv")
						  ? " in the trusted Authentication-Results"
						  : "");
	} else if (channel != NULL && g_str_has_prefix(channel, "http")) {
		t->note = g_strdup_printf("unauthenticated (%s) from %s", channel,
					  client ? client : "an unknown client");
	} else {
		/* A report file named on the command line: whoever ran
		 * `tlswatch ingest FILE` vouches for it (an export from a
		 * reporter's site, an archive), as for reports stored before
		 * verification existed. */
		t->judged = FALSE;
		g_clear_pointer(&t->result, g_free);
		t->note = g_strdup("not judged: a report file imported by hand");
		return;
	}
	if (p->auth_method != NULL)
		t->signatures = trust_signatures_json(p);
	if (!t->authenticated && (listed = trust_reporter_listed(cfg, p)) != NULL) {
		char *note = g_strdup_printf("trusted reporter %s (%s)", listed, t->note);

		g_free(t->note);
		t->note = note;
		t->authenticated = TRUE;
	}
}

void trust_release(struct trust *t)
{
	g_free(t->result);
	g_free(t->domain);
	g_free(t->selector);
	g_free(t->note);
	free(t->signatures);
	memset(t, 0, sizeof *t);
}
