/*
 * outbox.c: tlswatch.alerts, the table between "a rule fired" and "a
 * receiver has it". A firing is written in the transaction that checks the
 * cooldown, under an advisory lock per rule, domain and group, so two
 * concurrent runs cannot both pass the check. Delivery claims one due row
 * at a time with FOR UPDATE SKIP LOCKED and keeps the lock while it posts:
 * another run skips that row, and sees it sent once this one commits.
 */
#include <string.h>

#include "alert/alert.h"
#include "common/db.h"
#include "common/domain.h"
#include "common/log.h"
#include "common/pgarray.h"

#define MAX_BACKOFF (24 * 3600)

static const char *const q_lock =
	"SELECT pg_advisory_xact_lock(hashtext('tlswatch.alerts'), hashtext($1))";

/* $1 rule, $2 domain, $3 group, $4 now, $5 cooldown: fired within it? */
static const char *const q_cooldown =
	"SELECT 1 FROM tlswatch.alert_state WHERE rule = $1 AND domain = $2 AND group_key = $3"
	" AND last_fired_at > to_timestamp($4::bigint) - make_interval(secs => $5::bigint)";

/* $1 rule, $2 now, $3 cooldown, $4 domains (text[] or NULL): every domain
 * and group in cooldown. */
static const char *const q_cooling =
	"SELECT domain, group_key FROM tlswatch.alert_state WHERE rule = $1"
	" AND last_fired_at > to_timestamp($2::bigint) - make_interval(secs => $3::bigint)"
	" AND ($4::text[] IS NULL OR domain = ANY ($4::text[]))";

/* $1 rule, $2 domain, $3 group: the last event. */
static const char *const q_last_event = "SELECT last_event FROM tlswatch.alert_state"
					" WHERE rule = $1 AND domain = $2 AND group_key = $3";

/* $1 rule, $2 domain, $3 group, $4 event, $5 at: the state after an event;
 * --now replays may write events out of order, so the latest one wins. */
static const char *const q_state =
	"INSERT INTO tlswatch.alert_state AS s (rule, domain, group_key, last_event,"
	" last_event_at, last_fired_at) VALUES ($1, $2, $3, $4, to_timestamp($5::bigint),"
	" CASE WHEN $4 = 'firing' THEN to_timestamp($5::bigint) END)"
	" ON CONFLICT (rule, domain, group_key) DO UPDATE SET"
	" last_event = CASE WHEN excluded.last_event_at >= s.last_event_at"
	" THEN excluded.last_event ELSE s.last_event END,"
	" last_event_at = greatest(s.last_event_at, excluded.last_event_at),"
	" last_fired_at = greatest(s.last_fired_at, excluded.last_fired_at)";

static const char *const q_insert =
	"INSERT INTO tlswatch.alerts (rule, domain, group_key, event, webhook, window_start,"
	" window_end, fired_at, figures, payload, next_attempt_at)"
	" VALUES ($1, $2, $3, $4, $5, to_timestamp($6::bigint), to_timestamp($7::bigint),"
	" to_timestamp($8::bigint), $9::jsonb, $10, to_timestamp($8::bigint))";

/* $1 rule: the domains and groups whose last event is a firing. */
static const char *const q_open = "SELECT domain, group_key FROM tlswatch.alert_state"
				  " WHERE rule = $1 AND last_event = 'firing'";

/* $1 domains, $2 rules (text[]): the domains with a firing of one of the
 * rules open. */
static const char *const q_open_domains =
	"SELECT DISTINCT domain FROM tlswatch.alert_state WHERE domain = ANY ($1::text[])"
	" AND rule = ANY ($2::text[]) AND last_event = 'firing'";

/* $1 now, $2 domains (text[] or NULL), $3 webhooks given up on in this
 * run (text[]): the next due row, locked. */
static const char *const q_claim =
	"SELECT id, webhook, payload, attempts, domain FROM tlswatch.alerts"
	" WHERE state = 'pending' AND next_attempt_at <= to_timestamp($1::bigint)"
	" AND ($2::text[] IS NULL OR domain = ANY ($2::text[]))"
	" AND webhook <> ALL ($3::text[])"
	" ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED";

static const char *const q_sent =
	"UPDATE tlswatch.alerts SET state = 'sent', attempts = attempts + 1, sent_at = now(),"
	" last_error = NULL WHERE id = $1";

