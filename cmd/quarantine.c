/*
 * quarantine.c: `tlswatch quarantine list | show ID [--raw] | retry [ID...|--all]`.
 *
 * Quarantine exists so that nothing is lost while a parser has a bug or a
 * reporter a quirk: after the fix, retry runs the kept bytes through the
 * very same ingest path, updating the row in place (stored rows change
 * status, the rest get their new reason).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>

#include "cmd/cmd.h"
#include "common/log.h"
#include "ingest/ingest.h"
#include "ingest/mail.h"

static int parse_id(const char *s, gint64 *id, struct error *err)
{
	guint64 n = 0;

	if (!g_ascii_string_to_unsigned(s, 10, 1, G_MAXINT64, &n, NULL))
		return error_set(err, ERR_USAGE, "not a quarantine id: %s", s);
	*id = (gint64)n;
	return 0;
}

static int quarantine_list(struct store *st, struct error *err)
{
	g_autoptr(GPtrArray) list = NULL;

	if (store_quarantine_list(st, &list, err) < 0)
		return -1;
	printf("%-8s %-25s %-32s %s\n", "ID", "RECEIVED", "FROM", "REASON");
	for (guint i = 0; i < list->len; i++) {
		const struct quarantined *q = g_ptr_array_index(list, i);

		printf("%-8" G_GINT64_FORMAT " %-25s %-32s %s\n", q->id, q->received_at,
		       q->from_addr ? q->from_addr : "-", q->reason);
	}
	return 0;
}

static int quarantine_show(struct store *st, const char *arg, gboolean raw, struct error *err)
{
	struct quarantined *q = NULL;
	g_autoptr(GBytes) header = NULL;
	GBytes *out;
	gint64 id = 0;

	if (parse_id(arg, &id, err) < 0 || store_quarantine_get(st, id, &q, err) < 0)
		return -1;
	if (!raw)
		printf("Id: %" G_GINT64_FORMAT "\nReceived: %s\nFrom: %s\nSubject: %s\n"
		       "Reason: %s\n\n",
		       q->id, q->received_at, q->from_addr ? q->from_addr : "-",
		       q->subject ? q->subject : "-", q->reason);
	if (q->raw != NULL) {
		header = raw ? NULL : ingest_header_part(q->raw);
		out = raw ? q->raw : header;
		fwrite(g_bytes_get_data(out, NULL), 1, g_bytes_get_size(out), stdout);
	}
	quarantined_free(q);
	return 0;
}

static int quarantine_retry_one(struct ingest_ctx *ctx, gint64 id, struct error *err)
{
	struct quarantined *q = NULL;
	struct ingest_source src = { .input = "quarantine", .retry_id = id };
	int rc;

	if (store_quarantine_get(ctx->store, id, &q, err) < 0)
		return -1;
	if (q->raw == NULL) {
		quarantined_free(q);
		return error_set(err, ERR_USAGE,
				 "quarantine id %" G_GINT64_FORMAT
				 ": no raw bytes kept, nothing to retry",
				 id);
	}
	rc = ingest_message(ctx, q->raw, FALSE, &src, err);
	quarantined_free(q);
	return rc;
}

static int quarantine_retry(struct ingest_ctx *ctx, int argc, char **argv, gboolean all,
			    struct error *err)
{
	g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(gint64));
	g_autoptr(GPtrArray) list = NULL;
	gint64 id;

	if (all == (argc > 0))
		return error_set(err, ERR_USAGE, "usage: tlswatch quarantine retry ID... | --all");
	if (all && store_quarantine_list(ctx->store, &list, err) < 0)
		return -1;
	for (guint i = 0; all && i < list->len; i++)
		g_array_append_val(ids, ((struct quarantined *)g_ptr_array_index(list, i))->id);
	for (int i = 0; i < argc; i++) {
		if (parse_id(argv[i], &id, err) < 0)
			return -1;
		g_array_append_val(ids, id);
	}
	mail_library_init();
	for (guint i = 0; i < ids->len; i++) {
		if (quarantine_retry_one(ctx, g_array_index(ids, gint64, i), err) < 0)
			return -1;
	}
	log_info("retried %u: %u stored, %u duplicate, %u still quarantined", ids->len,
		 ctx->totals.stored, ctx->totals.duplicate, ctx->totals.quarantined);
	return 0;
}

int cmd_quarantine(int argc, char **argv)
{
	gboolean raw = FALSE, all = FALSE;
	const GOptionEntry entries[] = {
		{ "raw", 0, 0, G_OPTION_ARG_NONE, &raw, "show: print the message bytes as kept",
		  NULL },
		{ "all", 0, 0, G_OPTION_ARG_NONE, &all, "retry: every quarantined message", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	struct config cfg;
	struct error err = ERROR_INIT;
	struct ingest_ctx ctx = { .cfg = &cfg, .out = stdout, .verbose = TRUE };
	const char *action;
	int status;

	status = cmd_setup(&argc, &argv, "list | show ID [--raw] | retry ID...|--all",
			   "List, show and re-ingest quarantined messages.", entries, FALSE, &cfg);
	if (status != 0)
		return status;
	action = argc >= 2 ? argv[1] : "";
	if (!(g_str_equal(action, "list") && argc == 2) &&
	    !(g_str_equal(action, "show") && argc == 3) && !g_str_equal(action, "retry"))
		error_set(&err, ERR_USAGE,
			  "usage: tlswatch quarantine list | show ID [--raw] | retry ID...|--all");
	else if (store_open(&ctx.store, cfg.conninfo, &err) < 0)
		;
	else if (g_str_equal(action, "list"))
		quarantine_list(ctx.store, &err);
	else if (g_str_equal(action, "show"))
		quarantine_show(ctx.store, argv[2], raw, &err);
	else
		quarantine_retry(&ctx, argc - 2, argv + 2, all, &err);
	status = err.cls != ERR_NONE ? cmd_fail(&err, FALSE) : EX_OK;
	ingest_ctx_release(&ctx);
	config_release(&cfg);
	return status;
}
