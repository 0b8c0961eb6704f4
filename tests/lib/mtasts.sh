# mtasts.sh: a fake internet on loopback for `tlswatch check DOMAIN`: a
# test CA and its certificates, a nameserver with the domains' TXT, MX and
# A records, HTTPS servers for mta-sts.DOMAIN and real Postfix smtpd MX
# hosts, each on port 443 or 25 of an address of its own in 127.0.0.0/8
# (Linux routes all of it to lo). Source tap.sh first: the functions bail
# when a server won't start. Everything is under $STS_DIR (made now, mode
# 755: Postfix's account goes through it to its queue). Needs root (ports
# 25 and 443, postfix start): sts_require says so.
#   sts_require         skip_all unless root with dnsmasq, openssl and
#                       /usr/bin/python3; installs postfix when missing
#                       (apt-get, "Local only", as tests/e2e/mta.sh does)
#   sts_addr VAR        sets VAR to a random 127.X.Y.Z (never 127.0.*.*,
#                       so neither 127.0.0.1 nor 127.0.0.53) whose ports
#                       25 and 443 are free, not given out before here
#   sts_ca              the test CA: sets STS_CA ($STS_DIR/ca.pem; its
#                       key beside it), valid from now for 30 days
#   sts_cert [-expired | -days N | -self] FILE NAME...
#                       a P-256 key and certificate for the DNS names NAME
#                       (wildcards too; the first is also the CN), signed
#                       by the CA: $STS_DIR/FILE.pem and FILE.key, also in
#                       STS_CERT and STS_KEY. Valid from a day ago for 90
#                       days; -days N: until N x 24 h from now (-days 10:
#                       expiring soon; a second later, 9.99 days are left);
#                       -expired: from 30 days ago until yesterday; -self:
#                       self-signed, trusted by nobody (not with -expired).
#                       A certificate for the wrong name is one issued for
#                       another NAME and served at this host's address.
#   sts_dns_start ZONE [PORT]  dnsmasq on 127.0.0.1:PORT (default: a free
#                       port) serving ZONE (format below), every other
#                       name NXDOMAIN, nothing forwarded; sets DNS_PORT,
#                       DNS_PID; writes ZONE.conf, and ZONE.log (each query
#                       logged). Changed records: sts_dns_stop, then
#                       sts_dns_start ZONE "$DNS_PORT" again
#   sts_dns_stop        stops it
#   sts_dig [-s] NAME TYPE [PORT]  asks 127.0.0.1:PORT (default $DNS_PORT)
#                       for NAME's A, AAAA, CNAME, MX or TXT records and
#                       prints one a line: an address, a name, "PREF HOST",
#                       a TXT record's strings joined (with -s each one
#                       quoted, "a" "b", to show the split). Status 1 when
#                       there is none (the rcode on stderr: NXDOMAIN or
#                       NOERROR), 3 when no answer came in $DNS_TIMEOUT
#                       seconds (default 2)
#   sts_https_start ADDR CERT KEY DOCROOT [tls1.1]
#                       HTTPS on ADDR:443 serving the files under DOCROOT
#                       (GET, HEAD; text/plain), TLS 1.2 or later, or only
#                       TLS 1.0 and 1.1 with tls1.1. Per file, read on each
#                       request, FILE.status (a status code), FILE.type (the
#                       Content-Type), FILE.location (a redirect there, 301
#                       unless FILE.status says otherwise), FILE.delay
#                       (seconds to wait before answering). Sets HTTPS_PID
#                       and HTTPS_LOG ($STS_DIR/https-ADDR.log: a line per
#                       request, "SNI METHOD PATH host=HOST STATUS", per
#                       failed handshake "SNI handshake failed: REASON", per
#                       client gone before the answer "SNI connection lost:
#                       REASON"; SNI is None when the client sent none)
#   sts_https_stop ADDR stops it
#   sts_smtp_start ADDR CERT KEY [nostarttls | tls1.1 | PARAM=VALUE]...
#                       a private Postfix instance in $STS_DIR/smtp-ADDR
#                       whose smtpd listens on ADDR:25 only and offers
#                       STARTTLS with CERT and KEY (TLS 1.2 or 1.3: OpenSSL
#                       3 allows no less at its default security level);
#                       nostarttls: not offered (CERT and KEY may be "");
#                       tls1.1: TLS 1.0 and 1.1 only (a default OpenSSL 3
#                       client fails the handshake: "legacy sigalg
#                       disallowed or unsupported");
#                       PARAM=VALUE: any main.cf line (myhostname=mx1.x,
#                       the 220 greeting's name; default mx.invalid). Sets
#                       SMTP_PID (the master's), SMTP_DIR, SMTP_LOG (its
#                       maillog: "disconnect from ... ehlo=2 starttls=1
#                       quit=1 commands=4" tells what the client did)
#   sts_smtp_stop ADDR  stops it, waits until its master is gone and
#                       nothing listens on ADDR:25; sts_smtp_start ADDR may
#                       then start it again, with other options
#   sts_tarpit_start ADDR PORT  accepts connections on ADDR:PORT and never
#                       says a word (timeouts); sets TARPIT_PID
#   sts_tarpit_stop ADDR PORT   stops it
# A server started twice on one address bails.
#   sts_cleanup         stops every server started here, removes $STS_DIR:
#                       the caller puts it in its EXIT trap, as nothing here
#                       sets a trap
#
# The zone file: a record a line, blank lines and # comments skipped.
#   NAME TXT TEXT...    the rest of the line is the text, one record
#                       (dnsmasq splits one over 255 bytes into strings);
#                       "a" "b" instead: those strings, as written
#   NAME MX PREF HOST
#   NAME A 127.X.Y.Z    several lines for several addresses
#   NAME CNAME TARGET   TARGET must have records here too
# A name may have several records of a type (two TXT: two records).

