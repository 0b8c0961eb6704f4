/*
 * contain.c: parsing in a child process under limits (contain.h).
 *
 * The child and the parent talk over a socket pair in frames: a job is an
 * 8-byte length and its bytes; an answer is a tag, a length and the bytes.
 * Both ends are this program, so lengths are in host order. A frame goes
 * out in one write where the socket takes it, and a head is read in one:
 * each piece written apart woke the other end once more, per message.
 * The child limits its own memory and core file, then answers jobs until
 * end of file; it ends with _exit, never exit: stdio buffers and the
 * database connection it inherited are the parent's. It leaves after an
 * error (its heap may be in any state) and after a job that left malloc
 * holding more than half its memory budget, saying so in the answer's
 * tag, so that one message's leftovers never count against the next. The parent
 * reads each answer under the deadline, kills a child that outlives it,
 * and turns every other way a child can end (a signal, an allocation GLib
 * could not make) into a reason.
 */
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ingest/contain.h"

/* The tags of an answer. */
#define ANSWER_RESULT 'R' /* a result; the child waits for the next job */
#define ANSWER_LAST   'L' /* a result; the child exits now */
#define ANSWER_ERROR  'E' /* why the job failed; the child exits now */

/* The child's exit statuses besides 0: none that a library or a
 * sanitizer exits with on its own (ASan's is 1). */
#define CONTAIN_EXIT_FAILED 111 /* the work returned an error */
#define CONTAIN_EXIT_MEMORY 112 /* ... an ERR_TEMP: memory ran out */
#define CONTAIN_EXIT_FATAL  113 /* GLib gave up (g_error: "failed to allocate") */
#define CONTAIN_EXIT_IO	    114 /* the socket failed */

struct contain {
	struct contain_limits limits;
	contain_fn fn;
	gpointer data;
	pid_t pid; /* the child, 0 when there is none */
	int fd;	   /* our end of the socket pair, -1 when there is no child */
};

/* ---- both ends ---------------------------------------------------------- */

enum io { IO_DONE, IO_LATE, IO_GONE };

/* Wait until fd is ready for events, or deadline (0: none) passes. */
static enum io io_wait(int fd, short events, gint64 deadline)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = events };
		int timeout = -1;

		if (deadline > 0) {
			gint64 left = deadline - g_get_monotonic_time();

			if (left <= 0)
				return IO_LATE;
			timeout = (int)MIN(left / 1000 + 1, G_MAXINT);
		}
		if (poll(&pfd, 1, timeout) > 0)
			return IO_DONE; /* ready, or closed: the read or send says */
	}
}

/* Send the n pieces of iov as one frame, in as few writes as the socket
 * takes (one, for a small frame: the other end wakes once, not once per
 * piece), by the deadline. iov is consumed. */
static enum io io_send_frame(int fd, struct iovec *iov, int n, gint64 deadline)
{
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = (size_t)n };

	while (msg.msg_iovlen > 0) {
		enum io w = io_wait(fd, POLLOUT, deadline);
		ssize_t sent;

		if (w != IO_DONE)
			return w;
		sent = sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (sent < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (sent <= 0)
			return IO_GONE;
		while (msg.msg_iovlen > 0 && (size_t)sent >= msg.msg_iov->iov_len) {
			sent -= (ssize_t)msg.msg_iov->iov_len;
			msg.msg_iov++;
			msg.msg_iovlen--;
		}
		if (msg.msg_iovlen > 0) {
			msg.msg_iov->iov_base = (char *)msg.msg_iov->iov_base + sent;
			msg.msg_iov->iov_len -= (size_t)sent;
		}
	}
	return IO_DONE;
}

/* Send len bytes of buf, or read them into it, by the deadline. */
static enum io io_all(int fd, gboolean sending, void *buf, size_t len, gint64 deadline)
{
	char *p = buf;

	while (len > 0) {
		enum io w = io_wait(fd, sending ? POLLOUT : POLLIN, deadline);
		ssize_t n;

		if (w != IO_DONE)
			return w;
		n = sending ? send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT)
			    : recv(fd, p, len, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return IO_GONE;
		p += n;
		len -= (size_t)n;
	}
	return IO_DONE;
}

/* ---- the child --------------------------------------------------------- */

static int child_fd = -1;

static void child_answer(char tag, const void *buf, guint64 len)
{
	struct iovec iov[3] = {
		{ &tag, 1 },
		{ &len, sizeof len },
		{ (void *)buf, len },
	};

	if (io_send_frame(child_fd, iov, 3, 0) != IO_DONE)
		_exit(CONTAIN_EXIT_IO);
}

/* A fatal GLib message (g_error, as when g_malloc cannot allocate under
 * the memory limit) becomes the answer instead of an abort; other
 * messages go where they always go. */
