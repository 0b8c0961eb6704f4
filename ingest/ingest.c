/*
 * ingest.c: the data flow for one message, start to end.
 *
 * Every candidate part is tried, not only the first: a message may carry
 * several reports, and a wrong label on one part must not hide another.
 * Parts that fail become notes; a message with no report left is
 * quarantined with those notes as its reason. Nothing is decided by the
 * labels alone, and nothing here knows SQL or MIME: those are store.c's and
 * mail.c's jobs.
 */
#include <string.h>

#include "common/log.h"
#include "ingest/decode.h"
#include "ingest/ingest.h"
#include "ingest/mail.h"
#include "ingest/report.h"
#include "ingest/watchdog.h"

/* A quarantine reason is read by people in a log: long enough to name
 * every failing part, short enough not to drown the log. */
#define REASON_MAX 2000

/* What is kept of a message over max-message-size: its header, but never
 * more than this, since a header with no end is part of the attack. */
#define HEADER_MAX (256 * 1024)

/* One report found in a message, with the part it came from. */
struct found {
	struct report report;
	GBytes *json;	/* the report's JSON as decoded */
	char *part;	/* MIME path, NULL for a bare report */
	char *filename; /* may be NULL */
};

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

/* Add one note to the reason, at most REASON_MAX bytes, cut on a UTF-8
 * character boundary. */
