/*
 * alert.c: `tlswatch alert`, run by cron or a timer every few minutes:
 * evaluate the rules, queue firings, deliver what is due. A thin command
 * over alert/: options and the three modes (run, --list, --test) here.
 * A receiver that is down is not an error of this run (exit 0, a warning
 * per attempt): the row waits in the outbox for the next run.
 */
#include <stdio.h>
#include <sysexits.h>

#include <curl/curl.h>

#include "alert/alert.h"
#include "cmd/cmd.h"
#include "common/db.h"
#include "common/log.h"

struct alert_opts {
	char *now, *test;
	char **after_ingest; /* hidden: run the on-ingest path for these domains */
	gboolean list;
};

/* --now: RFC 3339 ("2024-06-05T12:00:00Z") or @unix-seconds. */
static void alert_list_rule(const struct alert_rule *r, GPtrArray *list, GHashTable *sent)
{
	g_autofree char *window =
		alert_duration_str(r->kind == ALERT_KIND_SILENCE ? r->silent_for : r->window);
	g_autofree char *notify = g_strjoinv(";", r->notify);

	if (r->kind == ALERT_KIND_SILENCE)
		printf("rule %s: silence for %s, notify %s\n", r->name, window, notify);
	else
		printf("rule %s: window %s, min-failed-sessions %" G_GINT64_FORMAT
		       ", min-failure-rate %.2f%%, notify %s\n",
		       r->name, window, r->min_failed, r->min_rate, notify);
	if (list->len == 0)
		printf("  (no reports in the window)\n");
	for (guint i = 0; i < list->len; i++) {
		const struct alert_firing *f = g_ptr_array_index(list, i);
		g_autofree char *key =
			g_strdup_printf("%s\n%s", f->domain, f->group ? f->group : "");
		const char *last = g_hash_table_lookup(sent, key);
		g_autofree char *lastr = alert_time_iso(f->last_report);

		printf("  %s%s%s: ", f->domain, f->group ? " " : "", f->group ? f->group : "");
		if (r->kind == ALERT_KIND_SILENCE)
			printf("last report ended %s", lastr);
		else
			printf("%" G_GINT64_FORMAT " failed of %" G_GINT64_FORMAT " (%.2f%%)%s",
			       f->failed, alert_firing_sessions(f), alert_firing_rate(f),
			       f->capped ? " (capped)" : "");
		printf(", %s, last sent %s\n", f->firing ? "firing" : "ok", last ? last : "never");
	}
}

static int alert_list(PGconn *conn, const struct alert_config *c, gint64 now, struct error *err)
{
	g_autoptr(GPtrArray) lists = NULL;

	if (alert_evaluate(conn, c->rules, now, NULL, &lists, err) < 0)
		return -1;
	for (guint i = 0; i < c->rules->len; i++) {
		const struct alert_rule *r = g_ptr_array_index(c->rules, i);
		GHashTable *sent = NULL;

		if (alert_outbox_last_sent(conn, r, &sent, err) < 0)
			return -1;
		alert_list_rule(r, g_ptr_array_index(lists, i), sent);
		g_hash_table_unref(sent);
	}
	if (c->rules->len == 0)
		printf("no [rule NAME] in the configuration\n");
	return fflush(stdout) == 0 ? 0 : error_set(err, ERR_TEMP, "cannot write to stdout");
}

static int alert_test(const struct alert_config *c, const char *name, gint64 now, struct error *err)
{
	const struct alert_webhook *w = alert_config_webhook(c, name);
	struct alert_rule rule = { .name = (char *)"test", .window = 86400, .min_failed = 1 };
	struct alert_firing *f;
	g_autofree char *body = NULL, *why = NULL;
	gboolean retry;
	int rc;

	if (w == NULL)
		return error_set(err, ERR_USAGE, "--test: no [webhook %s] in the configuration",
				 name);
	f = alert_firing_sample(&rule, now);
	body = alert_payload(f, w->format);
	alert_firing_free(f);
	rc = alert_deliver(w, body, g_get_real_time() / G_USEC_PER_SEC, &retry, &why);
	if (rc < 0)
		return error_set(err, ERR_TEMP, "test alert to webhook %s: %s", name, why);
	log_info("test alert sent to webhook %s", name);
	return 0;
}

