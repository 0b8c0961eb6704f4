/*
 * metrics.c: the metrics worker of `tlswatch serve`: GET /metrics
 * (Prometheus text format 0.0.4) and GET /healthz on [serve] metrics. It
 * is a process of its own, started and restarted by the master like the
 * receivers, so that the master never waits on the database. It keeps one
 * connection, with a statement timeout, for the health check and the
 * figures the database holds (gauges.c); the counters come from the
 * mapping the workers share (counters.c).
 */
#include <string.h>

#include <libpq-fe.h>

#include "common/db.h"
#include "common/log.h"
#include "serve/serve.h"

#define METRICS_CONNECT_TIMEOUT	  "2"
#define METRICS_STATEMENT_TIMEOUT "SET statement_timeout = '5s'"

struct metrics_worker {
	const struct config *cfg;
	const struct serve_config *sc;
	PGconn *conn; /* NULL until the first scrape, and after a failure */
};

/* The kept connection, or a new one when the server answers a ping
 * within METRICS_CONNECT_TIMEOUT seconds; NULL when it does not. */
static PGconn *metrics_connection(struct metrics_worker *w)
{
	const char *const keys[] = { "dbname", "connect_timeout", NULL };
	const char *const values[] = { w->cfg->conninfo ? w->cfg->conninfo : "",
				       METRICS_CONNECT_TIMEOUT, NULL };
	struct error err = ERROR_INIT;

	if (w->conn != NULL)
		return w->conn;
	if (PQpingParams(keys, values, 1) != PQPING_OK)
		return NULL;
	w->conn = db_connect(w->cfg->conninfo, &err);
	if (w->conn == NULL || db_exec(w->conn, METRICS_STATEMENT_TIMEOUT, &err) < 0)
		goto fail;
	return w->conn;
fail:
	log_warning("metrics: %s", err.msg);
	error_clear(&err);
	g_clear_pointer(&w->conn, PQfinish);
	return NULL;
}

/* Whether the database answers a query now: on the kept connection, or
 * on a new one when that one has gone with a restarted server. */
static gboolean metrics_database_up(struct metrics_worker *w)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		PGconn *conn = metrics_connection(w);
		PGresult *res;
		gboolean up;

		if (conn == NULL)
			return FALSE;
		res = PQexec(conn, "SELECT 1");
		up = PQresultStatus(res) == PGRES_TUPLES_OK;
		PQclear(res);
		if (up)
			return TRUE;
		g_clear_pointer(&w->conn, PQfinish);
	}
	return FALSE;
}

/* The text of /metrics; the caller g_free()s it. The database's figures
 * are left out when it is down or they cannot be read (logged). */
static char *metrics_text(struct metrics_worker *w)
{
	GString *t = g_string_new(NULL);
	gboolean up = metrics_database_up(w);
	struct error err = ERROR_INIT;
	g_autofree char *gauges = NULL;

	serve_metrics_counters_text(t);
	g_string_append_printf(t,
			       "# HELP tlswatch_database_up Whether PostgreSQL answers a query.\n"
			       "# TYPE tlswatch_database_up gauge\n"
			       "tlswatch_database_up %d\n",
			       up ? 1 : 0);
	if (!up)
		return g_string_free(t, FALSE);
	gauges = serve_gauges_text(w->conn, w->sc->metrics_domains, &err);
	if (gauges == NULL) {
		log_warning("metrics: %s", err.msg);
		error_clear(&err);
		g_clear_pointer(&w->conn, PQfinish);
	} else {
		g_string_append(t, gauges);
	}
	return g_string_free(t, FALSE);
}

static enum MHD_Result metrics_reply(struct MHD_Connection *c, unsigned int code, const char *type,
				     char *body)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result rc;

	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	rc = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result metrics_handle(void *cls, struct MHD_Connection *c, const char *url,
				      const char *method, const char *version,
				      const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct metrics_worker *w = cls;
	gboolean up;

	(void)version;
	(void)upload_data;
	(void)upload_size;
	(void)con_cls;
	if (!g_str_equal(method, MHD_HTTP_METHOD_GET))
		return metrics_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
				     g_strdup("GET /metrics or /healthz\n"));
	if (g_str_equal(url, "/metrics"))
		return metrics_reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
				     metrics_text(w));
	if (!g_str_equal(url, "/healthz"))
		return metrics_reply(c, MHD_HTTP_NOT_FOUND, "text/plain",
				     g_strdup("GET /metrics or /healthz\n"));
	up = metrics_database_up(w);
	return metrics_reply(c, up ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain",
			     g_strdup(up ? "ok\n" : "database not reachable\n"));
}

int serve_metrics_run(const struct config *cfg, const struct serve_config *sc, GSocket *listener,
		      volatile sig_atomic_t *stop)
{
	struct metrics_worker w = { .cfg = cfg, .sc = sc };
	struct MHD_OptionItem opts[] = {
		{ MHD_OPTION_CONNECTION_TIMEOUT, 10, NULL },
		{ MHD_OPTION_CONNECTION_LIMIT, 16, NULL },
		{ MHD_OPTION_END, 0, NULL },
	};
	struct MHD_Daemon *d = serve_mhd_start(listener, MHD_NO_FLAG, metrics_handle, &w, opts,
					       "metrics endpoint");

	if (d == NULL)
		return 75;
	serve_mhd_run(d, NULL, stop);
	g_clear_pointer(&w.conn, PQfinish);
	return 0;
}