static GLogWriterOutput child_log_writer(GLogLevelFlags level, const GLogField *fields,
					 gsize n_fields, gpointer data)
{
	if (!(level & G_LOG_LEVEL_ERROR))
		return g_log_writer_default(level, fields, n_fields, data);
	for (gsize i = 0; i < n_fields; i++) {
		if (strcmp(fields[i].key, "MESSAGE") != 0 || fields[i].value == NULL)
			continue;
		child_answer(ANSWER_ERROR, fields[i].value,
			     fields[i].length < 0 ? strlen(fields[i].value)
						  : (guint64)fields[i].length);
		break;
	}
	_exit(CONTAIN_EXIT_FATAL);
}

#ifndef __SANITIZE_ADDRESS__
/* The private writable memory of this process (VmData: what RLIMIT_DATA
 * counts); 0 when /proc cannot say. */
static guint64 data_now(void)
{
	g_autofree char *status = NULL;
	const char *line;
	guint64 kib = 0;

	if (!g_file_get_contents("/proc/self/status", &status, NULL, NULL))
		return 0;
	line = strstr(status, "\nVmData:");
	if (line != NULL)
		kib = g_ascii_strtoull(line + strlen("\nVmData:"), NULL, 10);
	return kib * 1024;
}
#endif

/* What malloc holds from the system (its arena and its mapped blocks):
 * what a job left behind, if it grew. Cheaper than /proc, per job. */
static size_t child_heap(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.arena + mi.hblkhd;
}

/* The sockets the parent holds (a database connection, a listener, the
 * client of tlswatch serve) are none of the parser's business, and a
 * client whose connection this process still held would not see it close
 * when the parent closes it. Only sockets: GLib's own descriptors
 * (eventfd, pipes) stay as they are. */
static void child_close_sockets(int keep)
{
	struct rlimit files;
	struct stat st;

	if (getrlimit(RLIMIT_NOFILE, &files) < 0)
		return;
	for (int fd = 3; fd < (int)MIN(files.rlim_cur, 65536); fd++) {
		if (fd != keep && fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode))
			close(fd);
	}
}

static G_GNUC_NORETURN void child_main(const struct contain *c, int fd)
{
	struct rlimit no_core = { 0, 0 };
	size_t heap = child_heap();

	child_fd = fd;
	child_close_sockets(fd);
	setrlimit(RLIMIT_CORE, &no_core);
	/* ASan maps its heap up front and keeps freed memory in quarantine:
	 * under it RLIMIT_DATA would fail ordinary allocations, not bound a
	 * message. A sanitizer build checks the code, not the budget. */
#ifndef __SANITIZE_ADDRESS__
	if (c->limits.max_memory > 0) {
		guint64 limit = data_now() + c->limits.max_memory;
		struct rlimit memory = { limit, limit };

		setrlimit(RLIMIT_DATA, &memory);
	}
#endif
	g_log_set_writer_func(child_log_writer, NULL, NULL);
	for (;;) {
		struct error err = ERROR_INIT;
		g_autoptr(GBytes) job = NULL;
		g_autoptr(GBytes) result = NULL;
		const void *bytes;
		gsize len = 0;
		guint64 size;
		char *buf;

		if (io_all(fd, FALSE, &size, sizeof size, 0) != IO_DONE)
			_exit(0); /* end of file: the parent is done */
		buf = g_malloc(size);
		if (io_all(fd, FALSE, buf, size, 0) != IO_DONE)
			_exit(CONTAIN_EXIT_IO);
		job = g_bytes_new_take(buf, size);
		if (c->fn(c->data, job, &result, &err) < 0) {
			child_answer(ANSWER_ERROR, err.msg, strlen(err.msg));
			_exit(err.cls == ERR_TEMP ? CONTAIN_EXIT_MEMORY : CONTAIN_EXIT_FAILED);
		}
		g_clear_pointer(&job, g_bytes_unref);
		bytes = g_bytes_get_data(result, &len);
		if (child_heap() > heap + c->limits.max_memory / 2) {
			child_answer(ANSWER_LAST, bytes, len);
			_exit(0);
		}
		child_answer(ANSWER_RESULT, bytes, len);
	}
}

/* ---- the parent -------------------------------------------------------- */

struct contain *contain_new(const struct contain_limits *limits, contain_fn fn, gpointer data)
{
	struct contain *c = g_new0(struct contain, 1);

	c->limits = *limits;
	c->fn = fn;
	c->data = data;
	c->fd = -1;
	return c;
}

int contain_start(struct contain *c, struct error *err)
{
	int sv[2];
	pid_t pid;

	if (c->pid > 0)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return error_set(err, ERR_TEMP, "cannot start the parser: socketpair: %s",
				 g_strerror(errno));
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		child_main(c, sv[1]);
	}
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return error_set(err, ERR_TEMP, "cannot start the parser: fork: %s",
				 g_strerror(errno));
	}
	c->pid = pid;
	c->fd = sv[0];
	return 0;
}

/* Wait for the child to end (killing it first with kill), and forget it.
 * Returns its wait status; *ru its resource use. */
