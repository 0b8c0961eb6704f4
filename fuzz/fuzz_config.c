/*
 * fuzz_config.c: the configuration file.
 *
 * bytes -> a file -> config_load (GKeyFile and our key checks); also
 * config_parse_size on the bytes as a string. A wrong file must be an
 * ERR_CONFIG with a message, never a crash or a half-set struct.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/config.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *fuzz_path;

static void fuzz_cleanup(void)
{
	unlink(fuzz_path);
	g_free(fuzz_path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_path = g_strdup_printf("%s/tlswatch-fuzz-config.%d", g_get_tmp_dir(), (int)getpid());
	atexit(fuzz_cleanup);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;
	struct error err = ERROR_INIT;
	char *s = g_strndup((const char *)data, size);
	guint64 n;

	(void)config_parse_size(s, &n);
	g_free(s);
	if (!g_file_set_contents(fuzz_path, (const char *)data, (gssize)size, NULL))
		abort();
	config_init(&c);
	if (config_load(&c, fuzz_path, &err) < 0 && (err.cls != ERR_CONFIG || err.msg == NULL))
		abort(); /* a wrong file is ERR_CONFIG with a reason */
	error_clear(&err);
	config_release(&c);
	return 0;
}