# shellcheck disable=SC2034 # STS_CA, HTTPS_PID...: set for the caller

: "${STS_PYTHON:=/usr/bin/python3}"
# Not in a non-root PATH.
: "${DNSMASQ:=/usr/sbin/dnsmasq}"
: "${STS_POSTFIX:=/usr/sbin/postfix}"

# Made now, not on first use: sts_* may run in $(...), whose assignments
# the test never sees.
: "${STS_DIR:=$(mktemp -d "${TMPDIR:-/tmp}/mtasts.XXXXXX")}"
chmod 755 "$STS_DIR"

sts_require() {
	[ "$(id -u)" -eq 0 ] ||
		skip_all "servers on ports 25 and 443, and postfix start, need root"
	[ -x "$DNSMASQ" ] || skip_all "needs dnsmasq (dnsmasq-base: make deps)"
	[ -x "$STS_PYTHON" ] || skip_all "needs $STS_PYTHON (make deps)"
	command -v openssl >/dev/null || skip_all "needs openssl (make deps)"
	[ -x "$STS_POSTFIX" ] && return 0
	# Local only: an Internet Site Postfix would take 0.0.0.0:25, and with
	# it port 25 of every address here.
	echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		postfix >/dev/null 2>&1 ||
		{ apt-get update -qq >/dev/null 2>&1 &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
				--no-install-recommends postfix >/dev/null 2>&1; } ||
		skip_all "needs postfix, and apt-get could not install it"
	diag "installed postfix"
}

# Random rather than counted from a base, so that test files running at
# once seldom meet; a bind proves the ports free (a TIME_WAIT left by an
# earlier server does not count, as the servers reuse addresses too).
sts_py_addr='
import errno, random, socket, sys
used, why = open(sys.argv[1]).read().split(), None
for _ in range(200):
    a = "127.%d.%d.%d" % (random.randint(1, 254), random.randint(0, 255),
                          random.randint(1, 254))
    if a in used:
        continue
    try:
        for port in (25, 443):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((a, port))
            s.close()
    except OSError as e:
        why = e
        if e.errno == errno.EACCES:
            break
        continue
    open(sys.argv[1], "a").write(a + "\n")
    print(a)
    sys.exit(0)
sys.stderr.write("no address with ports 25 and 443 free: %s\n" % why)
sys.exit(1)
'

sts_addr() { # VAR
	touch "$STS_DIR/addrs"
	sts_a=$("$STS_PYTHON" -c "$sts_py_addr" "$STS_DIR/addrs" 2>&1) ||
		bail "sts_addr: $sts_a (a server on 0.0.0.0:25 or 0.0.0.0:443?)"
	eval "$1=\$sts_a"
}

