/*
 * ingest.c: the data flow for one message, start to end.
 *
 * The message is parsed in a child process (contain.h, parse.h): the
 * parsers read bytes from anyone, and whatever they do with them must end
 * as a quarantine with a reason, never as the death of the delivery agent.
 * This process keeps the raw message and the database connection, hands
 * what the child found to the store and counts the outcome. Nothing here
 * knows SQL or MIME: those are store.c's and mail.c's jobs.
 */
#include <string.h>

#include "common/domain.h"
#include "common/log.h"
#include "common/text.h"
#include "ingest/contain.h"
#include "ingest/ingest.h"
#include "ingest/parse.h"
#include "ingest/trust.h"
#include "ingest/watchdog.h"

/* What is kept of a message over max-message-size: its header, but never
 * more than this, since a header with no end is part of the attack. */
#define HEADER_MAX (256 * 1024)

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
	char *source[3]; /* channel, client, user_agent */
	char *trust[5];	 /* dkim_result, dkim_domain, dkim_selector, auth_note,
			    dkim_signatures */
	GBytes *raw;	 /* the whole message, for a quarantine */
	char *what;
	guint reports;
	char *first;	    /* "organization (report-id)" of the first report */
	char *cause;	    /* for the MTA's status line: see ingest_count */
	gboolean rejected;  /* refused by the database, sent again as a quarantine */
	GPtrArray *domains; /* char *: its reports' policy domains, for the alert rules */
	GPtrArray *failing; /* char *: those whose policies list failed sessions */
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
	for (gsize i = 0; i < G_N_ELEMENTS(p->source); i++)
		g_free(p->source[i]);
	for (gsize i = 0; i < G_N_ELEMENTS(p->trust); i++)
		g_free(p->trust[i]);
	g_bytes_unref(p->raw);
	g_free(p->what);
	g_free(p->first);
	g_free(p->cause);
	if (p->domains != NULL)
		g_ptr_array_unref(p->domains);
	if (p->failing != NULL)
		g_ptr_array_unref(p->failing);
	if (p->found != NULL)
		g_ptr_array_unref(p->found);
	if (p->sent != NULL)
		g_ptr_array_unref(p->sent);
	if (p->documents != NULL)
		g_ptr_array_unref(p->documents);
	g_free(p);
}

/* The first policy domain of p's first report, or NULL: the one the MTA's
 * status line names. */
