/*
 * webhook.c: the digest posted to a [webhook NAME], the webhooks of
 * tlswatch alert, delivered by the same code (alert_deliver: timeout,
 * signature headers when a secret is set).
 *
 * Chat webhooks get what a person reads: Slack the text digest in a code
 * block, so that the sparklines line up; Teams the Markdown one. A generic
 * webhook gets the documented JSON object, for other tools.
 */
#include <stdlib.h>

#include <jansson.h>

#include "alert/alert.h"
#include "digest/digest.h"

/* The request body for format: a new string (g_free). */
static char *digest_webhook_body(const struct digest *d, enum alert_format format)
{
	g_autofree char *text = NULL;
	json_t *o = NULL;
	char *dumped, *body;

	switch (format) {
	case ALERT_FORMAT_GENERIC:
		return digest_render_json(d);
	case ALERT_FORMAT_SLACK:
		text = digest_render_text(d);
		o = json_pack("{s:s++}", "text", "```\n", text, "```");
		break;
	case ALERT_FORMAT_TEAMS:
		text = digest_render_markdown(d);
		o = json_pack("{s:s}", "text", text);
		break;
	}
	dumped = json_dumps(o, JSON_COMPACT);
	body = g_strdup(dumped);
	free(dumped);
	json_decref(o);
	return body;
}

int digest_webhook(const struct digest *d, const struct config *cfg, const char *name,
		   struct error *err)
{
	struct alert_config ac;
	const struct alert_webhook *w;
	char *body = NULL, *why = NULL;
	gboolean retry = FALSE;
	int rc = -1;

	alert_config_init(&ac);
	if (alert_config_load(&ac, cfg->keyfile, cfg->path, err) < 0)
		goto fail;
	w = alert_config_webhook(&ac, name);
	if (w == NULL) {
		error_set(err, ERR_USAGE, "--webhook %s: no such [webhook %s] in %s", name, name,
			  cfg->path ? cfg->path : "the configuration");
		goto fail;
	}
	body = digest_webhook_body(d, w->format);
	if (alert_deliver(w, body, g_get_real_time() / G_USEC_PER_SEC, &retry, &why) < 0) {
		/* A 4xx answer will not change by itself: the URL or the
		 * receiver's set-up is wrong (78); the rest may pass later (75). */
		error_set(err, retry ? ERR_TEMP : ERR_CONFIG, "webhook %s: %s", name, why);
		goto fail;
	}
	rc = 0;
fail:
	g_free(body);
	g_free(why);
	alert_config_release(&ac);
	return rc;
}