# Waits until something listens on ADDR:PORT (with "closed": until
# nothing does), from /proc/net/tcp rather than by connecting: a probe
# would be a line in the server's log. Fails after 10 s.
sts_py_listening='
import socket, sys, time
addr, port, closed = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "closed"
want = "%s:%04X" % (socket.inet_aton(addr)[::-1].hex().upper(), port)
for _ in range(100):
    with open("/proc/net/tcp") as f:
        if closed != any(l.split()[1] == want and l.split()[3] == "0A"
                         for l in f.readlines()[1:]):
            sys.exit(0)
    time.sleep(0.1)
sys.exit(1)
'

sts_listening() { # ADDR PORT [closed]
	"$STS_PYTHON" -c "$sts_py_listening" "$1" "$2" "${3:-}"
}

# Starts the python3 program CODE with ARGS in the background as server
# NAME: its pid in $STS_DIR/NAME.pid (sts_pid too), its output in NAME.log.
# CODE makes the file $STS_READY once it listens: no port to poll, and a
# server that could not bind is not taken for another on the same port.
sts_spawn() { # NAME CODE ARGS...
	sts_n=$1 sts_code=$2
	shift 2
	[ -f "$STS_DIR/$sts_n.pid" ] && bail "$sts_n: started already"
	rm -f "$STS_DIR/$sts_n.ready"
	STS_READY=$STS_DIR/$sts_n.ready "$STS_PYTHON" -c "$sts_code" "$@" \
		>"$STS_DIR/$sts_n.log" 2>&1 &
	sts_pid=$!
	echo "$sts_pid" >"$STS_DIR/$sts_n.pid"
	for _ in $(seq 100); do
		[ -f "$STS_DIR/$sts_n.ready" ] && return 0
		kill -0 "$sts_pid" 2>/dev/null || break
		sleep 0.1
	done
	bail "$sts_n did not start: $(cat "$STS_DIR/$sts_n.log")"
}

# PID is alive, and not a zombie: a Postfix master is reparented to init,
# which may take a second or more to reap it.
sts_running() { # PID
	sts_st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
	[ -n "$sts_st" ] && [ "$sts_st" != Z ]
}

# Kills the process in FILE and waits for it (our own child).
sts_kill() { # PIDFILE
	[ -f "$1" ] || return 0
	sts_p=$(cat "$1")
	rm -f "$1"
	kill "$sts_p" 2>/dev/null
	wait "$sts_p" 2>/dev/null
	return 0
}

# Dates for openssl ca, N days from now (negative: ago).
sts_date() { # DAYS
	date -u -d "@$(($(date +%s) + $1 * 86400))" +%Y%m%d%H%M%SZ
}

# A CA of our own rather than self-signed servers: the checker is given
# $STS_CA, as for a private CA, and then -self and -expired are refused
# for what they are, not for an unknown issuer. openssl ca, not x509 -req:
# OpenSSL 3.0's x509 has no way to set a start date, and an expired
# certificate needs one in the past (faketime is not installed).
sts_ca() {
	sts_c=$STS_DIR/ca
	mkdir -p "$sts_c/new"
	: >"$sts_c/index.txt"
	echo 1000 >"$sts_c/serial"
	cat >"$sts_c/ca.cnf" <<EOF
[ca]
default_ca = sts
[sts]
database = $sts_c/index.txt
new_certs_dir = $sts_c/new
serial = $sts_c/serial
certificate = $STS_DIR/ca.pem
private_key = $STS_DIR/ca.key
default_md = sha256
policy = sts_policy
unique_subject = no
[sts_policy]
commonName = supplied
EOF
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$STS_DIR/ca.key" -out "$STS_DIR/ca.pem" -days 30 \
		-subj "/CN=tlswatch MTA-STS test CA" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		>"$sts_c/err" 2>&1 || bail "sts_ca: $(cat "$sts_c/err")"
	STS_CA=$STS_DIR/ca.pem
}

