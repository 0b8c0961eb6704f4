/*
 * digest.c: `tlswatch digest`, the summary of a period for a postmaster,
 * on stdout or by mail. A thin command over digest/: options and [digest]
 * here, the figures in digest/query.c, the verdict in digest/readiness.c.
 * An empty period is an answer ("no reports"), not an error: exit 0.
 */
#include <stdio.h>
#include <sysexits.h>

#include <libpq-fe.h>

#include "cmd/cmd.h"
#include "common/db.h"
#include "common/log.h"
#include "digest/digest.h"

struct digest_opts {
	char *since, *from, *to, *format, *webhook;
	char **domains, **mail_to;
};

static void digest_opts_release(struct digest_opts *o)
{
	g_free(o->since);
	g_free(o->from);
	g_free(o->to);
	g_free(o->format);
	g_free(o->webhook);
	g_strfreev(o->domains);
	g_strfreev(o->mail_to);
}

static char *digest_render(const struct digest *d, const char *format)
{
	if (g_str_equal(format, "json"))
		return digest_render_json(d);
	if (g_str_equal(format, "markdown"))
		return digest_render_markdown(d);
	if (g_str_equal(format, "html"))
		return digest_render_html(d);
	return digest_render_text(d);
}

static int digest_check_opts(const struct digest_opts *o, int argc, struct error *err)
{
	static const char *const formats[] = { "text", "markdown", "html", "json", NULL };

	if (argc > 1)
		return error_set(err, ERR_USAGE, "digest takes no arguments, only options");
	if (o->format != NULL && !g_strv_contains(formats, o->format))
		return error_set(err, ERR_USAGE, "--format: expected text, markdown, html or json");
	if (o->webhook != NULL && o->mail_to != NULL)
		return error_set(err, ERR_USAGE, "--webhook and --mail-to: one at a time");
	return 0;
}

static int digest_run(const struct digest_opts *o, const struct config *cfg,
		      const struct digest_config *dc, const struct digest_period *p,
		      const struct digest_period *prev, struct error *err)
{
	PGconn *conn = NULL;
	struct digest *d = NULL;
	char *out = NULL;
	int rc = -1;

	if ((conn = db_connect(cfg->conninfo, err)) == NULL ||
	    digest_query(conn, p, prev, o->domains, dc, &d, err) < 0)
		goto fail;
	for (guint i = 0; i < d->domains->len; i++)
		digest_assess(g_ptr_array_index(d->domains, i), dc);
	if (o->webhook != NULL) {
		if (digest_webhook(d, cfg, o->webhook, err) < 0)
			goto fail;
		log_info("digest posted to webhook %s", o->webhook);
	} else if (o->mail_to != NULL) {
		if (digest_mail(d, dc, o->mail_to, err) < 0)
			goto fail;
		log_info("digest mailed to %u recipient%s", g_strv_length(o->mail_to),
			 digest_plural(g_strv_length(o->mail_to)));
	} else {
		out = digest_render(d, o->format ? o->format : "text");
		fputs(out, stdout);
		if (fflush(stdout) != 0) {
			error_set(err, ERR_TEMP, "cannot write the digest to stdout");
			goto fail;
		}
	}
	rc = 0;
fail:
	g_free(out);
	digest_free(d);
	PQfinish(conn);
	return rc;
}

int cmd_digest(int argc, char **argv)
{
	struct digest_opts o = { 0 };
	const GOptionEntry entries[] = {
		{ "since", 's', 0, G_OPTION_ARG_STRING, &o.since,
		  "The last N whole days (7d) or weeks (2w) up to today 00:00 UTC (default 7d)",
		  "N" },
		{ "from", 0, 0, G_OPTION_ARG_STRING, &o.from, "First day (UTC) of the period",
		  "YYYY-MM-DD" },
		{ "to", 0, 0, G_OPTION_ARG_STRING, &o.to, "Last day (UTC), inclusive",
		  "YYYY-MM-DD" },
		{ "domain", 'd', 0, G_OPTION_ARG_STRING_ARRAY, &o.domains,
		  "Only policy domains matching GLOB (repeatable; * and ?)", "GLOB" },
		{ "format", 'f', 0, G_OPTION_ARG_STRING, &o.format,
		  "text (default), markdown, html or json", "FORMAT" },
		{ "mail-to", 'm', 0, G_OPTION_ARG_STRING_ARRAY, &o.mail_to,
		  "Mail text + HTML to ADDR through [digest] sendmail (repeatable)", "ADDR" },
		{ "webhook", 0, 0, G_OPTION_ARG_STRING, &o.webhook,
		  "Post to [webhook NAME] in its format (slack, teams, generic)", "NAME" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	struct config cfg;
	struct digest_config dc;
	struct digest_period p, prev;
	struct error err = ERROR_INIT;
	int status;

	status = cmd_setup(&argc, &argv, "", "Summarise a period of TLS reports per policy domain.",
			   entries, FALSE, &cfg);
	if (status != 0)
		goto out;
	digest_config_init(&dc);
	if (digest_check_opts(&o, argc, &err) == 0 &&
	    digest_config_load(&dc, cfg.keyfile, cfg.path, &err) == 0 &&
	    digest_period_parse(o.since, o.from, o.to, g_get_real_time() / G_USEC_PER_SEC, &p,
				&prev, &err) == 0)
		digest_run(&o, &cfg, &dc, &p, &prev, &err);
	status = err.cls != ERR_NONE ? cmd_fail(&err, FALSE) : EX_OK;
	digest_config_release(&dc);
	config_release(&cfg);
out:
	digest_opts_release(&o);
	return status;
}