/* $1 id, $2 error, $3 next attempt, $4 'pending' or 'failed' */
static const char *const q_failed =
	"UPDATE tlswatch.alerts SET state = $4, attempts = attempts + 1, last_error = $2,"
	" next_attempt_at = to_timestamp($3::bigint) WHERE id = $1";

/* Run sql with params; the result (tuples or command) or NULL with err set. */
static PGresult *ob_exec(PGconn *conn, const char *sql, int n, const char *const *params,
			 struct error *err)
{
	PGresult *res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);

	if (PQresultStatus(res) == PGRES_TUPLES_OK || PQresultStatus(res) == PGRES_COMMAND_OK)
		return res;
	db_error(conn, res, err, "alert outbox");
	PQclear(res);
	return NULL;
}

static int ob_exec_clear(PGconn *conn, const char *sql, int n, const char *const *params,
			 struct error *err)
{
	PGresult *res = ob_exec(conn, sql, n, params, err);

	PQclear(res);
	return res != NULL ? 0 : -1;
}

static char *ob_int(gint64 v)
{
	return g_strdup_printf("%" G_GINT64_FORMAT, v);
}

/* Whether the firing is to be written: cooldown for firings, an open
 * firing for resolutions. Runs under the advisory lock. */
static int ob_should_add(PGconn *conn, const struct alert_firing *f, gint64 now, gboolean *add,
			 struct error *err)
{
	g_autofree char *s_now = ob_int(now), *s_cool = ob_int(f->rule->cooldown);
	const char *group = f->group ? f->group : "";
	const char *p[5] = { f->rule->name, f->domain, group, s_now, s_cool };
	PGresult *res;

	if (f->event == ALERT_EVENT_FIRING) {
		if ((res = ob_exec(conn, q_cooldown, 5, p, err)) == NULL)
			return -1;
		*add = PQntuples(res) == 0;
	} else {
		if ((res = ob_exec(conn, q_last_event, 3, p, err)) == NULL)
			return -1;
		*add = PQntuples(res) == 1 && g_str_equal(PQgetvalue(res, 0, 0), "firing");
	}
	PQclear(res);
	return 0;
}

/* One outbox row per webhook of f's rule, as event. */
static int ob_insert_rows(PGconn *conn, const struct alert_config *c, const struct alert_firing *f,
			  const char *event, gint64 now, struct error *err)
{
	g_autofree char *from = ob_int(f->from), *to = ob_int(f->to), *s_now = ob_int(now);
	g_autofree char *figures = alert_format_generic(f);

	for (guint i = 0; f->rule->notify[i] != NULL; i++) {
		const struct alert_webhook *w = alert_config_webhook(c, f->rule->notify[i]);
		g_autofree char *payload = alert_payload(f, w->format);
		const char *p[10] = { f->rule->name,
				      f->domain,
				      f->group ? f->group : "",
				      event,
				      w->name,
				      from,
				      to,
				      s_now,
				      figures,
				      payload };

		if (ob_exec_clear(conn, q_insert, 10, p, err) < 0)
			return -1;
	}
	return 0;
}

/* f's rows (none when held) and its state. */
static int ob_insert(PGconn *conn, const struct alert_config *c, const struct alert_firing *f,
		     gint64 now, gboolean hold, struct error *err)
{
	g_autofree char *s_now = ob_int(now);
	const char *event = f->event == ALERT_EVENT_RESOLVED ? "resolved" : "firing";
	const char *state[5] = { f->rule->name, f->domain, f->group ? f->group : "", event, s_now };

	if (!hold && ob_insert_rows(conn, c, f, event, now, err) < 0)
		return -1;
	return ob_exec_clear(conn, q_state, 5, state, err);
}

int alert_outbox_add(PGconn *conn, const struct alert_config *c, const struct alert_firing *f,
		     gint64 now, gboolean hold, struct alert_counts *n, struct error *err)
{
	g_autofree char *key =
		g_strdup_printf("%s\n%s\n%s", f->rule->name, f->domain, f->group ? f->group : "");
	const char *p[1] = { key };
	gboolean add = FALSE;

	if (db_exec(conn, "BEGIN", err) < 0)
		return -1;
	if (ob_exec_clear(conn, q_lock, 1, p, err) < 0 ||
	    ob_should_add(conn, f, now, &add, err) < 0 ||
	    (add && ob_insert(conn, c, f, now, hold, err) < 0) || db_exec(conn, "COMMIT", err) < 0)
		goto fail;
	if (!add && f->event == ALERT_EVENT_FIRING)
		n->cooldown++;
	else if (add && hold)
		n->held++;
	else if (add && f->event == ALERT_EVENT_FIRING)
		n->fired++;
	else if (add)
		n->resolved++;
	return 0;
fail:
	db_exec(conn, "ROLLBACK", NULL);
	return -1;
}

