/*
 * config.h: /etc/tlswatch/tlswatch.conf (GKeyFile syntax) as a struct.
 *
 * No file is needed: every key has a default and libpq's own defaults (PG*
 * variables) choose the database when [database] conninfo is absent. A file
 * named by --config or TLSWATCH_CONFIG must exist; the default path may be
 * absent. A file that exists but is wrong is an ERR_CONFIG naming the file,
 * the group and the key.
 */
#ifndef TLSWATCH_CONFIG_H
#define TLSWATCH_CONFIG_H

#include <glib.h>
#include <netinet/in.h>

#include "common/error.h"

#define CONFIG_DEFAULT_PATH "/etc/tlswatch/tlswatch.conf"

struct config {
	char *path;	  /* the file read, or NULL when none was */
	char *conninfo;	  /* [database] conninfo, or NULL for libpq defaults */
	gint64 retention; /* [database] retention: seconds, 0 for none (db prune) */
	/* The file read, for the groups other stages read themselves
	 * ([digest], [rule NAME], [webhook NAME]); NULL when none was. */
	GKeyFile *keyfile;

	/* [ingest] */
	guint64 max_message_size;  /* max-message-size, default 32 MiB */
	guint64 max_report_size;   /* max-report-size: decompressed bytes per part, 64 MiB */
	guint max_mime_parts;	   /* max-mime-parts, default 1000 */
	guint max_mime_depth;	   /* max-mime-depth, default 20 */
	guint max_json_depth;	   /* max-json-depth, default 64 */
	guint max_policies;	   /* max-policies per report, default 10000 */
	guint max_failure_details; /* max-failure-details per report, default 50000 */
	gboolean keep_raw;	   /* keep-raw: raw bytes of stored messages too, default false */
	gboolean syslog;	   /* syslog: log to syslog (facility mail), default false */

	/* [ingest] caps added for hostile input (issue 7) */
	guint max_string_length;       /* max-string-length: bytes in one JSON string, 65536 */
	guint64 max_total_report_size; /* max-total-report-size: decompressed, all parts, 128M */
	guint max_gzip_ratio;	       /* max-gzip-ratio: out/in once past 1 MiB out, 200 */
	guint max_processing_time;     /* max-processing-time: seconds to parse (then quarantine)
					  and to store (then exit 75); 0 off */

	/* [ingest] caps of the parse in its own process (issue 13) */
	guint64 max_parse_memory; /* max-parse-memory: bytes the parser may allocate, 128M */
	guint64 max_header_size;  /* max-header-size: bytes in one header field, 64K */

	/* [ingest] trust (issue 16) */
	enum config_dkim {
		CONFIG_DKIM_OFF,     /* dkim = off: nothing verified, nothing judged */
		CONFIG_DKIM_RECORD,  /* record (the default): judged and stored, all accepted */
		CONFIG_DKIM_REQUIRE, /* require: mail that is not authenticated is quarantined */
	} dkim;
	char *trusted_authserv_id; /* trusted-authserv-id: read Authentication-Results of this
				      host instead of verifying; NULL: verify */
	char **trusted_reporters;  /* trusted-reporters: organisation names or signing
				      domains counted as authenticated; NULL for none */

	/* [dns] */
	char **dns_nameservers; /* nameservers: IPv4 address[:port] each; NULL: resolv.conf */
	guint dns_timeout;	/* timeout: seconds per try (two per server), default 5 */
};

/* Fill c with the defaults (no file read). */
void config_init(struct config *c);

/* Read the file: path if not NULL, else $TLSWATCH_CONFIG, else the default
 * path when it exists. On failure c keeps the defaults and err names the
 * file, group and key (ERR_CONFIG). */
int config_load(struct config *c, const char *path, struct error *err);

/* Free what c owns. */
void config_release(struct config *c);

/* Parse "64M", "512k", "1G" or a plain byte count. Returns -1 on nonsense. */
int config_parse_size(const char *s, guint64 *out);

/* [ingest] dkim of kf (NULL: no file), for the stages that default to it:
 * [alert] and [digest] authenticated-only are on unless dkim = off. A
 * value config_load refused reads as the default, record. */
enum config_dkim config_dkim_mode(GKeyFile *kf);

/* Parse a [dns] nameservers entry, "192.0.2.53" or "127.0.0.1:5353", into
 * *addr and *port (53 when absent). Returns -1 on anything else. */
int config_parse_nameserver(const char *s, struct in_addr *addr, guint16 *port);

/* Parse "90", "90s", "15m", "24h" or "400d" into seconds. Returns -1 on
 * nonsense or more than 2^31 units. */
gint64 config_parse_duration(const char *s);

/* The duration of key in group of kf (read from path) in *out; nothing
 * changes when the key is absent. An empty or unparsable value is an
 * ERR_CONFIG naming file, group and key (-1). */
/* The readers every group uses: key of group in kf (read from path, for
 * the messages). Nothing changes when the key is absent; a bad value is
 * an ERR_CONFIG naming file, group and key (-1). */

/* The value stripped, in *out (the old one freed); empty is an error. */
int config_get_string(GKeyFile *kf, const char *path, const char *group, const char *key,
		      char **out, struct error *err);

/* true or false (as GKeyFile reads them: also 1 or 0). */
int config_get_bool(GKeyFile *kf, const char *path, const char *group, const char *key,
		    gboolean *out, struct error *err);

/* A whole number from min to max. */
int config_get_uint(GKeyFile *kf, const char *path, const char *group, const char *key, guint64 min,
		    guint64 max, guint64 *out, struct error *err);

int config_get_duration(GKeyFile *kf, const char *path, const char *group, const char *key,
			gint64 *out, struct error *err);

#endif
