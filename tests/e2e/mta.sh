# mta.sh: a real MTA for the e2e tests (bash; source tap.sh and pg.sh first).
#   mta_require PKG...   install the Debian packages that are missing (root,
#                        apt-get, ~15 s for postfix), or skip_all with why
#   e2e_setup            a world-readable temp folder $T with a copy of
#                        ./tlswatch and $T/tlswatch.conf for the throwaway
#                        PostgreSQL (contrib/sql/roles.sql applied, ingest
#                        connects as tlswatch_ingest): Postfix runs the pipe
#                        as nobody, with cwd its queue and an empty env
#   pf_start ARGV        a private Postfix in $T/pf (postfix.md §2) on
#                        127.0.0.1:$PF_PORT, configured from contrib/postfix
#                        (main.cf, virtual, transport, master.cf) with the
#                        entry's user= made nobody and its argv= made ARGV
#                        (pf_init, then pf_contrib ARGV, then pf_run)
#   pf_init              only its base configuration in $PF/etc, loopback
#                        only, nothing of contrib; not started
#   pf_stop              stop it and wait for the master to be gone
#   pf_sendmail FILE     submit FILE to tlsrpt@example.com with sendmail -C
#   pf_smtp FILE         the same over SMTP (bash's /dev/tcp)
#   pf_queue             postqueue -j: one JSON line per queued message
#   pf_deferred_on_db    a message is deferred and its delay_reason names
#                        the database
#   status_of MSGID      the status column(s) of the message rows with MSGID
#   is_stored MSGID      exactly one row for MSGID, stored
#   wait_for SECS CMD... run CMD every 0.1 s until it succeeds
# e2e_setup sets the EXIT trap: Postfix stopped, PostgreSQL stopped, $T gone.

FROM=reporter@example.org
RUA=tlsrpt@example.com

mta_require() {
	local p missing=
	[ "$(id -u)" -eq 0 ] || skip_all "a private Postfix instance needs root (postfix start)"
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	command -v apt-get >/dev/null || skip_all "needs$missing, and there is no apt-get"
	echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1 ||
		{ apt-get update -qq >/dev/null 2>&1 &&
			apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1; } ||
		skip_all "needs$missing, and apt-get could not install it"
	diag "installed$missing"
}

e2e_cleanup() {
	pf_stop
	pg_cleanup
	[ -n "${T:-}" ] && rm -rf "$T"
}

e2e_setup() {
	umask 022 # Postfix runs the pipe as nobody: it reads what the test writes
	pg_start_schema
	trap e2e_cleanup EXIT
	T=$(mktemp -d /tmp/tw-e2e.XXXXXX) || bail "mktemp failed"
	chmod 755 "$T" "$PG_DIR"
	install -m 755 ./tlswatch "$T/tlswatch"
	psql -XAtq -v ON_ERROR_STOP=1 -f contrib/sql/roles.sql >/dev/null ||
		bail "contrib/sql/roles.sql failed"
	printf '[database]\nconninfo = host=%s port=%s dbname=%s user=tlswatch_ingest\n' \
		"$PG_DIR" "$PGPORT" "$PGDATABASE" >"$T/tlswatch.conf"
	chmod 644 "$T/tlswatch.conf"
	runuser -u nobody -- test -r "$T/tlswatch.conf" -a -x "$PG_DIR" ||
		bail "user nobody cannot reach $T or $PG_DIR"
}

free_port() {
	local p
	for p in $(shuf -i 20000-40000 -n 50); do
		(: </dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo "$p"; return 0; }
	done
	return 1
}

pf_init() {
	local c="postconf -c $T/pf/etc" san
	PF=$T/pf
	PF_PORT=$(free_port) || bail "no free TCP port"
	mkdir -p "$PF/etc" "$PF/queue"
	# Debian's pristine files, not /etc/postfix's: a content_filter or an
	# inet service of this host's own Postfix must not leak in.
	cp /usr/share/postfix/main.cf.debian "$PF/etc/main.cf"
	cp /usr/share/postfix/master.cf.dist "$PF/etc/master.cf"
	$c -e "queue_directory = $PF/queue" "data_directory = $PF/data" \
		"maillog_file = $PF/maillog" "maillog_file_prefixes = $PF" \
		"inet_interfaces = 127.0.0.1" "inet_protocols = ipv4" \
		"myhostname = mx.example.com" "myorigin = example.com" \
		"mydestination = example.com" "mynetworks = 127.0.0.0/8" \
		"alias_maps =" "alias_database =" \
		"default_transport = error" "relay_transport = error" \
		"queue_run_delay = 300s" "minimal_backoff_time = 300s" \
		"maximal_backoff_time = 300s" "service_throttle_time = 5s" || bail "postconf failed"
	# A sanitizer build (make check SANITIZE=1) keeps its options in the
	# pipe, and so do the variables named in PF_PASS (readme.t: those that
	# stand for the machine's own paths and port).
	san="$(env | sed -n 's/^\([A-Z]*SAN_OPTIONS\)=.*/\1/p' | tr '\n' ' ') ${PF_PASS:-}"
	[ -z "${san// /}" ] || $c -e "import_environment = $($c -h import_environment) $san" \
		"export_environment = $($c -h export_environment) $san"
	$c -M# smtp/inet
	$c -F '*/*/chroot = n'
	$c -Me "127.0.0.1:$PF_PORT/inet = 127.0.0.1:$PF_PORT inet n - n - - smtpd"
}