sts_cert() { # [-expired | -days N | -self] FILE NAME...
	sts_from=-1 sts_to=90 sts_self=
	while :; do
		case $1 in
		-expired) sts_from=-30 sts_to=-1 ;;
		-days) sts_to=$2; shift ;;
		-self) sts_self=1 ;;
		*) break ;;
		esac
		shift
	done
	STS_CERT=$STS_DIR/$1.pem STS_KEY=$STS_DIR/$1.key
	shift
	sts_san=
	for sts_n in "$@"; do sts_san="${sts_san:+$sts_san,}DNS:$sts_n"; done
	printf '%s\n' "subjectAltName=$sts_san" "basicConstraints=CA:FALSE" \
		"keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" \
		>"$STS_CERT.ext"
	if [ -n "$sts_self" ]; then
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout "$STS_KEY" -out "$STS_CERT" -days "$sts_to" -subj "/CN=$1" \
			-addext "subjectAltName=$sts_san" >"$STS_CERT.err" 2>&1
	else
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout "$STS_KEY" -out "$STS_CERT.csr" -subj "/CN=$1" \
			>"$STS_CERT.err" 2>&1 &&
		openssl ca -batch -notext -config "$STS_DIR/ca/ca.cnf" \
			-in "$STS_CERT.csr" -out "$STS_CERT" -extfile "$STS_CERT.ext" \
			-startdate "$(sts_date "$sts_from")" \
			-enddate "$(sts_date "$sts_to")" >>"$STS_CERT.err" 2>&1
	fi || bail "sts_cert $*: $(cat "$STS_CERT.err")"
}

# A loopback port free for both UDP and TCP, as a nameserver takes both.
sts_free_port() {
	"$STS_PYTHON" tests/lib/free_port.py
}