/* The pass runs every few minutes: the natural place to keep next months'
 * partitions ready (a no-op on all other runs). Failing that (a role
 * without EXECUTE on it) is no reason to stop alerting: reports still
 * land, in the future catch-all partition, until db migrate or db prune
 * creates them. */
static void alert_create_partitions(PGconn *conn)
{
	struct error err = ERROR_INIT;

	if (db_create_partitions(conn, g_get_real_time() / G_USEC_PER_SEC, NULL, &err) < 0)
		log_warning("%s", err.msg);
	error_clear(&err);
}

static int alert_main(const struct alert_opts *o, const struct config *cfg,
		      const struct alert_config *c, gint64 now, struct error *err)
{
	struct alert_counts n = { 0 };
	g_autofree char *held = NULL;
	PGconn *conn = NULL;
	int rc = -1;

	if (o->test != NULL)
		return alert_test(c, o->test, now, err);
	if ((conn = db_connect(cfg->conninfo, err)) == NULL)
		goto fail;
	if (o->after_ingest != NULL) {
		g_autoptr(GPtrArray) domains = g_ptr_array_new();

		for (guint i = 0; o->after_ingest[i] != NULL; i++)
			g_ptr_array_add(domains, o->after_ingest[i]);
		alert_after_ingest(conn, cfg, domains, NULL);
		rc = 0;
		goto fail;
	}
	if (o->list) {
		rc = alert_list(conn, c, now, err);
		goto fail;
	}
	alert_create_partitions(conn);
	if (alert_run_rules(conn, c, now, NULL, &n, err) < 0 ||
	    alert_outbox_deliver(conn, c, now, NULL, FALSE, &n, err) < 0)
		goto fail;
	held = alert_counts_held(&n);
	log_info("alert: %u fired, %u resolved, %u in cooldown%s; %u sent, %u to retry, %u failed",
		 n.fired, n.resolved, n.cooldown, held, n.sent, n.retrying, n.failed);
	rc = 0;
fail:
	PQfinish(conn);
	return rc;
}

int cmd_alert(int argc, char **argv)
{
	struct alert_opts o = { 0 };
	const GOptionEntry entries[] = {
		{ "now", 0, 0, G_OPTION_ARG_STRING, &o.now,
		  "Evaluate as of TIME (RFC 3339 or @unix-seconds) instead of the clock", "TIME" },
		{ "list", 'l', 0, G_OPTION_ARG_NONE, &o.list,
		  "Show each rule with its current figures and state; send nothing", NULL },
		{ "test", 't', 0, G_OPTION_ARG_STRING, &o.test,
		  "Send a sample alert to the webhook NAME", "NAME" },
		{ "after-ingest", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING_ARRAY,
		  &o.after_ingest, "What ingest runs after storing reports for DOMAIN (tests)",
		  "DOMAIN" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	struct config cfg;
	struct alert_config c;
	struct error err = ERROR_INIT;
	gint64 now = 0;
	int status;

	status = cmd_setup(&argc, &argv, "",
			   "Evaluate the alert rules and deliver pending webhooks.", entries, FALSE,
			   &cfg);
	if (status != 0)
		goto out;
	alert_config_init(&c);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (argc > 1)
		error_set(&err, ERR_USAGE, "alert takes no arguments, only options");
	else if (cmd_parse_now(o.now, &now, &err) == 0 &&
		 /* on ingest, alert_after_ingest reads (and reports) the groups itself */
		 (o.after_ingest != NULL ||
		  alert_config_load(&c, cfg.keyfile, cfg.path, &err) == 0))
		alert_main(&o, &cfg, &c, now, &err);
	status = err.cls != ERR_NONE ? cmd_fail(&err, FALSE) : EX_OK;
	curl_global_cleanup();
	alert_config_release(&c);
	config_release(&cfg);
out:
	g_free(o.now);
	g_free(o.test);
	g_strfreev(o.after_ingest);
	return status;
}
