/*
 * setup.c: what every subcommand does first (options, configuration).
 */
#include <sysexits.h>

#include "cmd/cmd.h"
#include "common/log.h"

int cmd_setup(int *argc, char ***argv, const char *params, const char *summary,
	      const GOptionEntry *entries, gboolean stdin_is_mail, struct config *cfg)
{
	g_autofree char *config_path = NULL;
	const GOptionEntry common[] = {
		{ "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
		  "Configuration file (default $TLSWATCH_CONFIG, then " CONFIG_DEFAULT_PATH ")",
		  "FILE" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	g_autoptr(GOptionContext) oc = g_option_context_new(params);
	g_autoptr(GError) gerr = NULL;
	struct error err = ERROR_INIT;

	g_option_context_set_summary(oc, summary);
	g_option_context_add_main_entries(oc, common, NULL);
	if (entries != NULL)
		g_option_context_add_main_entries(oc, entries, NULL);
	config_init(cfg);
	if (!g_option_context_parse(oc, argc, argv, &gerr)) {
		error_set(&err, ERR_USAGE, "%s (try --help)", gerr->message);
		return cmd_fail(&err, stdin_is_mail);
	}
	if (config_load(cfg, config_path, &err) < 0)
		return cmd_fail(&err, stdin_is_mail && *argc < 2);
	if (cfg->syslog)
		log_use_syslog();
	return 0;
}

int cmd_fail(struct error *err, gboolean in_mta)
{
	int code = error_exit_code(err->cls, in_mta);

	log_error("%s", err->msg ? err->msg : "unknown error");
	error_clear(err);
	/* Only for failures; should a handled outcome get here, retrying is safe. */
	if (code == EX_OK)
		return in_mta ? EX_TEMPFAIL : EX_DATAERR;
	return code;
}

int cmd_parse_now(const char *s, gint64 *now, struct error *err)
{
	g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
	g_autoptr(GDateTime) dt = NULL;
	guint64 n;

	if (s == NULL) {
		*now = g_get_real_time() / G_USEC_PER_SEC;
		return 0;
	}
	if (s[0] == '@' && g_ascii_string_to_unsigned(s + 1, 10, 0, G_MAXINT64, &n, NULL)) {
		*now = (gint64)n;
		return 0;
	}
	dt = g_date_time_new_from_iso8601(s, utc);
	if (dt == NULL)
		return error_set(err, ERR_USAGE,
				 "--now: expected a time like 2024-06-05T12:00:00Z or @SECONDS, "
				 "got '%s'",
				 s);
	*now = g_date_time_to_unix(dt);
	return 0;
}
