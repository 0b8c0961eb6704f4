/*
 * serve.c: `tlswatch serve`, the master process (serve/serve.h). It opens
 * the listeners, starts [serve] workers processes for each kind of
 * listener (LMTP, HTTP, HTTPS) and one for metrics, and starts another
 * when one ends. It never touches the database itself. SIGTERM
 * or SIGINT stop it: the workers finish the message in hand, say 421 to
 * the LMTP sessions they hold and end; after STOP_GRACE seconds the ones
 * left are killed (their clients retry what was not acknowledged). SIGHUP
 * reads the configuration file again: when it is valid, the workers are
 * stopped the same way and new ones start with it (the listeners stay:
 * changing them needs a restart); when it is not, the error is logged and
 * the running configuration stays. It stays in the foreground, as systemd
 * and runit want; there is no daemon mode.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "common/log.h"
#include "ingest/mail.h"
#include "serve/serve.h"

#define STOP_GRACE 30

/* A worker process and what it serves. */
struct serve_slot {
	enum serve_worker_kind kind;
	pid_t pid; /* 0: not running */
	gint64 started;
};

struct serve_master {
	struct config cfg;
	struct serve_config sc;
	struct serve_listeners l;
	GArray *slots; /* struct serve_slot */
};

static volatile sig_atomic_t serve_stop, serve_reload;

static void serve_on_signal(int signo)
{
	if (signo == SIGHUP)
		serve_reload = 1;
	else
		serve_stop = 1;
}

static void serve_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = serve_on_signal; /* the workers inherit it: SIGTERM stops them too */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN); /* a client gone is an error from send, not a death */
	/* Inherited as ignored, the kernel would reap the workers itself and
	 * waitpid could never tell one ended. */
	signal(SIGCHLD, SIG_DFL);
}

static int serve_worker(struct serve_master *m, enum serve_worker_kind kind)
{
	switch (kind) {
	case SERVE_LMTP_WORKER:
		return serve_worker_run(&m->cfg, &m->sc, m->l.lmtp, &serve_stop);
	case SERVE_HTTP_WORKER:
		return serve_http_run(&m->cfg, &m->sc, m->l.http, FALSE, &serve_stop);
	case SERVE_HTTPS_WORKER:
		return serve_http_run(&m->cfg, &m->sc, m->l.https, TRUE, &serve_stop);
	case SERVE_METRICS_WORKER:
		return serve_metrics_run(&m->cfg, &m->sc, m->l.metrics, &serve_stop);
	case SERVE_WORKER_KINDS:
		break;
	}
	return EX_SOFTWARE;
}

/* Start the worker of slot s (pid 0 when fork failed). */
static void serve_spawn(struct serve_master *m, struct serve_slot *s)
{
	pid_t master = getpid(), pid = fork();

	if (pid == 0) {
		/* A master that dies without stopping its workers (SIGKILL, a
		 * crash) stops them all the same, as a SIGTERM: orphans would
		 * keep the listeners, and a new serve could not take them. */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != master)
			_exit(0);
		serve_metrics_worker_started(s->kind);
		_exit(serve_worker(m, s->kind));
	}
	if (pid < 0)
		log_error("cannot start a worker: %s", g_strerror(errno));
	s->pid = MAX(pid, 0);
	s->started = g_get_monotonic_time();
}

static void serve_signal_workers(struct serve_master *m, int signo)
{
	for (guint i = 0; i < m->slots->len; i++) {
		const struct serve_slot *s = &g_array_index(m->slots, struct serve_slot, i);

		if (s->pid > 0)
			kill(s->pid, signo);
	}
}

static gboolean serve_same_strv(char **a, char **b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return g_strv_equal((const char *const *)a, (const char *const *)b);
}

static gboolean serve_same_listeners(const struct serve_config *a, const struct serve_config *b)
{
	return serve_same_strv(a->lmtp, b->lmtp) && g_strcmp0(a->http, b->http) == 0 &&
	       g_strcmp0(a->https, b->https) == 0 && g_strcmp0(a->metrics, b->metrics) == 0;
}

