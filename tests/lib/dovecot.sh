# dovecot.sh: a private Dovecot IMAP server for one test file, for
# `tlswatch fetch` (source tap.sh first: dovecot_start bails when the server
# won't start). One user, reports, with Maildir mail under DIR/mail and the
# folders INBOX, Processed and Quarantine.
#   dovecot_start DIR   everything under DIR (made if missing; at most 75
#                       characters, for the sockets in DIR/run): a test CA
#                       DIR/ca.pem, a server certificate it signed for
#                       localhost and 127.0.0.1, DIR/dovecot.conf, the log
#                       DIR/dovecot.log (auth_debug: each login, mechanism
#                       and token check is there), the mail. Listens on
#                       127.0.0.1 only; returns once imaps answers. Sets
#                       DOVECOT_DIR, DOVECOT_PID, IMAPS_PORT (implicit TLS),
#                       IMAP_PORT (plain; Dovecot takes 127.0.0.1 as secure
#                       and lets a login through there without STARTTLS),
#                       DOVECOT_PASSWORD (also in DIR/password, mode 600;
#                       PLAIN and LOGIN), DOVECOT_TOKEN (also in
#                       DIR/oauth-token; XOAUTH2 and OAUTHBEARER, checked by
#                       a token server: OAUTH_PORT, OAUTH_PID, its requests
#                       in DIR/oauth.log), DOVECOT_USER and DOVECOT_GROUP
#                       (the account Dovecot runs as). As root it makes DIR
#                       a+x, for that account. Again on the same DIR (after
#                       dovecot_stop): the mail stays, all else is new.
#   dovecot_stop        stops Dovecot and the token server, waits
#   dovecot_deliver FILE [FOLDER]  saves the message FILE in FOLDER (default
#                       INBOX), its UID given by Dovecot as for real mail
#   dovecot_count FOLDER          prints how many messages FOLDER holds
#   dovecot_message_ids FOLDER    prints their Message-IDs sorted, one a
#                       line (a message without one adds no line)
#   dovecot_uidvalidity FOLDER    prints FOLDER's UIDVALIDITY
#   dovecot_recreate FOLDER       FOLDER deleted and re-created with the
#                       same messages: a new UIDVALIDITY, UIDs from 1 again
#   dovecot_adm [-f FORMATTER] COMMAND ARGS...  doveadm COMMAND for reports
#                       on this instance (dovecot_adm mailbox list)
# DOVECOT_OAUTH_MECHS (default "xoauth2 oauthbearer"), read by dovecot_start:
# the token mechanisms offered.
# Nothing here sets a trap: the caller puts dovecot_stop in its EXIT trap
# (beside pg_cleanup, or with rm -rf DIR).

# Not in a non-root PATH.
: "${DOVECOT:=/usr/sbin/dovecot}"
# xoauth2 alone is Microsoft 365, and the only way to have the curl tool
# use XOAUTH2: its --oauth2-bearer also sets CURLOPT_HTTPAUTH to
# CURLAUTH_BEARER, with which libcurl takes OAUTHBEARER when offered,
# whatever --login-options says (libcurl without HTTPAUTH honours AUTH=).
: "${DOVECOT_OAUTH_MECHS:=xoauth2 oauthbearer}"
: "${DOVEADM:=doveadm}"

# A loopback port nothing listens on (free_port in serve.sh, not sourced
# by every test that wants an IMAP server).
dovecot_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

dovecot_random() { # 24 bytes, URL- and shell-safe
	openssl rand -base64 24 | tr '+/' '-_'
}

# A CA of our own rather than a self-signed server certificate: the client
# is then tested with --cacert (or its config's CA), as for a private CA
# in production, and a client without it must refuse the server.
dovecot_certs() { # DIR
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$1/ca.key" -out "$1/ca.pem" -days 2 \
		-subj "/CN=tlswatch test CA" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null &&
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$1/server.key" -out "$1/server.csr" \
		-subj "/CN=localhost" 2>/dev/null &&
	printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" \
		"extendedKeyUsage=serverAuth" >"$1/server.ext" &&
	openssl x509 -req -in "$1/server.csr" -CA "$1/ca.pem" \
		-CAkey "$1/ca.key" -CAcreateserial -days 2 \
		-extfile "$1/server.ext" -out "$1/server.pem" 2>/dev/null
}

