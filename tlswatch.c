/*
 * tlswatch: SMTP TLS reports (RFC 8460) from mail into PostgreSQL.
 *
 * main() only picks the subcommand; each lives in cmd/ and returns the
 * exit status, which is a contract with the MTA (see tlswatch(1)).
 */
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "cmd/cmd.h"

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "ingest", cmd_ingest,
	  "store TLS reports from a message on stdin, files, Maildirs, mboxes" },
	{ "db", cmd_db, "init | migrate | status | prune: the schema and retention" },
	{ "quarantine", cmd_quarantine, "list | show ID | retry [ID...|--all]: kept messages" },
	{ "digest", cmd_digest, "a period's summary per domain and its enforce readiness" },
	{ "alert", cmd_alert, "evaluate alert rules, deliver and retry webhooks (--list, --test)" },
	{ "serve", cmd_serve, "receive reports over LMTP, as a long-running service" },
	{ "fetch", cmd_fetch, "read report mail from IMAP mailboxes ([imap NAME])" },
	{ "check", cmd_check, "check a domain's live MTA-STS and TLS-RPT deployment" },
};

static int usage(FILE *out, int status)
{
	fprintf(out, "usage: tlswatch COMMAND [OPTION...] [ARG...]\n\ncommands:\n");
	for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
		fprintf(out, "  %-11s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n`tlswatch COMMAND --help` describes each one.\n");
	return status;
}

int main(int argc, char **argv)
{
	setlocale(LC_ALL, "");
	if (argc < 2)
		return usage(stderr, EX_USAGE);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0)
		return usage(stdout, EX_OK);
	for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "tlswatch: unknown command '%s'\n", argv[1]);
	return usage(stderr, EX_USAGE);
}