pf_start() { # ARGV
	pf_init
	pf_contrib "$1"
	pf_run
}

pf_contrib() { # ARGV
	local c="postconf -c $PF/etc" line
	# contrib/postfix as a postmaster would apply it, in $PF/etc.
	grep -E '^[a-z_]+ *=' contrib/postfix/main.cf | sed "s|/etc/postfix/|$PF/etc/|g" |
		while IFS= read -r line; do $c -e "$line"; done
	cp contrib/postfix/virtual contrib/postfix/transport "$PF/etc/"
	postmap "$PF/etc/virtual" "$PF/etc/transport" || bail "postmap failed"
	grep -v '^#' contrib/postfix/master.cf |
		sed "s|user=tlswatch |user=nobody |; s|argv=/usr/local/bin/tlswatch ingest|argv=$1|" \
			>>"$PF/etc/master.cf"
	grep -q "user=nobody argv=$1\$" "$PF/etc/master.cf" ||
		bail "contrib/postfix/master.cf: no 'user=tlswatch argv=/usr/local/bin/tlswatch ingest'"
}

pf_run() {
	postfix -c "$PF/etc" check || bail "postfix check failed"
	postfix -c "$PF/etc" start >/dev/null 2>&1 || bail "postfix start failed"
	wait_for 20 eval "(: </dev/tcp/127.0.0.1/$PF_PORT) 2>/dev/null" ||
		bail "Postfix does not listen on 127.0.0.1:$PF_PORT"
}

pf_stop() {
	local pid
	[ -n "${PF:-}" ] && [ -d "$PF/etc" ] || return 0
	pid=$(tr -dc 0-9 <"$PF/queue/pid/master.pid" 2>/dev/null)
	postfix -c "$PF/etc" stop >/dev/null 2>&1
	[ -n "$pid" ] || return 0
	wait_for 10 eval "! kill -0 $pid 2>/dev/null" || kill -9 "$pid" 2>/dev/null
}

pf_sendmail() { sendmail -C "$PF/etc" -i -f "$FROM" "$RUA" <"$1"; }

# One SMTP reply: lines "CODE-..." then "CODE ...". Fails on another code.
smtp_reply() { # CODE
	local line
	while IFS= read -r -t 10 line <&3; do
		case $line in
		"$1 "*) return 0 ;;
		"$1-"*) ;;
		*) diag "smtp: $line"; return 1 ;;
		esac
	done
	diag "smtp: no reply $1"
	return 1
}

smtp_say() { printf '%s\r\n' "$1" >&3 && smtp_reply "$2"; }

pf_smtp() { # FILE: lines end in CRLF, a leading dot is doubled
	local rc=1
	exec 3<>"/dev/tcp/127.0.0.1/$PF_PORT" || return 1
	smtp_reply 220 && smtp_say "EHLO client.example.org" 250 &&
		smtp_say "MAIL FROM:<$FROM>" 250 && smtp_say "RCPT TO:<$RUA>" 250 &&
		smtp_say DATA 354 &&
		{ sed -e 's/\r$//' -e 's/^\./../' -e 's/$/\r/' -e '$a\' "$1" && printf '.\r\n'; } >&3 &&
		smtp_reply 250 && smtp_say QUIT 221 && rc=0
	exec 3>&-
	return $rc
}

pf_queue() { postqueue -c "$PF/etc" -j; }

pf_deferred_on_db() {
	pf_queue | grep '"queue_name": *"deferred"' | grep -Eq '"delay_reason": *"([^"\\]|\\.)*database'
}

status_of() { q "select string_agg(status, ',') from tlswatch.messages where message_id = '$1'"; }

is_stored() { [ "$(status_of "$1")" = stored ]; }

wait_for() { # SECONDS CMD...
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.1
	done
}
