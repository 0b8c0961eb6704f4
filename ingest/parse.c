/*
 * parse.c: the reports in one message or file, and why the rest are not.
 *
 * Every candidate part is tried, not only the first: a message may carry
 * several reports, and a wrong label on one part must not hide another.
 * Parts that fail become notes; a message with no report left is
 * quarantined with those notes as its reason. Nothing is decided by the
 * labels alone, and nothing here knows SQL or MIME: those are store.c's
 * and mail.c's jobs.
 */
#include <string.h>

#include "common/dns.h"
#include "common/text.h"
#include "ingest/authres.h"
#include "ingest/decode.h"
#include "ingest/dkim.h"
#include "ingest/mail.h"
#include "ingest/parse.h"

/* A quarantine reason is read by people in a log: long enough to name
 * every failing part, short enough not to drown the log. */
#define REASON_MAX 2000

/* parsed_serialise's layout: five header fields, the notes, the cause,
 * per report its JSON, MIME part and file name, then the auth method and
 * per signature its result, domain, selector, error, l= and tlsrpt key. */
#define PARSED_TYPE    "(msmsmsmsmssmsa(aymsms)msa(msmsmsmsbb))"
#define SIGNATURE_TYPE "(msmsmsmsbb)"

static void found_free(gpointer p)
{
	struct found *f = p;

	report_release(&f->report);
	if (f->json != NULL)
		g_bytes_unref(f->json);
	g_free(f->part);
	g_free(f->filename);
	g_free(f);
}

void parsed_init(struct parsed *p)
{
	memset(p, 0, sizeof *p);
	p->notes = g_string_new(NULL);
	p->found = g_ptr_array_new_with_free_func(found_free);
	p->signatures = g_ptr_array_new_with_free_func(dkim_signature_free);
}

void parsed_release(struct parsed *p)
{
	for (gsize i = 0; i < HEADER_N; i++)
		g_free(p->header[i]);
	if (p->notes != NULL)
		g_string_free(p->notes, TRUE);
	g_free(p->cause);
	if (p->found != NULL)
		g_ptr_array_unref(p->found);
	g_free(p->auth_method);
	if (p->signatures != NULL)
		g_ptr_array_unref(p->signatures);
	memset(p, 0, sizeof *p);
}

/* At most REASON_MAX bytes, cut on a UTF-8 character boundary. */
void parsed_note(struct parsed *p, const char *label, const char *fmt, ...)
{
	GString *notes = p->notes;
	g_autofree char *note = NULL;
	va_list ap;

	va_start(ap, fmt);
	note = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (p->cause == NULL)
		p->cause = g_strdup(note);
	if (notes->len >= REASON_MAX)
		return;
	if (notes->len > 0)
		g_string_append(notes, "; ");
	if (label != NULL)
		g_string_append_printf(notes, "%s: ", label);
	g_string_append(notes, note);
	/* The last note keeps up to REASON_MAX bytes, and then its "...". */
	text_cut(notes, REASON_MAX + 2);
}

/* Why decoded content that is not JSON is not a report, in a postmaster's
 * words. */
static const char *not_report_reason(enum payload_kind kind)
{
	return kind == PAYLOAD_XML ? "not a TLS report (XML: a DMARC report?)"
				   : "not a TLS report (content is not JSON)";
}

static struct report_limits parse_limits(const struct config *cfg)
{
	return (struct report_limits){
		.max_depth = cfg->max_json_depth,
		.max_policies = cfg->max_policies,
		.max_failures = cfg->max_failure_details,
		.max_string = cfg->max_string_length,
	};
}

/* Parse json as a report into a new struct found (the caller's), or NULL
 * with err set. */
static struct found *parse_json(const struct config *cfg, GBytes *json,
				const struct report_hints *hints, struct error *err)
{
	struct report_limits limits = parse_limits(cfg);
	struct found *f = g_new0(struct found, 1);
	gsize len = 0;
	const char *data = g_bytes_get_data(json, &len);

	report_init(&f->report);
	f->json = g_bytes_ref(json);
	if (report_parse(&f->report, data, len, hints, &limits, err) < 0)
		g_clear_pointer(&f, found_free);
	return f;
}

/* Decode one candidate and parse it as a report. Returns a new struct found
 * the caller owns, or NULL with a note added; or NULL with temp set
 * (ERR_TEMP) when memory ran out, which is no fault of the part's. */
static struct found *parse_part(const struct config *cfg, GBytes *content, const char *label,
				const struct report_hints *hints, struct parsed *p,
				struct error *temp)
{
	struct error err = ERROR_INIT;
	struct found *f = NULL;
	g_autoptr(GBytes) json = NULL;
	gsize len = 0;
	const guint8 *data;
	enum payload_kind kind;