static const char *pending_domain(const struct pending *p)
{
	return p->domains != NULL && p->domains->len > 0 ? g_ptr_array_index(p->domains, 0) : NULL;
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

/* Postfix keeps about 100 characters of a pipe command's output in its
 * status text: the MTA's first line must say the outcome and the facts
 * that identify the report within that, the full line follows. It is
 * written last (log_hold), once the alerts after the commit have run. */
#define STATUS_LINE_MAX 88

static void ingest_status_keep(struct ingest_ctx *ctx, enum message_status status, guint reports,
			       const char *domain, const char *first, const char *reason)
{
	g_free(ctx->status_head);
	g_free(ctx->status_tail);
	ctx->status_last = status;
	if (status == MESSAGE_QUARANTINED) {
		ctx->status_head = g_strdup("quarantined");
		ctx->status_tail = g_strdup(reason ? reason : "");
		return;
	}
	ctx->status_head = g_strdup_printf("%s %u report%s", message_status_name(status), reports,
					   reports == 1 ? "" : "s");
	ctx->status_tail = g_strdup_printf("%s, %s", domain ? domain : "?", first ? first : "?");
}

char *ingest_status_take(struct ingest_ctx *ctx, const char *alerts, gboolean *warn)
{
	GString *line;

	*warn = ctx->status_last == MESSAGE_QUARANTINED;
	if (ctx->status_head == NULL)
		return NULL;
	line = g_string_new(ctx->status_head);
	if (alerts != NULL)
		g_string_append_printf(line, ", %s", alerts);
	g_string_append_printf(line, ": %s", ctx->status_tail);
	/* One line whatever the report says: LMTP and HTTP send it on. */
	g_strdelimit(line->str, "\r\n", ' ');
	text_cut(line, STATUS_LINE_MAX);
	g_clear_pointer(&ctx->status_head, g_free);
	g_clear_pointer(&ctx->status_tail, g_free);
	return g_string_free(line, FALSE);
}

/* Count the outcome of a message and log it; cause is what the MTA's
 * status line says of a quarantine (the first note without its part), or
 * NULL to say the reason. */
static void ingest_count(struct ingest_ctx *ctx, enum message_status status, const char *what,
			 guint reports, const char *domain, const char *first, const char *reason,
			 const char *cause)
{
	if (ctx->status_line)
		ingest_status_keep(ctx, status, reports, domain, first, cause ? cause : reason);
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
		ingest_count(ctx, status, p->what, p->reports, pending_domain(p), p->first,
			     p->rec.reason, p->cause);
		if (status == MESSAGE_STORED && ctx->alert_domains != NULL) {
			domain_list_add(ctx->alert_domains, p->domains);
			domain_list_add(ctx->alert_failing, p->failing);
		}
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
		g_clear_pointer(&p->cause, g_free);
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
			 const char *cause, const struct ingest_source *src, const char *what,
			 GBytes *raw, struct error *err)
{
	const struct found *first = found->len ? g_ptr_array_index(found, 0) : NULL;
	const char *const header[] = { rec->message_id, rec->from_addr, rec->subject,
				       rec->report_domain, rec->report_submitter };
	const char *const trust[] = { rec->dkim_result, rec->dkim_domain, rec->dkim_selector,
				      rec->auth_note, rec->dkim_signatures };
	struct pending *p = g_new0(struct pending, 1);
	int rc;

	p->ctx = ctx;
	p->what = g_strdup(what);
	p->cause = g_strdup(cause);
	p->reports = found->len;
	if (first != NULL)
		p->first = g_strdup_printf("%s (%s)", first->report.organization_name,
					   first->report.report_id);
	p->domains = g_ptr_array_new_with_free_func(g_free);
	p->failing = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < found->len; i++) {
		const struct found *f = g_ptr_array_index(found, i);

		for (guint j = 0; j < f->report.policies->len; j++) {
			const struct policy *pol =
				&g_array_index(f->report.policies, struct policy, j);

			g_ptr_array_add(p->domains, g_strdup(pol->domain));
			/* Details without a failed count still count for a rule on
			 * result types. */
			if (pol->failed_sessions > 0 || pol->failures->len > 0)
				g_ptr_array_add(p->failing, g_strdup(pol->domain));
		}
	}
	if (ctx->dry_run) {
		dry_run_print(ctx, src, found, rec->reason);
		ingest_count(ctx, found->len ? MESSAGE_STORED : MESSAGE_QUARANTINED, what,
			     p->reports, pending_domain(p), p->first, rec->reason, p->cause);
		pending_free(p);
		return 0;
	}
	for (gsize i = 0; i < G_N_ELEMENTS(header); i++)
		p->header[i] = g_strdup(header[i]);
	p->reason = g_strdup(rec->reason);
	p->source[0] = g_strdup(src->channel);
	p->source[1] = g_strdup(src->client);
	p->source[2] = g_strdup(src->user_agent);
	for (gsize i = 0; i < G_N_ELEMENTS(trust); i++)
		p->trust[i] = g_strdup(trust[i]);
	p->raw = g_bytes_ref(raw);
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
		.channel = p->source[0],
		.client = p->source[1],
		.user_agent = p->source[2],
		.authenticated = rec->authenticated,
		.dkim_result = p->trust[0],
		.dkim_domain = p->trust[1],
		.dkim_selector = p->trust[2],
		.auth_note = p->trust[3],
		.dkim_signatures = p->trust[4],
	};
	/* Raw bytes are what makes a quarantined message recoverable, and a
	 * message whose key DNS did not give verifiable again (reverify.h). */
	if (found->len == 0 || rec->reason != NULL || ctx->cfg->keep_raw ||
	    g_strcmp0(rec->dkim_result, "temperror") == 0)
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

/* A job for the parse child: a bare report file's name (or nothing for a
 * message), whether the message was cut to its header, and the bytes. */