# The zone file as dnsmasq options. A plain TEXT is quoted so that ; , #
# and spaces are text; "a" "b" becomes dnsmasq's "a","b" (several strings).
# shellcheck disable=SC2016 # an awk program
sts_awk_zone='
/^[[:space:]]*(#|$)/ { next }
{ type = toupper($2) }
type == "TXT" {
	t = $0
	sub(/^[^[:space:]]+[[:space:]]+[^[:space:]]+[[:space:]]+/, "", t)
	if (t ~ /^"/)
		gsub(/"[[:space:]]+"/, "\",\"", t)
	else {
		gsub(/[\\"]/, "\\\\&", t)
		t = "\"" t "\""
	}
	print "txt-record=" $1 "," t
	next
}
type == "MX" && NF == 4 { print "mx-host=" $1 "," $4 "," $3; next }
type == "A" && NF == 3 { print "host-record=" $1 "," $3; next }
type == "CNAME" && NF == 3 { print "cname=" $1 "," $3; next }
{ print "line " NR ": " $0; bad = 1 }
END { exit bad }
'

sts_dns_start() { # ZONE [PORT]
	awk "$sts_awk_zone" "$1" >"$1.conf" || bail "sts_dns_start: $1: $(grep '^line' "$1.conf")"
	# Its configuration lines stop at 1024 bytes ("missing \"" beyond).
	awk 'length > 1024 { exit 1 }' "$1.conf" ||
		bail "sts_dns_start: a record in $1 is too long for dnsmasq"
	DNS_PORT=${2:-$(sts_free_port)}
	# Foreground, no pid file, no privilege drop, nothing read from /etc,
	# every other name NXDOMAIN rather than forwarded anywhere; no cache,
	# so that a restart with other records is seen at once.
	"$DNSMASQ" --keep-in-foreground --conf-file="$1.conf" --pid-file \
		--user="$(id -un)" --no-resolv --no-hosts --local=/#/ \
		--cache-size=0 --bind-interfaces --listen-address=127.0.0.1 \
		--port="$DNS_PORT" --log-facility=- --log-queries >"$1.log" 2>&1 &
	DNS_PID=$!
	echo "$DNS_PID" >"$STS_DIR/dns.pid"
	for _ in $(seq 50); do
		kill -0 "$DNS_PID" 2>/dev/null || break
		# Any answer, NXDOMAIN included, means it is serving.
		DNS_TIMEOUT=0.1 sts_dig dns-start.invalid A >/dev/null 2>&1
		[ $? -ne 3 ] && return 0
	done
	bail "dnsmasq did not answer on port $DNS_PORT: $(cat "$1.log")"
}

sts_dns_stop() {
	sts_kill "$STS_DIR/dns.pid"
	DNS_PID=
}


sts_dig() { # [-s] NAME TYPE [PORT]
	sts_s=-
	[ "$1" = -s ] && { sts_s=-s; shift; }
	"$STS_PYTHON" tests/lib/dns_query.py "$sts_s" "$1" "$2" "${3:-$DNS_PORT}" "${DNS_TIMEOUT:-2}"
}

# Each connection in a thread of its own, the handshake there too: a
# client that connects and says nothing holds up no other. The SNI the
# client sent is in the log, for tests that want it to be mta-sts.DOMAIN.
sts_py_https='
import http.server, os, ssl, sys, threading, time, urllib.parse, warnings
warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.0 and 1.1
addr, cert, key, root, tls = sys.argv[1:6]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
if tls == "tls1.1":
    # OpenSSL 3 allows TLS 1.0 and 1.1 only at security level 0 (their
    # MD5+SHA1 handshake signature is below level 1).
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
else:
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
seen = threading.local()
def sni(sock, name, _):
    seen.name = name
ctx.sni_callback = sni
def log(*words):
    print(*words, flush=True)
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10
    def log_message(self, *args):
        pass
    def do_GET(self):
        self.answer(True)
    def do_HEAD(self):
        self.answer(False)
    def answer(self, with_body):
        path = urllib.parse.urlsplit(self.path).path
        f = os.path.join(root, os.path.normpath("/" + path).lstrip("/"))
        def ctl(ext):
            try:
                with open(f + "." + ext) as c:
                    return c.read().strip()
            except OSError:
                return ""
        if ctl("delay"):
            time.sleep(float(ctl("delay")))
        where = ctl("location")
        try:
            with open(f, "rb") as c:
                body, status = c.read(), 200
        except OSError:
            body, status = b"not found\n", 404
        status = int(ctl("status") or (301 if where else status))
        self.send_response(status)
        self.send_header("Content-Type", ctl("type") or "text/plain")
        self.send_header("Content-Length", str(len(body)))
        if where:
            self.send_header("Location", where)
        self.send_header("Connection", "close")
        self.end_headers()
        if with_body:
            self.wfile.write(body)
        self.close_connection = True
        log(getattr(seen, "name", None), self.command, self.path,
            "host=%s" % self.headers.get("Host"), status)
class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    def finish_request(self, raw, client):
        raw.settimeout(10)
        seen.name = None
        try:
            conn = ctx.wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError) as e:
            log(seen.name, "handshake failed:", e)
            return
        try:
            Handler(conn, client, self)
        except OSError as e:  # the client gave up (a .delay, say)
            log(seen.name, "connection lost:", e)
        finally:
            conn.close()
try:
    server = Server((addr, 443), Handler)
except OSError as e:
    log("cannot listen on %s:443: %s" % (addr, e))
    sys.exit(1)
open(os.environ["STS_READY"], "w").close()
server.serve_forever()
'

sts_https_start() { # ADDR CERT KEY DOCROOT [tls1.1]
	sts_spawn "https-$1" "$sts_py_https" "$1" "$2" "$3" "$4" "${5:-}"
	HTTPS_PID=$sts_pid HTTPS_LOG=$STS_DIR/https-$1.log
}

sts_https_stop() { sts_kill "$STS_DIR/https-$1.pid"; } # ADDR

# Postfix rather than a script: the checker meets a real smtpd's EHLO
# answer, STARTTLS and TLS stack, and its maillog tells what the client
# did. Starting one takes about 0.3 s. Its master runs detached, so each
# instance is stopped by postfix stop on its own configuration.
sts_smtp_start() { # ADDR CERT KEY [nostarttls | tls1.1 | PARAM=VALUE]...
	SMTP_DIR=$STS_DIR/smtp-$1
	SMTP_LOG=$SMTP_DIR/maillog
	[ -f "$SMTP_DIR/queue/pid/master.pid" ] &&
		sts_running "$(tr -dc 0-9 <"$SMTP_DIR/queue/pid/master.pid")" &&
		bail "sts_smtp_start: Postfix on $1 started already"
	sts_pc="postconf -c $SMTP_DIR/etc"
	# Postfix's account goes through $STS_DIR to its queue, whatever the
	# test's umask (tap.sh's is 027).
	(umask 022 && mkdir -p "$SMTP_DIR/etc" "$SMTP_DIR/queue")
	# Debian's pristine files, not /etc/postfix's.
	cp /usr/share/postfix/main.cf.debian "$SMTP_DIR/etc/main.cf"
	cp /usr/share/postfix/master.cf.dist "$SMTP_DIR/etc/master.cf"
	# inet_interfaces must name an address of an interface, and ADDR is
	# only routed to lo, not on it: so 127.0.0.1 there, and ADDR:25 in
	# master.cf, which Postfix binds as it is. No DNS at all (the client's
	# PTR included): nothing leaves the machine.
	$sts_pc -e "queue_directory = $SMTP_DIR/queue" \
		"data_directory = $SMTP_DIR/data" "maillog_file = $SMTP_LOG" \
		"maillog_file_prefixes = $STS_DIR" \
		"inet_interfaces = 127.0.0.1" "inet_protocols = ipv4" \
		"myhostname = mx.invalid" "mydestination =" "mynetworks = 127.0.0.1/32" \
		"alias_maps =" "alias_database =" "default_transport = error" \
		"relay_transport = error" "smtpd_peername_lookup = no" \
		"smtp_dns_support_level = disabled" \
		"smtpd_tls_cert_file = $2" "smtpd_tls_key_file = $3" \
		"smtpd_tls_security_level = may" "smtpd_tls_loglevel = 1" ||
		bail "sts_smtp_start $1: postconf failed"
	shift 3
	for sts_o in "$@"; do
		case $sts_o in
		nostarttls) sts_o="smtpd_tls_security_level = none" ;;
		# Security level 0 for TLS 1.0 and 1.1 (as in sts_py_https); the
		# opportunistic smtpd uses the medium list.
		tls1.1) $sts_pc -e "tls_medium_cipherlist = DEFAULT:@SECLEVEL=0"
			sts_o="smtpd_tls_protocols = >=TLSv1, <=TLSv1.1" ;;
		*=*) ;;
		*) bail "sts_smtp_start: unknown option $sts_o" ;;
		esac
		$sts_pc -e "$sts_o" || bail "sts_smtp_start: postconf -e '$sts_o' failed"
	done
	sts_a=${SMTP_DIR##*/smtp-}
	$sts_pc -M# smtp/inet
	$sts_pc -F '*/*/chroot = n'
	$sts_pc -Me "$sts_a:25/inet = $sts_a:25 inet n - n - - smtpd"
	# Postfix reads no main.cf changed in the last second or two: it waits
	# (in 0.3 s steps) until the file is still, 2 s a start otherwise.
	touch -d '1 minute ago' "$SMTP_DIR/etc/main.cf" "$SMTP_DIR/etc/master.cf"
	(umask 022 && "$STS_POSTFIX" -c "$SMTP_DIR/etc" start) >"$SMTP_DIR/start.log" 2>&1 ||
		bail "postfix start for $sts_a failed: $(cat "$SMTP_DIR/start.log" "$SMTP_LOG" 2>/dev/null)"
	sts_listening "$sts_a" 25 ||
		bail "Postfix does not listen on $sts_a:25: $(cat "$SMTP_LOG" 2>/dev/null)"
	SMTP_PID=$(tr -dc 0-9 <"$SMTP_DIR/queue/pid/master.pid")
}