int alert_outbox_summary(PGconn *conn, const struct alert_config *c, const struct alert_firing *f,
			 gint64 now, struct error *err)
{
	if (db_exec(conn, "BEGIN", err) < 0)
		return -1;
	if (ob_insert_rows(conn, c, f, "summary", now, err) < 0 || db_exec(conn, "COMMIT", err) < 0)
		goto fail;
	return 0;
fail:
	db_exec(conn, "ROLLBACK", NULL);
	return -1;
}

int alert_outbox_open_domains(PGconn *conn, const struct alert_config *c, char **domains,
			      GPtrArray *out, struct error *err)
{
	g_autofree char *names = domain_names_sql_array(domains);
	g_autoptr(GPtrArray) rules = g_ptr_array_new();
	g_autofree char *rule_names = NULL;
	const char *p[2] = { names, NULL };
	PGresult *res;

	if (names == NULL)
		return 0;
	for (guint i = 0; i < c->rules->len; i++)
		g_ptr_array_add(rules, ((struct alert_rule *)g_ptr_array_index(c->rules, i))->name);
	rule_names = pg_array_of_strings(rules);
	p[1] = rule_names;
	if ((res = ob_exec(conn, q_open_domains, 2, p, err)) == NULL)
		return -1;
	for (int i = 0; i < PQntuples(res); i++)
		g_ptr_array_add(out, g_strdup(PQgetvalue(res, i, 0)));
	PQclear(res);
	return 0;
}

int alert_outbox_open(PGconn *conn, const struct alert_rule *rule, GPtrArray **out,
		      struct error *err)
{
	const char *p[1] = { rule->name };
	PGresult *res = ob_exec(conn, q_open, 1, p, err);

	if (res == NULL)
		return -1;
	*out = g_ptr_array_new_with_free_func(g_free);
	for (int i = 0; i < PQntuples(res); i++) {
		g_ptr_array_add(*out, g_strdup(PQgetvalue(res, i, 0)));
		g_ptr_array_add(*out, g_strdup(PQgetvalue(res, i, 1)));
	}
	PQclear(res);
	return 0;
}

int alert_outbox_cooling(PGconn *conn, const struct alert_rule *rule, gint64 now, char **only,
			 GHashTable **out, struct error *err)
{
	g_autofree char *s_now = ob_int(now), *s_cool = ob_int(rule->cooldown);
	g_autofree char *domains = domain_names_sql_array(only);
	const char *p[4] = { rule->name, s_now, s_cool, domains };
	PGresult *res = ob_exec(conn, q_cooling, 4, p, err);

	if (res == NULL)
		return -1;
	*out = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (int i = 0; i < PQntuples(res); i++)
		g_hash_table_add(*out, g_strdup_printf("%s\n%s", PQgetvalue(res, i, 0),
						       PQgetvalue(res, i, 1)));
	PQclear(res);
	return 0;
}

/* Record the outcome of one attempt on the locked row. */
static int ob_record(PGconn *conn, const struct alert_config *c, const char *id, int attempts,
		     gint64 now, int rc, gboolean retry, const char *why, struct alert_counts *n,
		     struct error *err)
{
	gint64 delay = c->backoff;
	g_autofree char *next = NULL;
	const char *state;

	if (rc == 0) {
		const char *p[1] = { id };

		n->sent++;
		return ob_exec_clear(conn, q_sent, 1, p, err);
	}
	for (int i = 0; i < attempts && delay < MAX_BACKOFF; i++)
		delay *= 2;
	next = ob_int(now + MIN(delay, MAX_BACKOFF));
	state = retry && (guint)attempts + 1 < c->max_attempts ? "pending" : "failed";
	if (g_str_equal(state, "pending"))
		n->retrying++;
	else
		n->failed++;
	const char *p[4] = { id, why, next, state };
	return ob_exec_clear(conn, q_failed, 4, p, err);
}

