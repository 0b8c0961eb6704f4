/*
 * mhd.c: the libmicrohttpd daemons of serve's HTTP workers (http.c) and
 * of its metrics worker (metrics.c): each on a listener the master
 * opened, run from the worker's own loop (MHD_run_wait), single-threaded
 * like the LMTP workers, so that a parse child is forked safely.
 */
#include <errno.h>
#include <unistd.h>

#include "common/log.h"
#include "serve/serve.h"

struct MHD_Daemon *serve_mhd_start(GSocket *listener, unsigned int flags,
				   MHD_AccessHandlerCallback handler, void *cls,
				   struct MHD_OptionItem *options, const char *what)
{
	/* A copy: MHD_stop_daemon closes it, the GSocket its own. */
	int fd = dup(g_socket_get_fd(listener));
	struct MHD_Daemon *d;

	/* Without its copy of the listener, libmicrohttpd would open a socket
	 * of its own on a random port. */
	if (fd < 0) {
		log_error("cannot start the %s: dup: %s", what, g_strerror(errno));
		return NULL;
	}
	d = MHD_start_daemon(flags, 0, NULL, NULL, handler, cls, MHD_OPTION_LISTEN_SOCKET, fd,
			     MHD_OPTION_ARRAY, options, MHD_OPTION_END);
	/* On failure the copy is left open (whether libmicrohttpd closed it is
	 * not documented); the worker ends. */
	if (d == NULL)
		log_error("cannot start the %s (libmicrohttpd refused its options)", what);
	return d;
}

void serve_mhd_run(struct MHD_Daemon *d, struct serve_ingest *si, volatile sig_atomic_t *stop)
{
	while (!*stop) {
		if (MHD_run_wait(d, 1000) == MHD_NO)
			g_usleep(100 * 1000); /* out of descriptors, say: no busy loop */
		if (si != NULL)
			serve_alert_flush(si, FALSE);
	}
	MHD_stop_daemon(d);
	if (si != NULL)
		serve_alert_flush(si, TRUE);
}