/* SIGHUP: the file again, into m when it is valid; then the workers are
 * told to stop, and serve_supervise starts new ones with it. */
static void serve_reread(struct serve_master *m)
{
	struct config fresh;
	struct serve_config fresh_sc;
	struct error err = ERROR_INIT;
	g_autofree char *path = g_strdup(m->cfg.path);

	serve_reload = 0;
	config_init(&fresh);
	serve_config_init(&fresh_sc);
	if (config_load(&fresh, path, &err) < 0 ||
	    serve_config_load(&fresh_sc, fresh.keyfile, fresh.path, &err) < 0) {
		log_error("SIGHUP: %s: the running configuration stays", err.msg);
		error_clear(&err);
		config_release(&fresh);
		serve_config_release(&fresh_sc);
		return;
	}
	/* The listeners are open already: a file that names others (or an
	 * https without its key) is for a restart, and refused here whole,
	 * not half applied. */
	if (!serve_same_listeners(&fresh_sc, &m->sc) || fresh_sc.workers != m->sc.workers) {
		log_error("SIGHUP: %s: the listeners or [serve] workers changed, which needs a "
			  "restart: the running configuration stays",
			  path);
		config_release(&fresh);
		serve_config_release(&fresh_sc);
		return;
	}
	config_release(&m->cfg);
	serve_config_release(&m->sc);
	m->cfg = fresh;
	m->sc = fresh_sc;
	log_info("SIGHUP: configuration read again from %s; new workers start with it", path);
	serve_signal_workers(m, SIGTERM);
}

/* The slot of worker pid, NULL if none (then it is not ours). */
static struct serve_slot *serve_slot_of(struct serve_master *m, pid_t pid)
{
	for (guint i = 0; i < m->slots->len; i++) {
		if (g_array_index(m->slots, struct serve_slot, i).pid == pid)
			return &g_array_index(m->slots, struct serve_slot, i);
	}
	return NULL;
}

/* Reap the workers that ended (their slots are free again); with
 * restart, start a worker in every free slot, not faster than one a
 * second per slot: a broken configuration or database, or a fork that
 * fails, must not turn into a fork loop. */
static void serve_reap(struct serve_master *m, gboolean restart)
{
	int st = 0;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) != 0) {
		struct serve_slot *s;

		if (pid < 0) {
			if (errno == EINTR)
				continue;
			/* ECHILD: no worker is left, whatever the slots say. */
			for (guint i = 0; i < m->slots->len; i++)
				g_array_index(m->slots, struct serve_slot, i).pid = 0;
			break;
		}
		if ((s = serve_slot_of(m, pid)) == NULL)
			continue;
		s->pid = 0;
		if (restart && (WIFSIGNALED(st) || WEXITSTATUS(st) != 0))
			log_warning("worker %d ended (%s %d): starting another", (int)pid,
				    WIFSIGNALED(st) ? "signal" : "exit",
				    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	}
	for (guint i = 0; restart && i < m->slots->len; i++) {
		struct serve_slot *s = &g_array_index(m->slots, struct serve_slot, i);

		if (s->pid == 0 && g_get_monotonic_time() - s->started >= G_USEC_PER_SEC)
			serve_spawn(m, s);
	}
}

/* Until a stop: restart workers and reread the configuration on SIGHUP,
 * looking five times a second rather than blocking in waitpid, so that a
 * signal arriving just before the wait is never left unseen until a
 * worker ends. */
static void serve_supervise(struct serve_master *m)
{
	while (!serve_stop) {
		if (serve_reload)
			serve_reread(m);
		serve_reap(m, TRUE);
		g_usleep(200 * 1000);
	}
}

static guint serve_running(struct serve_master *m)
{
	guint n = 0;

	for (guint i = 0; i < m->slots->len; i++)
		n += g_array_index(m->slots, struct serve_slot, i).pid > 0;
	return n;
}