sts_smtp_stop() { # ADDR
	sts_d=$STS_DIR/smtp-$1
	[ -f "$sts_d/etc/main.cf" ] || return 0
	sts_p=
	[ -f "$sts_d/queue/pid/master.pid" ] && sts_p=$(tr -dc 0-9 <"$sts_d/queue/pid/master.pid")
	"$STS_POSTFIX" -c "$sts_d/etc" stop >/dev/null 2>&1
	if [ -n "$sts_p" ]; then
		for _ in $(seq 100); do
			sts_running "$sts_p" || break
			sleep 0.1
		done
		sts_running "$sts_p" && kill -9 "$sts_p" 2>/dev/null
	fi
	# An smtpd child holds the listening socket too until it sees its
	# master gone: a client would be taken in and never answered.
	sts_listening "$1" 25 closed
	return 0
}

sts_py_tarpit='
import os, socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(64)
open(os.environ["STS_READY"], "w").close()
held = []
while True:
    held.append(s.accept()[0])
'

sts_tarpit_start() { # ADDR PORT
	sts_spawn "tarpit-$1-$2" "$sts_py_tarpit" "$1" "$2"
	TARPIT_PID=$sts_pid
}

sts_tarpit_stop() { sts_kill "$STS_DIR/tarpit-$1-$2.pid"; } # ADDR PORT

sts_cleanup() {
	for sts_f in "$STS_DIR"/smtp-*/etc; do
		[ -d "$sts_f" ] || continue
		sts_f=${sts_f%/etc}
		sts_smtp_stop "${sts_f##*/smtp-}"
	done
	for sts_f in "$STS_DIR"/*.pid; do
		[ -f "$sts_f" ] && sts_kill "$sts_f"
	done
	DNS_PID=
	rm -rf "$STS_DIR"
}
