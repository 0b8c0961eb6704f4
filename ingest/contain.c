/*
 * contain.c: one parse in a child process under limits (contain.h).
 *
 * The child inherits the message by fork (copy-on-write, nothing to send
 * it), limits its own memory and core file, runs the work and writes one
 * tagged answer to a pipe: 'R' and the result, or 'E' and why not. It
 * ends with _exit, never exit: the parent's stdio buffers and database
 * connection are the parent's. The parent reads the answer under the
 * deadline, kills a child that outlives it, and turns every other way a
 * child can end (a signal, an allocation GLib could not make) into a
 * reason.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib-unix.h>

#include "ingest/contain.h"

/* The child's exit statuses besides 0. */
#define CONTAIN_EXIT_FAILED 1 /* the work returned an error */
#define CONTAIN_EXIT_MEMORY 2 /* ... an ERR_TEMP: memory ran out */
#define CONTAIN_EXIT_FATAL  3 /* GLib gave up (g_error: "failed to allocate") */

static int contain_fd = -1; /* the child's end of the pipe */

static void write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

static void contain_answer(char tag, const void *buf, size_t len)
{
	write_all(contain_fd, &tag, 1);
	write_all(contain_fd, buf, len);
}

/* In the child, a fatal GLib message (g_error, as when g_malloc cannot
 * allocate under the memory limit) becomes the answer instead of an
 * abort; other messages go where they always go. */
static GLogWriterOutput contain_log_writer(GLogLevelFlags level, const GLogField *fields,
					   gsize n_fields, gpointer data)
{
	if (!(level & G_LOG_LEVEL_ERROR))
		return g_log_writer_default(level, fields, n_fields, data);
	for (gsize i = 0; i < n_fields; i++) {
		if (strcmp(fields[i].key, "MESSAGE") != 0 || fields[i].value == NULL)
			continue;
		contain_answer('E', fields[i].value,
			       fields[i].length < 0 ? strlen(fields[i].value)
						    : (size_t)fields[i].length);
		break;
	}
	_exit(CONTAIN_EXIT_FATAL);
}

/* The private writable memory the child starts with (VmData: what
 * RLIMIT_DATA counts), so that the limit is on what it adds. 0 when
 * /proc cannot say. */
static guint64 contain_data_now(void)
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

static G_GNUC_NORETURN void contain_child(int fd, const struct contain_limits *limits,
					  contain_fn fn, gpointer data)
{
	struct rlimit no_core = { 0, 0 };
	guint64 data_limit = contain_data_now() + limits->max_memory;
	struct rlimit memory = { data_limit, data_limit };
	struct error err = ERROR_INIT;
	GBytes *result = NULL;
	gsize len = 0;
	const void *bytes;

	contain_fd = fd;
	setrlimit(RLIMIT_CORE, &no_core);
	if (limits->max_memory > 0)
		setrlimit(RLIMIT_DATA, &memory);
	g_log_set_writer_func(contain_log_writer, NULL, NULL);
	if (fn(data, &result, &err) < 0) {
		contain_answer('E', err.msg, strlen(err.msg));
		_exit(err.cls == ERR_TEMP ? CONTAIN_EXIT_MEMORY : CONTAIN_EXIT_FAILED);
	}
	bytes = g_bytes_get_data(result, &len);
	contain_answer('R', bytes, len);
	_exit(0);
}

enum contain_read { READ_DONE, READ_LATE, READ_TOO_LONG };

/* Read the child's answer into answer until end of file, the deadline or
 * max_result bytes, whichever comes first. */
static enum contain_read contain_read(int fd, const struct contain_limits *limits,
				      GByteArray *answer)
{
	gint64 deadline = limits->max_seconds > 0
				  ? g_get_monotonic_time() + limits->max_seconds * G_USEC_PER_SEC
				  : 0;
	char chunk[65536];

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int timeout = -1;
		ssize_t n;

		if (deadline > 0) {
			gint64 left = deadline - g_get_monotonic_time();

			if (left <= 0)
				return READ_LATE;
			timeout = (int)MIN(left / 1000 + 1, G_MAXINT);
		}
		if (poll(&pfd, 1, timeout) <= 0)
			continue; /* EINTR or the timeout: the deadline decides */
		n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return READ_DONE;
		if (answer->len + (guint64)n > limits->max_result + 1)
			return READ_TOO_LONG;
		g_byte_array_append(answer, (const guint8 *)chunk, (guint)n);
	}
}

/* Why a child that gave no result failed, in a postmaster's words.
 * Returns a new string. */
static char *contain_why(const struct contain_limits *limits, int status, const struct rusage *ru,
			 const GByteArray *answer)
{
	/* In MiB as the configuration says it; not g_format_size, whose
	 * non-breaking space a log reader cannot grep for. */
	g_autofree char *memory =
		limits->max_memory % (1024 * 1024) == 0
			? g_strdup_printf("%" G_GUINT64_FORMAT " MiB", limits->max_memory >> 20)
			: g_strdup_printf("%" G_GUINT64_FORMAT " bytes", limits->max_memory);
	g_autofree char *said = answer->len > 1 && answer->data[0] == 'E'
					? g_strndup((const char *)answer->data + 1, answer->len - 1)
					: g_strdup("(no reason given)");

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
			said);
	case CONTAIN_EXIT_FAILED:
		return g_steal_pointer(&said);
	default:
		return g_strdup_printf("the parser ended with status %d and no answer",
				       WIFEXITED(status) ? WEXITSTATUS(status) : status);
	}
}

int contain_run(const struct contain_limits *limits, contain_fn fn, gpointer data, GBytes **result,
		char **why, struct error *err)
{
	g_autoptr(GByteArray) answer = g_byte_array_new();
	g_autoptr(GError) gerr = NULL;
	int fds[2] = { -1, -1 };
	struct rusage ru;
	enum contain_read read;
	int status = 0;
	pid_t pid;

	*result = NULL;
	*why = NULL;
	if (!g_unix_open_pipe(fds, FD_CLOEXEC, &gerr))
		return error_set(err, ERR_TEMP, "cannot make a pipe for the parser: %s",
				 gerr->message);
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		contain_child(fds[1], limits, fn, data);
	}
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		return error_set(err, ERR_TEMP, "cannot start the parser: fork: %s",
				 g_strerror(errno));
	}
	read = contain_read(fds[0], limits, answer);
	close(fds[0]);
	if (read != READ_DONE)
		kill(pid, SIGKILL);
	memset(&ru, 0, sizeof ru);
	while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR)
		;
	if (read == READ_LATE) {
		*why = g_strdup_printf("parsing it took longer than max-processing-time (%u s)",
				       limits->max_seconds);
	} else if (read == READ_TOO_LONG) {
		*why = g_strdup_printf("the parser's answer is over %" G_GUINT64_FORMAT " bytes",
				       limits->max_result);
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && answer->len > 0 &&
		   answer->data[0] == 'R') {
		gsize len = answer->len;
		g_autoptr(GBytes) all = g_byte_array_free_to_bytes(g_steal_pointer(&answer));

		*result = g_bytes_new_from_bytes(all, 1, len - 1);
	} else {
		*why = contain_why(limits, status, &ru, answer);
	}
	return 0;
}
