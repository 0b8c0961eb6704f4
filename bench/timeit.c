/*
 * timeit.c: wall time and peak RSS of child processes, one line per run.
 *
 * bench/timeit [-l LIST] -- CMD [ARG...] [-- CMD [ARG...]]...
 *
 * Without LIST each CMD runs once with stdin from /dev/null. With LIST (a
 * file naming one input file per line) every CMD runs once per input, with
 * stdin from it, the commands taking turns so that drift on a noisy machine
 * hits them alike. stdout of the children goes to /dev/null, stderr is
 * kept. Prints "CMD-INDEX SECONDS MAXRSS-KIB EXIT-STATUS" per run; the
 * RSS is the child's own, from wait4(2).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run(int index, char **argv, const char *input)
{
	struct rusage ru;
	double start = now();
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return perror("timeit: fork"), -1;
	if (pid == 0) {
		int in = open(input ? input : "/dev/null", O_RDONLY);
		int out = open("/dev/null", O_WRONLY);

		if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0)
			_exit(127);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0)
		return perror("timeit: wait4"), -1;
	printf("%d %.6f %ld %d\n", index, now() - start, ru.ru_maxrss,
	       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return 0;
}

int main(int argc, char **argv)
{
	char **cmds[16];
	int ncmds = 0, i = 1;
	const char *list = NULL;
	char line[4096];
	FILE *fp = NULL;

	if (i + 1 < argc && strcmp(argv[i], "-l") == 0) {
		list = argv[i + 1];
		i += 2;
	}
	for (; i < argc && ncmds < 16; i++) {
		if (strcmp(argv[i], "--") == 0 && i + 1 < argc) {
			cmds[ncmds++] = argv + i + 1;
			argv[i] = NULL; /* ends the previous command */
		}
	}
	if (ncmds == 0)
		return fprintf(stderr, "usage: timeit [-l LIST] -- CMD [ARG...] [-- CMD...]\n"), 64;
	if (list == NULL) {
		for (int c = 0; c < ncmds; c++)
			if (run(c, cmds[c], NULL) < 0)
				return 1;
		return 0;
	}
	if ((fp = fopen(list, "r")) == NULL)
		return fprintf(stderr, "timeit: %s: %s\n", list, strerror(errno)), 66;
	while (fgets(line, sizeof line, fp) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		for (int c = 0; c < ncmds; c++)
			if (run(c, cmds[c], line) < 0)
				return 1;
		fflush(stdout);
	}
	fclose(fp);
	return 0;
}