static int contain_reap(struct contain *c, gboolean kill_it, struct rusage *ru)
{
	int status = 0;

	memset(ru, 0, sizeof *ru);
	if (kill_it)
		kill(c->pid, SIGKILL);
	close(c->fd);
	while (wait4(c->pid, &status, 0, ru) < 0 && errno == EINTR)
		;
	c->pid = 0;
	c->fd = -1;
	return status;
}

/* The memory budget as the configuration says it, in MiB when it is a
 * whole number of them; not g_format_size, whose non-breaking space a log
 * reader cannot grep for. Returns a new string. */
static char *memory_budget(guint64 bytes)
{
	if (bytes % (1024 * 1024) == 0)
		return g_strdup_printf("%" G_GUINT64_FORMAT " MiB", bytes >> 20);
	return g_strdup_printf("%" G_GUINT64_FORMAT " bytes", bytes);
}

/* Why a child that gave no result failed, in a postmaster's words; said:
 * its error answer, or NULL. Returns a new string. */
static char *contain_why(const struct contain_limits *limits, int status, const struct rusage *ru,
			 const char *said)
{
	g_autofree char *memory = memory_budget(limits->max_memory);

	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);

		/* Not every allocator failure is a g_error (GSlice aborts with
		 * its own line): a child that dies at the limit ran out. */
		if ((guint64)ru->ru_maxrss * 1024 >= limits->max_memory / 4 * 3)
			return g_strdup_printf("parsing it needs more memory than max-parse-memory "
					       "(%s): the parser died of signal %d (%s) at %ld MiB",
					       memory, sig, g_strsignal(sig), ru->ru_maxrss / 1024);
		return g_strdup_printf(
			"the parser died of signal %d (%s%s), at %ld MiB: a bug "
			"in a MIME, JSON or compression library this message "
			"reaches",
			sig, g_strsignal(sig),
			sig == SIGSEGV ? ", or nesting deep enough to overflow the stack" : "",
			ru->ru_maxrss / 1024);
	}
	switch (WIFEXITED(status) ? WEXITSTATUS(status) : -1) {
	case CONTAIN_EXIT_MEMORY:
	case CONTAIN_EXIT_FATAL:
		return g_strdup_printf(
			"parsing it needs more memory than max-parse-memory (%s): %s", memory,
			said ? said : "out of memory");
	case CONTAIN_EXIT_FAILED:
		if (said != NULL)
			return g_strdup(said);
		/* fall through */
	default:
		return g_strdup_printf("the parser ended with status %d and no answer",
				       WIFEXITED(status) ? WEXITSTATUS(status) : status);
	}
}

int contain_run(struct contain *c, GBytes *job, GBytes **result, char **why, struct error *err)
{
	const struct contain_limits *limits = &c->limits;
	gint64 deadline = limits->max_seconds > 0
				  ? g_get_monotonic_time() + limits->max_seconds * G_USEC_PER_SEC
				  : 0;
	gsize len = 0;
	const void *bytes = g_bytes_get_data(job, &len);
	guint64 size = len;
	struct iovec iov[2] = { { &size, sizeof size }, { (void *)bytes, len } };
	char head[1 + sizeof size]; /* an answer's tag and length */
	g_autofree char *answer = NULL;
	struct rusage ru;
	enum io io;
	char tag = 0;
	int status;

	*result = NULL;
	*why = NULL;
	if (contain_start(c, err) < 0)
		return -1;
	io = io_send_frame(c->fd, iov, 2, deadline);
	if (io == IO_DONE)
		io = io_all(c->fd, FALSE, head, sizeof head, deadline);
	if (io == IO_DONE) {
		tag = head[0];
		memcpy(&size, head + 1, sizeof size);
	}
	if (io == IO_DONE && size > limits->max_result) {
		contain_reap(c, TRUE, &ru);
		*why = g_strdup_printf("the parser's answer is over %" G_GUINT64_FORMAT " bytes",
				       limits->max_result);
		return 0;
	}
	if (io == IO_DONE) {
		answer = g_malloc(size + 1);
		answer[size] = '\0';
		io = io_all(c->fd, FALSE, answer, size, deadline);
	}
	if (io == IO_LATE) {
		contain_reap(c, TRUE, &ru);
		*why = g_strdup_printf("parsing it took longer than max-processing-time (%u s)",
				       limits->max_seconds);
		return 0;
	}
	if (io == IO_DONE && (tag == ANSWER_RESULT || tag == ANSWER_LAST)) {
		*result = g_bytes_new_take(g_steal_pointer(&answer), size);
		if (tag == ANSWER_LAST)
			contain_reap(c, FALSE, &ru);
		return 0;
	}
	/* An error answer, or the child gone without one: it has exited. */
	status = contain_reap(c, FALSE, &ru);
	*why = contain_why(limits, status, &ru,
			   io == IO_DONE && tag == ANSWER_ERROR ? answer : NULL);
	return 0;
}

void contain_free(struct contain *c)
{
	struct rusage ru;

	if (c == NULL)
		return;
	if (c->pid > 0)
		contain_reap(c, FALSE, &ru);
	g_free(c);
}