# The token server: an RFC 7662 introspection endpoint for Dovecot's oauth2
# passdb. The token in DIR/oauth-token is active for reports; any other is
# answered 200 {"active": false}, as RFC 7662 has it (Dovecot 2.3 reads a
# 401 with that body the same way; with the server down, the client gets
# NO [UNAVAILABLE] instead). It picks its port and writes it to a file once listening, so there is no
# race to wait out. Each request is logged to stderr (DIR/oauth.log).
dovecot_py_oauth='
import http.server, json, sys, urllib.parse
token = open(sys.argv[1] + "/oauth-token").read().strip()
class H(http.server.BaseHTTPRequestHandler):
    def answer(self, got):
        ok = got == token
        body = json.dumps({"active": True, "username": "reports"} if ok
                          else {"active": False}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.log_message("token %s", "good" if ok else "bad")
    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(n).decode())
        self.answer(form.get("token", [""])[0])
    def do_GET(self):
        q = urllib.parse.urlsplit(self.path).query
        self.answer(urllib.parse.parse_qs(q).get("token", [""])[0])
s = http.server.HTTPServer(("127.0.0.1", 0), H)
with open(sys.argv[1] + "/oauth.port.new", "w") as f:
    f.write("%d\n" % s.server_address[1])
import os
os.rename(sys.argv[1] + "/oauth.port.new", sys.argv[1] + "/oauth.port")
s.serve_forever()
'

dovecot_oauth_start() { # DIR
	rm -f "$1/oauth.port"
	python3 -c "$dovecot_py_oauth" "$1" 2>"$1/oauth.log" &
	OAUTH_PID=$!
	for _ in $(seq 50); do
		[ -f "$1/oauth.port" ] && break
		sleep 0.1
	done
	[ -f "$1/oauth.port" ] || bail "the OAuth token server did not start: $(cat "$1/oauth.log")"
	OAUTH_PORT=$(cat "$1/oauth.port")
}

# Dovecot's processes and the mail run as one unprivileged account: as root
# nobody (Dovecot refuses mail as uid 0, and the Debian dovecot/dovenull
# accounts are not there everywhere), else the caller itself (Dovecot's
# rootless mode). That account must be able to reach DIR.
dovecot_account() {
	if [ "$(id -u)" -eq 0 ]; then
		DOVECOT_USER=nobody
		DOVECOT_GROUP=$(id -gn nobody)
	else
		DOVECOT_USER=$(id -un)
		DOVECOT_GROUP=$(id -gn)
	fi
}

dovecot_conf() { # DIR
	cat <<EOF
# Written by tests/lib/dovecot.sh: nothing from /etc/dovecot.
base_dir = $1/run
state_dir = $1/state
instance_name = tlswatch-test
protocols = imap
listen = 127.0.0.1
log_path = $1/dovecot.log
info_log_path = $1/dovecot.log
auth_verbose = yes
auth_debug = yes
# A refused login answers within half a second, not 2: tests try wrong
# passwords and tokens.
auth_failure_delay = 0
default_internal_user = $DOVECOT_USER
default_internal_group = $DOVECOT_GROUP
default_login_user = $DOVECOT_USER
first_valid_uid = 1
first_valid_gid = 1
ssl = required
ssl_cert = <$1/server.pem
ssl_key = <$1/server.key
auth_mechanisms = plain login $DOVECOT_OAUTH_MECHS
# Each mechanism has its passdb: a token is not a password, a password not
# a token.
passdb {
  driver = passwd-file
  args = scheme=PLAIN $1/passwd
  mechanisms = plain login
}
passdb {
  driver = oauth2
  args = $1/oauth2.conf
  mechanisms = $DOVECOT_OAUTH_MECHS
}
# allow_all_users: else a user lookup (doveadm -u) asks the passdbs, which
# have no password to check and skip it.
userdb {
  driver = static
  args = uid=$DOVECOT_USER gid=$DOVECOT_GROUP home=$1/mail/%u allow_all_users=yes
}
mail_location = maildir:~
namespace inbox {
  inbox = yes
  mailbox Processed {
    auto = create
  }
  mailbox Quarantine {
    auto = create
  }
}
# Chroots need root; without them the same holds as root or not. Without
# its penalty socket anvil keeps no count of failures: else each failed
# login from 127.0.0.1 waits longer than the last (2, 4, 8, 15 s).
service anvil {
  chroot =
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $IMAPS_PORT
    ssl = yes
  }
}
EOF
}