static void note_add(GString *notes, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void note_add(GString *notes, const char *fmt, ...)
{
	va_list ap;

	if (notes->len >= REASON_MAX)
		return;
	if (notes->len > 0)
		g_string_append(notes, "; ");
	va_start(ap, fmt);
	g_string_append_vprintf(notes, fmt, ap);
	va_end(ap);
	if (notes->len > REASON_MAX) {
		const char *cut = g_utf8_find_prev_char(notes->str, notes->str + REASON_MAX);

		g_string_truncate(notes, cut ? (gsize)(cut - notes->str) : 0);
		g_string_append(notes, "...");
	}
}

/* Why decoded content that is not JSON is not a report, in a postmaster's
 * words. */
static const char *not_report_reason(enum payload_kind kind)
{
	return kind == PAYLOAD_XML ? "not a TLS report (XML: a DMARC report?)"
				   : "not a TLS report (content is not JSON)";
}

/* Decode one candidate and parse it as a report. Returns a new struct found
 * the caller owns, or NULL with a note added; or NULL with temp set
 * (ERR_TEMP) when memory ran out, which is no fault of the part's: the
 * message must be tried again, not quarantined. */
static struct found *ingest_try_part(const struct ingest_ctx *ctx, GBytes *content,
				     const char *label, const struct report_hints *hints,
				     GString *notes, struct error *temp)
{
	struct error err = ERROR_INIT;
	struct found *f = NULL;
	g_autoptr(GBytes) json = NULL;
	struct report_limits limits = {
		.max_depth = ctx->cfg->max_json_depth,
		.max_policies = ctx->cfg->max_policies,
		.max_failures = ctx->cfg->max_failure_details,
		.max_string = ctx->cfg->max_string_length,
	};
	gsize len = 0;
	const guint8 *data;
	enum payload_kind kind;

	json = decode_payload(content, ctx->cfg->max_report_size, NULL, &err);
	if (json == NULL)
		goto fail;
	data = g_bytes_get_data(json, &len);
	kind = decode_sniff(data, len);
	if (kind != PAYLOAD_JSON) {
		note_add(notes, "%s: %s", label, not_report_reason(kind));
		goto done;
	}
	f = g_new0(struct found, 1);
	report_init(&f->report);
	f->json = g_bytes_ref(json);
	if (report_parse(&f->report, (const char *)data, len, hints, &limits, &err) < 0) {
		g_clear_pointer(&f, found_free);
		goto fail;
	}
	goto done;
fail:
	if (err.cls == ERR_TEMP)
		error_set(temp, ERR_TEMP, "%s: %s", label, err.msg);
	else
		note_add(notes, "%s: %s%s", label, json ? "invalid report: " : "", err.msg);
done:
	error_clear(&err);
	return f;
}

/* Every report in the message's candidate parts, in MIME order; stops at
 * a temporary failure, set in temp. */
static GPtrArray *ingest_find_reports(const struct ingest_ctx *ctx, const struct mail *m,
				      GString *notes, struct error *temp)
{
	GPtrArray *found = g_ptr_array_new_with_free_func(found_free);
	struct report_hints hints = { m->report_domain, m->report_submitter };

	for (guint i = 0; i < m->parts->len && temp->cls == ERR_NONE; i++) {
		const struct mail_part *part = g_ptr_array_index(m->parts, i);
		g_autofree char *label = g_strdup_printf(
			"part %s (%s%s%s)", part->path, part->content_type,
			part->filename ? ", " : "", part->filename ? part->filename : "");
		struct found *f = ingest_try_part(ctx, part->content, label, &hints, notes, temp);

		if (f == NULL)
			continue;
		f->part = g_strdup(part->path);
		f->filename = g_strdup(part->filename);
		g_ptr_array_add(found, f);
	}
	if (m->parts->len == 0)
		note_add(notes, "not a TLS report: no report part in %s",
			 m->content_type ? m->content_type : "a text/plain message");
	return found;
}

/* The dry-run "source" object: which input, message and part. */
static json_t *source_to_json(const struct ingest_source *src, const struct found *f)
{
	json_t *o = json_pack("{s:s}", "input", src->input);

	if (src->index > 0)
		json_object_set_new(o, "message", json_integer(src->index));
	if (f != NULL && f->part != NULL)
		json_object_set_new(o, "part", json_string(f->part));
	if (f != NULL && f->filename != NULL)
		json_object_set_new(o, "filename", json_string(f->filename));
	return o;
}

static void dry_run_print(struct ingest_ctx *ctx, const struct ingest_source *src, GPtrArray *found,
			  const char *reason)
{
	for (guint i = 0; i < found->len; i++) {
		const struct found *f = g_ptr_array_index(found, i);
		json_t *o = report_to_json(&f->report);

		json_object_set_new(o, "source", source_to_json(src, f));
		json_dumpf(o, ctx->out, JSON_COMPACT);
		fputc('\n', ctx->out);
		json_decref(o);
	}
	if (found->len == 0) {
		json_t *o = json_pack("{s:o,s:s?}", "source", source_to_json(src, NULL),
				      "quarantined", reason);

		json_dumpf(o, ctx->out, JSON_COMPACT);
		fputc('\n', ctx->out);
		json_decref(o);
	}
	fflush(ctx->out);
}

/* "stdin", "box.mbox#3", with the Message-ID when there is one. */
static char *source_describe(const struct ingest_source *src, const char *message_id)
{
	GString *s = g_string_new(src->input);

	if (src->index > 0)
		g_string_append_printf(s, "#%u", src->index);
	if (src->retry_id > 0)
		g_string_append_printf(s, " (quarantine id %" G_GINT64_FORMAT ")", src->retry_id);
	if (message_id != NULL)
		g_string_append_printf(s, " <%s>", message_id);
	return g_string_free(s, FALSE);
}

/* A message handed to the store, until its transaction has ended. It owns
 * copies of all that a quarantine needs: in a batch, the store answers
 * after ingest_message has returned. */
struct pending {
	struct ingest_ctx *ctx;
	struct message_record rec; /* pointing at the copies below */
	char *header[5];	   /* message_id, from_addr, subject, report_domain,
				      report_submitter */
	char *reason;
	GBytes *raw; /* the whole message, for a quarantine */
	char *what;
	guint reports;
	char *first;	    /* "organization (report-id)" of the first report */
	gboolean rejected;  /* refused by the database, sent again as a quarantine */
	GPtrArray *domains; /* char *: its reports' policy domains, for the alert rules */
	/* What rec.reports and rec.documents point into, kept until the
	 * store's answer, so that a report the database refuses can be left
	 * out and the others sent again. */
	GPtrArray *found;     /* struct found *, a reference */
	GPtrArray *sent;      /* struct report *, rec.reports */
	GPtrArray *documents; /* GBytes *, rec.documents */
};

static void pending_free(struct pending *p)
{
	for (gsize i = 0; i < G_N_ELEMENTS(p->header); i++)
		g_free(p->header[i]);
	g_free(p->reason);
	g_bytes_unref(p->raw);
	g_free(p->what);
	g_free(p->first);
	if (p->domains != NULL)
		g_ptr_array_unref(p->domains);
	if (p->found != NULL)
		g_ptr_array_unref(p->found);
	if (p->sent != NULL)
		g_ptr_array_unref(p->sent);
	if (p->documents != NULL)
		g_ptr_array_unref(p->documents);
	g_free(p);
}

/* The progress line, at most four times a second: count, rate, time left. */
static void progress_show(struct ingest_ctx *ctx)
{
	const struct ingest_totals *t = &ctx->totals;
	guint done = t->stored + t->duplicate + t->quarantined + t->failed;
	gint64 now = g_get_monotonic_time();
	double rate;
	guint left;

	/* Not in the first half second: too early for a rate. */
	if (ctx->progress_total == 0 || now - ctx->progress_shown < G_USEC_PER_SEC / 4 ||
	    now - ctx->progress_start < G_USEC_PER_SEC / 2)
		return;
	ctx->progress_shown = now;
	rate = done * (double)G_USEC_PER_SEC / (double)MAX(now - ctx->progress_start, 1);
	left = rate > 0 && done < ctx->progress_total ? (guint)((ctx->progress_total - done) / rate)
						      : 0;
	fprintf(stderr, "\r\033[Ktlswatch: %u of %u messages, %.0f/s, %u:%02u left", done,
		ctx->progress_total, rate, left / 60, left % 60);
	ctx->progress_visible = TRUE;
}

void ingest_progress_clear(struct ingest_ctx *ctx)
{
	if (ctx->progress_visible)
		fputs("\r\033[K", stderr);
	ctx->progress_visible = FALSE;
}

static void ingest_count(struct ingest_ctx *ctx, enum message_status status, const char *what,
			 guint reports, const char *first, const char *reason)
{
	switch (status) {
	case MESSAGE_STORED:
		ctx->totals.stored++;
		break;
	case MESSAGE_DUPLICATE:
		ctx->totals.duplicate++;
		break;
	case MESSAGE_QUARANTINED:
		ctx->totals.quarantined++;
		ingest_progress_clear(ctx);
		log_warning("quarantined %s: %s", what, reason);
		return;
	}
	if (ctx->verbose || reason != NULL) {
		ingest_progress_clear(ctx);
		log_info("%s %s: %u report%s, first from %s%s%s", message_status_name(status), what,
			 reports, reports == 1 ? "" : "s", first, reason ? "; skipped " : "",
			 reason ? reason : "");
	}
	progress_show(ctx);
}

/* Add to into each domain of from not in it yet (a few per message). */
static void domains_merge(GPtrArray *into, GPtrArray *from)
{
	for (guint i = 0; i < from->len; i++) {
		const char *d = g_ptr_array_index(from, i);

		if (!g_ptr_array_find_with_equal_func(into, d, g_str_equal, NULL))
			g_ptr_array_add(into, g_strdup(d));
	}
}

/* Leave out report refused of p, which the database would refuse on every
 * retry, and name it in the message's reason, which keeps the raw message
 * beside the reports that are stored. */
static void pending_drop_report(struct pending *p, guint refused, const char *why)
{
	const struct report *r = g_ptr_array_index(p->sent, refused);
	guint position = 0; /* in the message, counted from 1: earlier drops shift p->sent */
	char *reason;

	while (position < p->found->len &&
	       &((struct found *)g_ptr_array_index(p->found, position))->report != r)
		position++;
	reason = g_strdup_printf("%s%sdatabase refused report %u (%s, %s): %s",
				 p->reason ? p->reason : "", p->reason ? "; " : "", position + 1,
				 r->organization_name, r->report_id, why);

	g_free(p->reason);
	p->reason = reason;
	p->rec.reason = p->reason;
	p->rec.raw = p->raw;
	g_ptr_array_remove_index(p->sent, refused);
	g_ptr_array_remove_index(p->documents, refused);
	p->reports = p->sent->len;
}

/* The store's answer for p. A database rejecting the data itself
 * (ERR_INPUT) would reject it on every retry: a refused report is left
 * out and the others sent again, and a message with nothing left to store
 * is sent again as a quarantine with the database's reason; any other
 * failure is kept for ingest_commit to return. */
static void ingest_stored(gpointer data, enum message_status status, gint64 id, int refused,
			  const struct error *err)
{
	struct pending *p = data;
	struct ingest_ctx *ctx = p->ctx;
	struct error ignored = ERROR_INIT;

	if (err == NULL) {
		ingest_count(ctx, status, p->what, p->reports, p->first, p->rec.reason);
		if (status == MESSAGE_STORED && ctx->alert_domains != NULL && p->domains != NULL)
			domains_merge(ctx->alert_domains, p->domains);
	} else if (err->cls == ERR_INPUT && refused >= 0 && (guint)refused < p->reports &&
		   p->reports > 1) {
		pending_drop_report(p, (guint)refused, err->msg);
		/* Its outcome comes back here, perhaps with another refusal. */
		store_submit(ctx->store, &p->rec, ingest_stored, p, &ignored);
		error_clear(&ignored);
		return;
	} else if (err->cls == ERR_INPUT && !p->rejected) {
		g_free(p->reason);
		p->reason = g_strdup_printf("database rejected the report: %s", err->msg);
		p->rec.reason = p->reason;
		p->rec.reports = p->rec.documents = NULL;
		p->rec.raw = p->raw;
		p->reports = 0;
		p->rejected = TRUE;
		/* Its failure comes back here as well: nothing to do with it. */
		store_submit(ctx->store, &p->rec, ingest_stored, p, &ignored);
		error_clear(&ignored);
		return;
	} else {
		ctx->totals.failed++;
		if (ctx->failure.cls == ERR_NONE)
			error_set(&ctx->failure, err->cls, "%s", err->msg);
	}
	pending_free(p);
}

/* Hand what was found (or the quarantine) to the store, which has it
 * counted once its transaction has ended; or print it for a dry run. */
static int ingest_commit(struct ingest_ctx *ctx, struct message_record *rec, GPtrArray *found,
			 const struct ingest_source *src, const char *what, GBytes *raw,
			 struct error *err)
{
	const struct found *first = found->len ? g_ptr_array_index(found, 0) : NULL;
	const char *const header[] = { rec->message_id, rec->from_addr, rec->subject,
				       rec->report_domain, rec->report_submitter };
	struct pending *p = g_new0(struct pending, 1);
	int rc;

	p->ctx = ctx;
	p->what = g_strdup(what);
	p->reports = found->len;
	if (first != NULL)
		p->first = g_strdup_printf("%s (%s)", first->report.organization_name,
					   first->report.report_id);
	if (ctx->dry_run) {
		dry_run_print(ctx, src, found, rec->reason);
		ingest_count(ctx, found->len ? MESSAGE_STORED : MESSAGE_QUARANTINED, what,
			     p->reports, p->first, rec->reason);
		pending_free(p);
		return 0;
	}
	for (gsize i = 0; i < G_N_ELEMENTS(header); i++)
		p->header[i] = g_strdup(header[i]);
	p->reason = g_strdup(rec->reason);
	p->raw = g_bytes_ref(raw);
	p->domains = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < found->len; i++) {
		const struct found *f = g_ptr_array_index(found, i);

		for (guint j = 0; j < f->report.policies->len; j++)
			g_ptr_array_add(p->domains,
					g_strdup(g_array_index(f->report.policies, struct policy, j)
							 .domain));
	}
	p->sent = g_ptr_array_new();
	p->documents = g_ptr_array_new();
	for (guint i = 0; i < found->len; i++) {
		struct found *f = g_ptr_array_index(found, i);

		g_ptr_array_add(p->sent, &f->report);
		g_ptr_array_add(p->documents, f->json);
	}
	p->found = g_ptr_array_ref(found);
	p->rec = (struct message_record){
		.message_id = p->header[0],
		.from_addr = p->header[1],
		.subject = p->header[2],
		.report_domain = p->header[3],
		.report_submitter = p->header[4],
		.reason = p->reason,
		.reports = p->sent,
		.documents = p->documents,
		.retry_id = src->retry_id,
	};
	/* Raw bytes are what makes a quarantined message recoverable. */
	if (found->len == 0 || rec->reason != NULL || ctx->cfg->keep_raw)
		p->rec.raw = raw;
	/* p may be gone when this returns. */
	rc = store_submit(ctx->store, &p->rec, ingest_stored, p, err);
	if (rc == 0 && ctx->failure.cls != ERR_NONE)
		rc = error_set(err, ctx->failure.cls, "%s", ctx->failure.msg);
	error_clear(&ctx->failure);
	return rc;
}