	json = decode_payload(content, cfg->max_report_size, NULL, &err);
	if (json == NULL)
		goto fail;
	data = g_bytes_get_data(json, &len);
	kind = decode_sniff(data, len);
	if (kind != PAYLOAD_JSON) {
		parsed_note(p, label, "%s", not_report_reason(kind));
		goto done;
	}
	f = parse_json(cfg, json, hints, &err);
	if (f == NULL)
		goto fail;
	goto done;
fail:
	if (err.cls == ERR_TEMP)
		error_set(temp, ERR_TEMP, "%s: %s", label, err.msg);
	else
		parsed_note(p, label, "%s%s", json ? "invalid report: " : "", err.msg);
done:
	error_clear(&err);
	return f;
}

/* Every report in the message's candidate parts, in MIME order; stops at
 * a temporary failure, set in temp. */
static void parse_mail_reports(const struct config *cfg, const struct mail *m, struct parsed *p,
			       struct error *temp)
{
	struct report_hints hints = { m->report_domain, m->report_submitter };

	for (guint i = 0; i < m->parts->len && temp->cls == ERR_NONE; i++) {
		const struct mail_part *part = g_ptr_array_index(m->parts, i);
		g_autofree char *label = g_strdup_printf(
			"part %s (%s%s%s)", part->path, part->content_type,
			part->filename ? ", " : "", part->filename ? part->filename : "");
		struct found *f = parse_part(cfg, part->content, label, &hints, p, temp);

		if (f == NULL)
			continue;
		f->part = g_strdup(part->path);
		f->filename = g_strdup(part->filename);
		g_ptr_array_add(p->found, f);
	}
	if (m->parts->len == 0)
		parsed_note(p, NULL, "not a TLS report: no report part in %s",
			    m->content_type ? m->content_type : "a text/plain message");
}

/* The evidence of who sent the message into p: the trusted MTA's
 * Authentication-Results field when [ingest] trusted-authserv-id names
 * one, else the DKIM signatures verified here. A message whose trusted
 * field is missing is judged by its signatures. */
static int parse_signatures(const struct config *cfg, GBytes *raw, const struct mail *m,
			    struct parsed *p, struct error *err)
{
	g_autoptr(GPtrArray) sigs = g_ptr_array_new_with_free_func(dkim_signature_free);
	struct dns *dns = NULL;
	int rc = 0;

	if (cfg->dkim == CONFIG_DKIM_OFF)
		return 0;
	if (cfg->trusted_authserv_id != NULL &&
	    authres_dkim(m->auth_results, cfg->trusted_authserv_id, sigs)) {
		p->auth_method = g_strdup("authserv");
	} else {
		if (dns_new(&dns, cfg, err) < 0 || dkim_verify_message(raw, dns, sigs, err) < 0) {
			rc = -1;
			goto done;
		}
		p->auth_method = g_strdup("dkim");
	}
	g_ptr_array_extend_and_steal(p->signatures, g_steal_pointer(&sigs));
done:
	dns_free(dns);
	return rc;
}

int parse_message(const struct config *cfg, GBytes *raw, gboolean truncated, struct parsed *p,
		  struct error *err)
{
	struct mail_limits limits = { cfg->max_mime_parts, cfg->max_mime_depth,
				      cfg->max_header_size };
	struct error perr = ERROR_INIT;
	struct mail m;
	int rc = 0;

	mail_init(&m);
	if (mail_parse(&m, raw, &limits, &perr) < 0)
		parsed_note(p, NULL, "%s", perr.msg);
	if (truncated)
		parsed_note(p, NULL,
			    "message larger than max-message-size (%" G_GUINT64_FORMAT
			    " bytes): kept its header only",
			    cfg->max_message_size);
	else if (perr.cls == ERR_NONE)
		parse_mail_reports(cfg, &m, p, &perr);
	if (!truncated && perr.cls == ERR_NONE && p->found->len > 0)
		parse_signatures(cfg, raw, &m, p, &perr);
	if (perr.cls == ERR_TEMP)
		rc = error_set(err, ERR_TEMP, "%s", perr.msg);
	p->header[HEADER_MESSAGE_ID] = g_steal_pointer(&m.message_id);
	p->header[HEADER_FROM] = g_steal_pointer(&m.from);
	p->header[HEADER_SUBJECT] = g_steal_pointer(&m.subject);
	p->header[HEADER_REPORT_DOMAIN] = g_steal_pointer(&m.report_domain);
	p->header[HEADER_REPORT_SUBMITTER] = g_steal_pointer(&m.report_submitter);
	error_clear(&perr);
	mail_release(&m);
	return rc;
}

int parse_bare_report(const struct config *cfg, GBytes *raw, const char *name, struct parsed *p,
		      struct error *err)
{
	struct found *f = parse_part(cfg, raw, name, NULL, p, err);