/* Pass the stop on and wait for the workers, STOP_GRACE seconds at most;
 * only workers not reaped yet are signalled (a reaped pid may be
 * another process's by now). */
static void serve_stop_workers(struct serve_master *m)
{
	gint64 deadline = g_get_monotonic_time() + STOP_GRACE * G_USEC_PER_SEC;

	serve_signal_workers(m, SIGTERM);
	for (serve_reap(m, FALSE); serve_running(m) > 0; serve_reap(m, FALSE)) {
		if (g_get_monotonic_time() > deadline) {
			log_warning("%u workers still busy after %d s: killed", serve_running(m),
				    STOP_GRACE);
			serve_signal_workers(m, SIGKILL);
			deadline = G_MAXINT64;
		}
		g_usleep(50 * 1000);
	}
}

/* n slots of kind, when that listener is configured. */
static void serve_add_slots(struct serve_master *m, enum serve_worker_kind kind, guint n,
			    gboolean wanted, GString *where, const char *what)
{
	struct serve_slot s = { .kind = kind };

	if (!wanted)
		return;
	for (guint i = 0; i < n; i++)
		g_array_append_val(m->slots, s);
	g_string_append_printf(where, "%s%s", where->len ? ", " : "", what);
}

int cmd_serve(int argc, char **argv)
{
	struct serve_master m = { 0 };
	struct error err = ERROR_INIT;
	g_autoptr(GString) where = g_string_new(NULL);
	g_autofree char *lmtp = NULL, *http = NULL, *https = NULL, *metrics = NULL;
	int status;

	status = cmd_setup(
		&argc, &argv, "",
		"Receive reports over LMTP (RFC 2033) and HTTPS (RFC 8460) and store them "
		"as ingest does.",
		NULL, FALSE, &m.cfg);
	if (status != 0)
		return status;
	serve_config_init(&m.sc);
	m.slots = g_array_new(FALSE, TRUE, sizeof(struct serve_slot));
	if (argc > 1) {
		error_set(&err, ERR_USAGE, "serve takes no argument (see tlswatch serve --help)");
		goto fail;
	}
	if (serve_config_load(&m.sc, m.cfg.keyfile, m.cfg.path, &err) < 0 ||
	    serve_listen(&m.sc, &m.l, &err) < 0 || serve_metrics_init(&err) < 0 ||
	    serve_rate_init(&err) < 0)
		goto fail;
	mail_library_init();
	serve_signals();
	if (m.sc.lmtp != NULL) {
		g_autofree char *list = g_strjoinv(", ", m.sc.lmtp);

		lmtp = g_strdup_printf("LMTP on %s", list);
	}
	http = g_strdup_printf("HTTP on %s", m.sc.http ? m.sc.http : "");
	https = g_strdup_printf("HTTPS on %s", m.sc.https ? m.sc.https : "");
	metrics = g_strdup_printf("metrics on %s", m.sc.metrics ? m.sc.metrics : "");
	serve_add_slots(&m, SERVE_LMTP_WORKER, m.sc.workers, m.l.lmtp->len > 0, where, lmtp);
	serve_add_slots(&m, SERVE_HTTP_WORKER, m.sc.workers, m.l.http != NULL, where, http);
	serve_add_slots(&m, SERVE_HTTPS_WORKER, m.sc.workers, m.l.https != NULL, where, https);
	serve_add_slots(&m, SERVE_METRICS_WORKER, 1, m.l.metrics != NULL, where, metrics);
	for (guint i = 0; i < m.slots->len; i++)
		serve_spawn(&m, &g_array_index(m.slots, struct serve_slot, i));
	log_info("serving %s; %u workers each", where->str, m.sc.workers);
	serve_supervise(&m);
	serve_stop_workers(&m);
	serve_unlisten(&m.sc);
	log_info("stopped");
	status = EX_OK;
	goto out;
fail:
	status = cmd_fail(&err, FALSE);
out:
	serve_listeners_release(&m.l);
	g_array_unref(m.slots);
	serve_config_release(&m.sc);
	config_release(&m.cfg);
	return status;
}