/* Claim, post and record one row, not for a webhook of skip (an array
 * literal). *done when none is due; when the attempt failed, *failed is
 * the webhook's name (the caller g_free()s it). */
static int ob_deliver_one(PGconn *conn, const struct alert_config *c, gint64 now,
			  const char *domains, const char *skip, gboolean *done, char **failed,
			  struct alert_counts *n, struct error *err)
{
	g_autofree char *s_now = ob_int(now), *why = NULL;
	const char *p[3] = { s_now, domains, skip };
	const struct alert_webhook *w;
	gboolean retry = FALSE;
	PGresult *res = NULL;
	int rc = -1;

	if (db_exec(conn, "BEGIN", err) < 0 || (res = ob_exec(conn, q_claim, 3, p, err)) == NULL)
		goto fail;
	*done = PQntuples(res) == 0;
	if (*done) {
		PQclear(res);
		return db_exec(conn, "COMMIT", err);
	}
	w = alert_config_webhook(c, PQgetvalue(res, 0, 1));
	if (w == NULL) {
		rc = -1;
		why = g_strdup_printf("webhook %s: not configured any more", PQgetvalue(res, 0, 1));
	} else {
		rc = alert_deliver(w, PQgetvalue(res, 0, 2), g_get_real_time() / G_USEC_PER_SEC,
				   &retry, &why);
	}
	if (rc < 0) {
		*failed = g_strdup(PQgetvalue(res, 0, 1));
		log_warning("alert %s to webhook %s for %s: %s", PQgetvalue(res, 0, 0),
			    PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 4), why);
	}
	if (ob_record(conn, c, PQgetvalue(res, 0, 0),
		      (int)g_ascii_strtoll(PQgetvalue(res, 0, 3), NULL, 10), now, rc, retry, why, n,
		      err) < 0 ||
	    db_exec(conn, "COMMIT", err) < 0)
		goto fail;
	PQclear(res);
	return 0;
fail:
	PQclear(res);
	db_exec(conn, "ROLLBACK", NULL);
	return -1;
}

/* On ingest the MTA waits: no new attempt once every webhook has had its
 * timeout, so delivery adds at most the sum of them to ingest, and a slow
 * webhook cannot use up the time of the others. */
static gint64 ob_deadline(const struct alert_config *c)
{
	gint64 sum = 0;

	for (guint i = 0; i < c->webhooks->len; i++)
		sum += ((struct alert_webhook *)c->webhooks->pdata[i])->timeout;
	return g_get_monotonic_time() + sum * G_USEC_PER_SEC;
}

int alert_outbox_deliver(PGconn *conn, const struct alert_config *c, gint64 now, char **only,
			 gboolean once, struct alert_counts *n, struct error *err)
{
	g_autofree char *domains = domain_names_sql_array(only);
	g_autoptr(GPtrArray) given_up = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *skip = pg_array_of_strings(given_up);
	gboolean done = FALSE;
	gint64 deadline = ob_deadline(c);

	while (!done) {
		g_autofree char *failed = NULL;

		if (ob_deliver_one(conn, c, now, domains, skip, &done, &failed, n, err) < 0)
			return -1;
		if (!once)
			continue;
		if (g_get_monotonic_time() >= deadline)
			break;
		/* One webhook failing leaves its other rows to the next pass,
		 * not the other webhooks' rows. */
		if (failed != NULL) {
			g_ptr_array_add(given_up, g_steal_pointer(&failed));
			g_free(skip);
			skip = pg_array_of_strings(given_up);
		}
	}
	return 0;
}

/* $1 rule: when each domain and group was last sent a firing. */
static const char *const q_last_sent =
	"SELECT domain, group_key,"
	" to_char(max(sent_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
	" FROM tlswatch.alerts"
	" WHERE rule = $1 AND event = 'firing' AND state = 'sent' GROUP BY 1, 2";

int alert_outbox_last_sent(PGconn *conn, const struct alert_rule *rule, GHashTable **out,
			   struct error *err)
{
	const char *p[1] = { rule->name };
	PGresult *res = ob_exec(conn, q_last_sent, 1, p, err);

	if (res == NULL)
		return -1;
	*out = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	for (int i = 0; i < PQntuples(res); i++)
		g_hash_table_insert(
			*out,
			g_strdup_printf("%s\n%s", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1)),
			g_strdup(PQgetvalue(res, i, 2)));
	PQclear(res);
	return 0;
}