# Token introspection only (no tokeninfo_url): one POST token=... per login;
# force_introspection as the docs ask when active_attribute is used.
dovecot_oauth2_conf() {
	cat <<EOF
introspection_mode = post
introspection_url = http://127.0.0.1:$OAUTH_PORT/introspect
force_introspection = yes
username_attribute = username
active_attribute = active
active_value = true
timeout_msecs = 5000
debug = yes
EOF
}

dovecot_start() { # DIR
	mkdir -p "$1" || bail "dovecot_start: cannot make $1"
	DOVECOT_DIR=$(cd "$1" && pwd)
	dovecot_d=$DOVECOT_DIR
	# sun_path holds 107 bytes; the longest socket is run/token-login/imap-urlauth.
	[ ${#dovecot_d} -le 75 ] || bail "dovecot_start: $dovecot_d is too long for Dovecot's sockets"
	dovecot_account
	dovecot_certs "$dovecot_d" || bail "dovecot_start: openssl could not make the certificates"
	DOVECOT_PASSWORD=$(dovecot_random)
	DOVECOT_TOKEN=$(dovecot_random)
	(umask 077 && printf '%s\n' "$DOVECOT_PASSWORD" >"$dovecot_d/password" &&
		printf '%s\n' "$DOVECOT_TOKEN" >"$dovecot_d/oauth-token" &&
		printf 'reports:%s\n' "$DOVECOT_PASSWORD" >"$dovecot_d/passwd")
	mkdir -p "$dovecot_d/mail" "$dovecot_d/state"
	if [ "$(id -u)" -eq 0 ]; then
		# The auth process reads passwd as that account; it and the mail
		# processes must get through DIR (mktemp -d makes it 700).
		chown "$DOVECOT_USER:$DOVECOT_GROUP" "$dovecot_d/passwd" "$dovecot_d/mail"
		chmod a+x "$dovecot_d"
	fi
	dovecot_oauth_start "$dovecot_d"
	IMAP_PORT=$(dovecot_free_port)
	IMAPS_PORT=$(dovecot_free_port)
	dovecot_conf "$dovecot_d" >"$dovecot_d/dovecot.conf"
	dovecot_oauth2_conf >"$dovecot_d/oauth2.conf"
	# Errors before the log is open (a bad setting) go to the same file.
	"$DOVECOT" -F -c "$dovecot_d/dovecot.conf" >>"$dovecot_d/dovecot.log" 2>&1 &
	DOVECOT_PID=$!
	for _ in $(seq 50); do
		kill -0 "$DOVECOT_PID" 2>/dev/null || break
		# A greeting over TLS with our CA: listening, and the certificate
		# is the one clients will check.
		curl -s -o /dev/null --max-time 2 --cacert "$dovecot_d/ca.pem" \
			"imaps://127.0.0.1:$IMAPS_PORT/" -X CAPABILITY && return 0
		sleep 0.1
	done
	bail "dovecot did not answer on imaps port $IMAPS_PORT: $(tail -n 20 "$dovecot_d/dovecot.log")"
}

dovecot_stop() {
	if [ -n "${DOVECOT_PID:-}" ]; then
		# The master stops its children before it exits. wait only knows
		# our own children (not one started from a subshell): poll too, as
		# a new instance on the same DIR refuses to start beside it.
		kill -TERM "$DOVECOT_PID" 2>/dev/null
		wait "$DOVECOT_PID" 2>/dev/null
		for _ in $(seq 100); do
			kill -0 "$DOVECOT_PID" 2>/dev/null || break
			sleep 0.1
		done
		DOVECOT_PID=
	fi
	if [ -n "${OAUTH_PID:-}" ]; then
		kill "$OAUTH_PID" 2>/dev/null
		wait "$OAUTH_PID" 2>/dev/null
		OAUTH_PID=
	fi
}

# doveadm COMMAND -u reports ARGS... on our instance; the mailbox commands
# are two words (mailbox status), -u coming after both.
dovecot_adm() { # [FORMATTER] COMMAND ARGS...
	dovecot_adm_f=
	case $1 in -f) dovecot_adm_f="-f $2"; shift 2 ;; esac
	dovecot_adm_cmd=$1
	shift
	case $dovecot_adm_cmd in mailbox) dovecot_adm_cmd="mailbox $1"; shift ;; esac
	# shellcheck disable=SC2086 # the words, split on purpose
	"$DOVEADM" -c "$DOVECOT_DIR/dovecot.conf" $dovecot_adm_f $dovecot_adm_cmd -u reports "$@"
}