#define PARSE_JOB_TYPE "(msbay)"

/* In the child: parse the job, and answer with what was found. */
static int parse_job_run(gpointer data, GBytes *job, GBytes **result, struct error *err)
{
	const struct config *cfg = data;
	g_autoptr(GVariant) v = g_variant_ref_sink(
		g_variant_new_from_bytes(G_VARIANT_TYPE(PARSE_JOB_TYPE), job, TRUE));
	g_autoptr(GVariant) raw_v = g_variant_get_child_value(v, 2);
	g_autoptr(GBytes) raw = g_variant_get_data_as_bytes(raw_v);
	g_autofree char *bare_name = NULL;
	gboolean truncated = FALSE;
	struct parsed p;
	int rc;

	g_variant_get_child(v, 0, "ms", &bare_name);
	g_variant_get_child(v, 1, "b", &truncated);
	parsed_init(&p);
	rc = bare_name != NULL ? parse_bare_report(cfg, raw, bare_name, &p, err)
			       : parse_message(cfg, raw, truncated, &p, err);
	if (rc == 0)
		*result = parsed_serialise(&p);
	parsed_release(&p);
	return rc;
}

int ingest_parser_start(struct ingest_ctx *ctx, struct error *err)
{
	const struct config *cfg = ctx->cfg;
	const struct contain_limits limits = {
		.max_memory = cfg->max_parse_memory,
		/* The reports' JSON and the header fields, with room to spare. */
		.max_result = cfg->max_total_report_size + cfg->max_message_size + 65536,
		.max_seconds = cfg->max_processing_time,
	};

	if (ctx->parser == NULL)
		ctx->parser = contain_new(&limits, parse_job_run, (gpointer)cfg);
	return contain_start(ctx->parser, err);
}

void ingest_parser_stop(struct ingest_ctx *ctx)
{
	g_clear_pointer(&ctx->parser, contain_free);
}

void ingest_collect_alert_domains(struct ingest_ctx *ctx)
{
	ctx->alert_domains = g_ptr_array_new_with_free_func(g_free);
	ctx->alert_failing = g_ptr_array_new_with_free_func(g_free);
}

void ingest_ctx_release(struct ingest_ctx *ctx)
{
	ingest_parser_stop(ctx);
	g_clear_pointer(&ctx->store, store_free);
	g_clear_pointer(&ctx->alert_domains, g_ptr_array_unref);
	g_clear_pointer(&ctx->alert_failing, g_ptr_array_unref);
}

/* What the bytes hold, in p (parsed_init'ed), parsed in the child. A
 * child that failed leaves its reason as p's one note: the message is
 * quarantined. The time the child takes does not count against this
 * process's max-processing-time: the child has its own. Returns -1
 * (ERR_TEMP) when no child could run or memory ran out here. */
static int ingest_parse(struct ingest_ctx *ctx, const char *bare_name, gboolean truncated,
			GBytes *raw, struct parsed *p, struct error *err)
{
	g_autoptr(GVariant) job_v = g_variant_ref_sink(
		g_variant_new("(msb@ay)", bare_name, truncated,
			      g_variant_new_from_bytes(G_VARIANT_TYPE_BYTESTRING, raw, TRUE)));
	g_autoptr(GBytes) job = g_variant_get_data_as_bytes(job_v);
	g_autoptr(GBytes) result = NULL;
	g_autofree char *why = NULL;
	guint watchdog_left;
	int rc;

	if (ingest_parser_start(ctx, err) < 0)
		return -1;
	watchdog_left = watchdog_pause();
	rc = contain_run(ctx->parser, job, &result, &why, err);
	watchdog_resume(watchdog_left);
	if (rc < 0)
		return -1;
	if (why != NULL) {
		parsed_note(p, NULL, "%s", why);
		return 0;
	}
	return parsed_deserialise(ctx->cfg, result, p, err);
}