int ingest_flush(struct ingest_ctx *ctx, struct error *err)
{
	int rc = ctx->store ? store_commit(ctx->store, err) : 0;

	if (rc == 0 && ctx->failure.cls != ERR_NONE)
		rc = error_set(err, ctx->failure.cls, "%s", ctx->failure.msg);
	error_clear(&ctx->failure);
	ingest_progress_clear(ctx);
	return rc;
}

int ingest_message(struct ingest_ctx *ctx, GBytes *raw, gboolean truncated,
		   const struct ingest_source *src, struct error *err)
{
	struct mail m;
	struct error perr = ERROR_INIT;
	struct mail_limits limits = { ctx->cfg->max_mime_parts, ctx->cfg->max_mime_depth };
	g_autoptr(GString) notes = g_string_new(NULL);
	g_autoptr(GPtrArray) found = NULL;
	g_autoptr(GBytes) kept = NULL;
	g_autofree char *what = NULL;
	struct message_record rec = { 0 };
	int rc;

	watchdog_message_begin(ctx->cfg);
	mail_init(&m);
	/* An oversized message is kept as its header only: enough to see who
	 * sent it, without storing what the cap is there to refuse. */
	kept = truncated ? ingest_header_part(raw) : g_bytes_ref(raw);
	if (mail_parse(&m, kept, &limits, &perr) < 0)
		note_add(notes, "%s", perr.msg);
	if (truncated) {
		note_add(notes,
			 "message larger than max-message-size (%" G_GUINT64_FORMAT
			 " bytes): kept its header only",
			 ctx->cfg->max_message_size);
		found = g_ptr_array_new_with_free_func(found_free);
	} else if (perr.cls != ERR_NONE) {
		found = g_ptr_array_new_with_free_func(found_free);
	} else {
		found = ingest_find_reports(ctx, &m, notes, &perr);
	}
	if (perr.cls == ERR_TEMP) {
		rc = error_set(err, ERR_TEMP, "%s", perr.msg);
		goto done;
	}
	what = source_describe(src, m.message_id);
	rec = (struct message_record){
		.message_id = m.message_id,
		.from_addr = m.from,
		.subject = m.subject,
		.report_domain = m.report_domain,
		.report_submitter = m.report_submitter,
		.reason = notes->len ? notes->str : NULL,
	};
	rc = ingest_commit(ctx, &rec, found, src, what, kept, err);
done:
	error_clear(&perr);
	mail_release(&m);
	return rc;
}