	if (err->cls == ERR_TEMP)
		return -1;
	if (f != NULL) {
		f->filename = g_strdup(name);
		g_ptr_array_add(p->found, f);
	}
	/* A file has no headers: its name stands in for the subject. */
	p->header[HEADER_SUBJECT] = g_strdup(name);
	return 0;
}

GBytes *parsed_serialise(const struct parsed *p)
{
	g_autoptr(GVariant) v = NULL;
	GVariantBuilder reports, sigs;

	g_variant_builder_init(&reports, G_VARIANT_TYPE("a(aymsms)"));
	g_variant_builder_init(&sigs, G_VARIANT_TYPE("a" SIGNATURE_TYPE));
	for (guint i = 0; i < p->signatures->len; i++) {
		const struct dkim_signature *sig = g_ptr_array_index(p->signatures, i);

		g_variant_builder_add(&sigs, SIGNATURE_TYPE, sig->result, sig->domain,
				      sig->selector, sig->error, sig->body_length, sig->tlsrpt_key);
	}
	for (guint i = 0; i < p->found->len; i++) {
		const struct found *f = g_ptr_array_index(p->found, i);

		g_variant_builder_add(
			&reports, "(@aymsms)",
			g_variant_new_from_bytes(G_VARIANT_TYPE_BYTESTRING, f->json, TRUE), f->part,
			f->filename);
	}
	v = g_variant_ref_sink(g_variant_new(PARSED_TYPE, p->header[0], p->header[1], p->header[2],
					     p->header[3], p->header[4], p->notes->str, p->cause,
					     &reports, p->auth_method, &sigs));
	return g_variant_get_data_as_bytes(v);
}

/* The auth method and signatures of v into p. */
static void parsed_deserialise_signatures(GVariant *v, struct parsed *p)
{
	g_autoptr(GVariant) sigs = g_variant_get_child_value(v, HEADER_N + 4);

	g_variant_get_child(v, HEADER_N + 3, "ms", &p->auth_method);
	for (gsize i = 0; i < g_variant_n_children(sigs); i++) {
		struct dkim_signature *sig = dkim_signature_new();

		g_variant_get_child(sigs, i, SIGNATURE_TYPE, &sig->result, &sig->domain,
				    &sig->selector, &sig->error, &sig->body_length,
				    &sig->tlsrpt_key);
		g_ptr_array_add(p->signatures, sig);
	}
}

int parsed_deserialise(const struct config *cfg, GBytes *bytes, struct parsed *p, struct error *err)
{
	g_autoptr(GVariant) v = g_variant_ref_sink(
		g_variant_new_from_bytes(G_VARIANT_TYPE(PARSED_TYPE), bytes, FALSE));
	g_autoptr(GVariant) reports = g_variant_get_child_value(v, HEADER_N + 2);
	g_autofree char *notes = NULL;
	struct report_hints hints;

	for (gsize i = 0; i < HEADER_N; i++)
		g_variant_get_child(v, i, "ms", &p->header[i]);
	g_variant_get_child(v, HEADER_N, "s", &notes);
	g_string_assign(p->notes, notes);
	g_variant_get_child(v, HEADER_N + 1, "ms", &p->cause);
	parsed_deserialise_signatures(v, p);
	hints = (struct report_hints){ p->header[HEADER_REPORT_DOMAIN],
				       p->header[HEADER_REPORT_SUBMITTER] };
	for (gsize i = 0; i < g_variant_n_children(reports); i++) {
		g_autoptr(GVariant) item = g_variant_get_child_value(reports, i);
		g_autoptr(GVariant) json_v = g_variant_get_child_value(item, 0);
		g_autoptr(GBytes) json = g_variant_get_data_as_bytes(json_v);
		struct error perr = ERROR_INIT;
		g_autofree char *part = NULL, *filename = NULL;
		struct found *f;

		g_variant_get_child(item, 1, "ms", &part);
		g_variant_get_child(item, 2, "ms", &filename);
		f = parse_json(cfg, json, &hints, &perr);
		if (f == NULL && perr.cls == ERR_TEMP) {
			error_set(err, ERR_TEMP, "%s", perr.msg);
			error_clear(&perr);
			return -1;
		}
		if (f == NULL) {
			/* Read once already, under the same caps: not expected. */
			g_autofree char *label = g_strdup_printf("part %s", part ? part : "(file)");

			parsed_note(p, label, "invalid report: %s", perr.msg);
			error_clear(&perr);
			continue;
		}
		f->part = g_steal_pointer(&part);
		f->filename = g_steal_pointer(&filename);
		g_ptr_array_add(p->found, f);
	}
	return 0;
}