/* [ingest] dkim = require: a mail whose reports are not authenticated is
 * quarantined with the reason (p loses its reports), or, when a DNS
 * failure kept its key from us, tried again later (-1, ERR_TEMP) when the
 * sender retries (pipe, LMTP): fetched over IMAP it is stored as
 * temperror instead, for `db reverify`, since a retry there would stop
 * the mailbox at that message. A report POSTed over HTTP(S) has no
 * signature to require: it is stored, unauthenticated, and counts for
 * nothing; a report file named on the command line is not judged
 * (trust.h). */
static int ingest_require_authenticated(struct ingest_ctx *ctx, const struct trust *t,
					struct parsed *p, const char *channel, const char *what,
					struct error *err)
{
	if (ctx->cfg->dkim != CONFIG_DKIM_REQUIRE || t->authenticated || p->auth_method == NULL ||
	    p->found->len == 0)
		return 0;
	if (g_str_equal(t->result, "temperror")) {
		if (g_strcmp0(channel, "imap") == 0)
			return 0;
		return error_set(err, ERR_TEMP, "%s: DKIM key not available now: %s", what,
				 t->note);
	}
	parsed_note(p, NULL, "not authenticated (dkim = require): %s", t->note);
	g_ptr_array_set_size(p->found, 0);
	return 0;
}

/* Parse the bytes and hand what they hold to the store. */
static int ingest_parsed(struct ingest_ctx *ctx, const char *bare_name, gboolean truncated,
			 const struct ingest_source *src, GBytes *kept, struct error *err)
{
	g_autofree char *what = NULL;
	struct message_record rec;
	struct trust trust = { 0 };
	struct parsed p;
	int rc;

	parsed_init(&p);
	rc = ingest_parse(ctx, bare_name, truncated, kept, &p, err);
	if (rc < 0)
		goto done;
	what = source_describe(src, p.header[HEADER_MESSAGE_ID]);
	trust_judge(&trust, ctx->cfg, &p, src->channel, src->client);
	if (ingest_require_authenticated(ctx, &trust, &p, src->channel, what, err) < 0) {
		rc = -1;
		goto done;
	}
	rec = (struct message_record){
		.message_id = p.header[HEADER_MESSAGE_ID],
		.from_addr = p.header[HEADER_FROM],
		.subject = p.header[HEADER_SUBJECT],
		.report_domain = p.header[HEADER_REPORT_DOMAIN],
		.report_submitter = p.header[HEADER_REPORT_SUBMITTER],
		.reason = p.notes->len ? p.notes->str : NULL,
		.authenticated = !trust.judged	       ? 0
				 : trust.authenticated ? 1
						       : -1,
		.dkim_result = trust.result,
		.dkim_domain = trust.domain,
		.dkim_selector = trust.selector,
		.auth_note = trust.note,
		.dkim_signatures = trust.signatures,
	};
	rc = ingest_commit(ctx, &rec, p.found, p.cause, src, what, kept, err);
done:
	trust_release(&trust);
	parsed_release(&p);
	return rc;
}

int ingest_judge(struct ingest_ctx *ctx, GBytes *raw, struct trust *t, struct error *err)
{
	struct parsed p;
	int rc;

	parsed_init(&p);
	watchdog_message_begin(ctx->cfg);
	rc = ingest_parse(ctx, NULL, FALSE, raw, &p, err);
	watchdog_message_end();
	if (rc == 0)
		trust_judge(t, ctx->cfg, &p, NULL, NULL);
	parsed_release(&p);
	return rc;
}

int ingest_message(struct ingest_ctx *ctx, GBytes *raw, gboolean truncated,
		   const struct ingest_source *src, struct error *err)
{
	/* An oversized message is kept as its header only: enough to see who
	 * sent it, without storing what the cap is there to refuse. */
	g_autoptr(GBytes) kept = truncated ? ingest_header_part(raw) : g_bytes_ref(raw);

	watchdog_message_begin(ctx->cfg);
	return ingest_parsed(ctx, NULL, truncated, src, kept, err);
}

int ingest_bare_report(struct ingest_ctx *ctx, GBytes *raw, const struct ingest_source *src,
		       struct error *err)
{
	g_autofree char *name = g_path_get_basename(src->input);

	watchdog_message_begin(ctx->cfg);
	return ingest_parsed(ctx, name, FALSE, src, raw, err);
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