int ingest_bare_report(struct ingest_ctx *ctx, GBytes *raw, const struct ingest_source *src,
		       struct error *err)
{
	g_autoptr(GString) notes = g_string_new(NULL);
	g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func(found_free);
	g_autofree char *what = source_describe(src, NULL);
	g_autofree char *name = g_path_get_basename(src->input);
	struct message_record rec = { 0 };
	struct found *f;

	watchdog_message_begin(ctx->cfg);
	f = ingest_try_part(ctx, raw, name, NULL, notes, err);
	if (err->cls == ERR_TEMP)
		return -1;

	if (f != NULL) {
		f->filename = g_strdup(name);
		g_ptr_array_add(found, f);
	}
	/* A file has no headers: its name stands in for the subject. */
	rec.subject = name;
	rec.reason = notes->len ? notes->str : NULL;
	return ingest_commit(ctx, &rec, found, src, what, raw, err);
}

GBytes *ingest_header_part(GBytes *raw)
{
	gsize len = 0;
	const char *data = g_bytes_get_data(raw, &len);
	const char *end = data ? g_strstr_len(data, (gssize)len, "\n\n") : NULL;
	const char *crlf = data ? g_strstr_len(data, (gssize)len, "\r\n\r\n") : NULL;

	if (crlf != NULL && (end == NULL || crlf < end))
		end = crlf + 4;
	else if (end != NULL)
		end += 2;
	if (end == NULL || (gsize)(end - data) > HEADER_MAX)
		return g_bytes_new_from_bytes(raw, 0, MIN(len, HEADER_MAX));
	return g_bytes_new_from_bytes(raw, 0, (gsize)(end - data));
}
