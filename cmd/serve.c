/*
 * serve.c: `tlswatch serve`, the master process (serve/serve.h). It opens
 * the listeners, starts [serve] workers processes and starts another when
 * one ends. SIGTERM or SIGINT stop it: the workers finish the message in
 * hand, say 421 to the sessions they hold and end; after STOP_GRACE
 * seconds the ones left are killed (their clients retry what was not
 * acknowledged). SIGHUP reads the configuration file again: when it is
 * valid, the workers are stopped the same way and new ones start with it
 * (the listeners stay: changing [serve] lmtp needs a restart); when it is
 * not, the error is logged and the running configuration stays. It stays
 * in the foreground, as systemd and runit want; there is no daemon mode.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "common/log.h"
#include "ingest/mail.h"
#include "serve/serve.h"

#define STOP_GRACE 30

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
}

/* A worker, or -1 when fork failed. */
static pid_t serve_spawn(const struct config *cfg, const struct serve_config *sc,
			 GPtrArray *listeners)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(serve_worker_run(cfg, sc, listeners, &serve_stop));
	if (pid < 0)
		log_error("cannot start a worker: %s", g_strerror(errno));
	return pid;
}

/* SIGHUP: the file again, into cfg and sc when it is valid; then the
 * workers are told to stop, and serve_supervise starts new ones with it. */
static void serve_reread(struct config *cfg, struct serve_config *sc, const pid_t *pids)
{
	struct config fresh;
	struct serve_config fresh_sc;
	struct error err = ERROR_INIT;
	g_autofree char *path = g_strdup(cfg->path);

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
	if (!g_strv_equal((const char *const *)fresh_sc.lmtp, (const char *const *)sc->lmtp))
		log_warning(
			"SIGHUP: [serve] lmtp changed: the listeners change only with a restart");
	if (fresh_sc.workers != sc->workers)
		log_warning(
			"SIGHUP: [serve] workers changed: the number changes only with a restart");
	config_release(cfg);
	*cfg = fresh;
	sc->idle_timeout = fresh_sc.idle_timeout;
	serve_config_release(&fresh_sc);
	log_info("SIGHUP: configuration read again from %s; new workers start with it", path);
	for (guint i = 0; i < sc->workers; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGTERM);
}

/* Until a stop: start another worker when one ends (not faster than one
 * a second when they keep dying at once: a broken configuration or
 * database must not turn into a fork loop). It looks five times a second
 * rather than blocking in waitpid, so that a signal arriving just before
 * the wait is never left unseen until a worker ends. */
static void serve_supervise(struct config *cfg, struct serve_config *sc, GPtrArray *listeners,
			    pid_t *pids, gint64 *started)
{
	while (!serve_stop) {
		int st = 0;
		pid_t pid;
		guint i;

		if (serve_reload)
			serve_reread(cfg, sc, pids);
		pid = waitpid(-1, &st, WNOHANG);
		if (pid == 0 || (pid < 0 && errno == EINTR)) {
			g_usleep(200 * 1000);
			continue;
		}
		if (pid < 0)
			break;
		for (i = 0; i < sc->workers && pids[i] != pid; i++)
			;
		if (i == sc->workers)
			continue;
		pids[i] = 0;
		if (serve_stop)
			continue;
		if (WIFSIGNALED(st) || WEXITSTATUS(st) != 0)
			log_warning("worker %d ended (%s %d): starting another", (int)pid,
				    WIFSIGNALED(st) ? "signal" : "exit",
				    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
		if (g_get_monotonic_time() - started[i] < G_USEC_PER_SEC)
			sleep(1);
		started[i] = g_get_monotonic_time();
		pids[i] = serve_spawn(cfg, sc, listeners);
	}
}

/* Pass the stop on and wait for the workers, STOP_GRACE seconds at most. */
static void serve_stop_workers(const struct serve_config *sc, pid_t *pids)
{
	gint64 deadline = g_get_monotonic_time() + STOP_GRACE * G_USEC_PER_SEC;
	guint left = 0;

	for (guint i = 0; i < sc->workers; i++) {
		if (pids[i] > 0 && kill(pids[i], SIGTERM) == 0)
			left++;
	}
	while (left > 0) {
		pid_t pid = waitpid(-1, NULL, WNOHANG);

		if (pid > 0) {
			left--;
			continue;
		}
		if (pid < 0 && errno != EINTR)
			break;
		if (g_get_monotonic_time() > deadline) {
			log_warning("%u workers still busy after %d s: killed", left, STOP_GRACE);
			for (guint i = 0; i < sc->workers; i++)
				if (pids[i] > 0)
					kill(pids[i], SIGKILL);
			while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
				;
			break;
		}
		g_usleep(50 * 1000);
	}
}

int cmd_serve(int argc, char **argv)
{
	struct config cfg;
	struct serve_config sc;
	struct error err = ERROR_INIT;
	g_autoptr(GPtrArray) listeners = NULL;
	g_autofree pid_t *pids = NULL;
	g_autofree gint64 *started = NULL;
	g_autofree char *where = NULL;
	int status;

	status = cmd_setup(&argc, &argv, "",
			   "Receive reports over LMTP (RFC 2033) and store them as ingest does.",
			   NULL, FALSE, &cfg);
	if (status != 0)
		return status;
	serve_config_init(&sc);
	if (argc > 1) {
		error_set(&err, ERR_USAGE, "serve takes no argument (see tlswatch serve --help)");
		goto fail;
	}
	if (serve_config_load(&sc, cfg.keyfile, cfg.path, &err) < 0 ||
	    serve_listen(&sc, &listeners, &err) < 0)
		goto fail;
	mail_library_init();
	serve_signals();
	pids = g_new0(pid_t, sc.workers);
	started = g_new0(gint64, sc.workers);
	for (guint i = 0; i < sc.workers; i++) {
		started[i] = g_get_monotonic_time();
		pids[i] = serve_spawn(&cfg, &sc, listeners);
	}
	where = g_strjoinv(", ", sc.lmtp);
	log_info("serving LMTP on %s, %u workers", where, sc.workers);
	serve_supervise(&cfg, &sc, listeners, pids, started);
	serve_stop_workers(&sc, pids);
	serve_unlisten(&sc);
	log_info("stopped");
	serve_config_release(&sc);
	config_release(&cfg);
	return EX_OK;
fail:
	status = cmd_fail(&err, FALSE);
	serve_config_release(&sc);
	config_release(&cfg);
	return status;
}