dovecot_deliver() { # FILE [FOLDER]
	# On stdin: the file is opened by us, not by the mail account.
	dovecot_adm save -m "${2:-INBOX}" <"$1"
}

dovecot_status() { # FIELD FOLDER
	dovecot_adm -f flow mailbox status "$1" "$2" | sed -n "s/.*$1=//p"
}

dovecot_count() { dovecot_status messages "$1"; }

dovecot_uidvalidity() { dovecot_status uidvalidity "$1"; }

# doveadm gives the raw value: a folded header with its line break and
# indent, several Message-ID headers joined by a line break. JSON keeps
# that apart from the next message; unfolded here, one header a line.
dovecot_py_ids='
import json, re, sys
for m in json.load(sys.stdin):
    for v in re.sub(r"\r?\n[ \t]+", " ", m["hdr.message-id"]).splitlines():
        if v.strip():
            print(v.strip())
'

dovecot_message_ids() { # FOLDER
	dovecot_adm -f json fetch hdr.message-id mailbox "$1" all |
		python3 -c "$dovecot_py_ids" | sort
}

# A re-created mailbox numbers its messages from 1 again under a new
# UIDVALIDITY: UIDs a client has seen come back on other messages, which
# is what a client that ignores UIDVALIDITY gets wrong. The messages wait
# in a scratch folder meanwhile (moved, so flags and bytes stay). INBOX
# cannot be deleted (doveadm expunges it, then refuses), so its UID list
# and index go instead, and force-resync makes new ones, as Dovecot does
# when they are lost. Run it with no client logged in.
dovecot_recreate() { # FOLDER
	dovecot_old=$(dovecot_uidvalidity "$1")
	[ -n "$dovecot_old" ] || return 1
	dovecot_adm mailbox create tlswatch-recreate &&
	dovecot_adm move tlswatch-recreate mailbox "$1" all || return 1
	if [ "$1" = INBOX ]; then
		rm -f "$DOVECOT_DIR/mail/reports/dovecot-uidlist" \
			"$DOVECOT_DIR/mail/reports"/dovecot.index \
			"$DOVECOT_DIR/mail/reports"/dovecot.index.*
		dovecot_adm force-resync INBOX || return 1
	else
		dovecot_adm mailbox delete "$1" &&
		dovecot_adm mailbox create "$1" || return 1
	fi
	# New UIDVALIDITY values come from a counter (dovecot-uidvalidity), so
	# this is a safeguard, not a wait for the clock.
	if [ "$(dovecot_uidvalidity "$1")" = "$dovecot_old" ]; then
		dovecot_adm mailbox update --uid-validity "$((dovecot_old + 1))" "$1" || return 1
	fi
	dovecot_adm move "$1" mailbox tlswatch-recreate all &&
	dovecot_adm mailbox delete tlswatch-recreate
}
