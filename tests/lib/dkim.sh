# dkim.sh: DKIM keys, signed messages and loopback DNS for one test file
# (source tap.sh first: the start functions bail when a server won't start).
#   dkim_keygen NAME [BITS]  RSA key (BITS, default 2048) in
#                       $DKIM_DIR/NAME.pem; prints the p= value (base64
#                       SubjectPublicKeyInfo DER, one line)
#   dkim_sign KEYNAME DOMAIN SELECTOR [--length] [--expire SECONDS]
#                       [--headers a:b:c] <msg >signed
#                       prepends a relaxed/relaxed rsa-sha256 DKIM-Signature
#                       (tests/lib/dkim_sign.py says what the options do),
#                       folded with the message's own line endings
#   dns_start ZONEFILE  dnsmasq on 127.0.0.1, serving a TXT record for each
#                       "NAME TEXT" line (# comments); sets DNS_PORT,
#                       DNS_PID; writes ZONEFILE.conf, and ZONEFILE.log
#                       (its log, each query included)
#   dns_stop            stops it
#   dns_blackhole_start a UDP+TCP nameserver that never answers; sets
#                       BLACKHOLE_PORT, BLACKHOLE_PID
#   dns_blackhole_stop  stops it
#   dns_txt NAME PORT   prints the TXT record(s) of NAME from 127.0.0.1:PORT,
#                       one a line, character-strings joined; status 1 when
#                       there is none (rcode on stderr), 3 when no answer
#                       came within $DNS_TIMEOUT seconds (default 2)
#   dkim_cleanup        stops both servers and removes $DKIM_DIR: the caller
#                       puts it in its EXIT trap (trap 'dkim_cleanup' EXIT,
#                       or beside pg_cleanup), as nothing here sets a trap

# Made now, not on first use: dkim_keygen runs in $(...), whose assignments
# the test never sees.
: "${DKIM_DIR:=$(mktemp -d "${TMPDIR:-/tmp}/dkim.XXXXXX")}"
# Debian's python3-dkim is in /usr/bin/python3's dist-packages; a python3
# earlier in PATH (pyenv, a venv) does not have it.
: "${DKIM_PYTHON:=/usr/bin/python3}"
# Not in a non-root PATH.
: "${DNSMASQ:=/usr/sbin/dnsmasq}"

dkim_keygen() { # NAME [BITS]
	openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:${2:-2048}" \
		-out "$DKIM_DIR/$1.pem" 2>/dev/null || return 1
	openssl pkey -in "$DKIM_DIR/$1.pem" -pubout -outform DER | openssl base64 -A
	echo
}

dkim_sign() { # KEYNAME DOMAIN SELECTOR [OPTIONS...]
	dkim_key=$DKIM_DIR/$1.pem
	shift
	"$DKIM_PYTHON" tests/lib/dkim_sign.py "$dkim_key" "$@"
}

dns_txt() { # NAME PORT
	"$DKIM_PYTHON" tests/lib/dns_query.py - "$1" TXT "$2" "${DNS_TIMEOUT:-2}"
}

# A loopback port free for both UDP and TCP, as a nameserver takes both.
dkim_free_port() {
	"$DKIM_PYTHON" tests/lib/free_port.py
}

dns_start() { # ZONEFILE
	# One txt-record a line, quoted so that ; , # and spaces are text;
	# dnsmasq cuts a value over 255 bytes into character-strings itself.
	sed -n -e 's/[\\"]/\\&/g' \
		-e 's/^\([^#[:space:]][^[:space:]]*\) \(.*\)$/txt-record=\1,"\2"/p' \
		"$1" >"$1.conf"
	# Its configuration lines stop at 1024 bytes ("missing \"" beyond):
	# that is values up to about 990 bytes (a 4096-bit key's is 736).
	awk 'length > 1024 { exit 1 }' "$1.conf" ||
		bail "dns_start: a record in $1 is too long for dnsmasq"
	DNS_PORT=$(dkim_free_port)
	# Foreground, no pid file, no privilege drop (so root and others alike),
	# nothing read from /etc, and every other name NXDOMAIN here rather
	# than forwarded anywhere; each query logged, for tests that count them.
	"$DNSMASQ" --keep-in-foreground --conf-file="$1.conf" --pid-file \
		--user="$(id -un)" --no-resolv --no-hosts --local=/#/ \
		--cache-size=0 --bind-interfaces --listen-address=127.0.0.1 \
		--port="$DNS_PORT" --log-facility=- --log-queries >"$1.log" 2>&1 &
	DNS_PID=$!
	for _ in $(seq 50); do
		kill -0 "$DNS_PID" 2>/dev/null || break
		# Any answer, NXDOMAIN included, means it is serving.
		DNS_TIMEOUT=0.1 dns_txt dns-start.invalid "$DNS_PORT" >/dev/null 2>&1
		[ $? -ne 3 ] && return 0
	done
	bail "dnsmasq did not answer on port $DNS_PORT: $(cat "$1.log")"
}

dns_stop() {
	[ -n "${DNS_PID:-}" ] || return 0
	kill "$DNS_PID" 2>/dev/null
	wait "$DNS_PID" 2>/dev/null
	DNS_PID=
}

# Reads every query, answers none, keeps TCP connections open: a resolver
# must give up on its own. It picks its port (free for UDP and TCP) and
# writes it to a file once listening, so there is no race to wait out.
dkim_py_blackhole='
import os, selectors, socket, sys
while True:
    u, t = socket.socket(socket.AF_INET, socket.SOCK_DGRAM), socket.socket()
    u.bind(("127.0.0.1", 0))
    try:
        t.bind(u.getsockname())
        break
    except OSError:
        u.close(); t.close()
t.listen(16)
sel = selectors.DefaultSelector()
sel.register(u, selectors.EVENT_READ)
sel.register(t, selectors.EVENT_READ)
with open(sys.argv[1] + ".new", "w") as f:
    f.write("%d\n" % u.getsockname()[1])
os.rename(sys.argv[1] + ".new", sys.argv[1])
while True:
    for key, _ in sel.select():
        s = key.fileobj
        if s is t:
            sel.register(t.accept()[0], selectors.EVENT_READ)
        elif not s.recv(65535) and s is not u:
            sel.unregister(s)
            s.close()
'

dns_blackhole_start() {
	rm -f "$DKIM_DIR/blackhole.port"
	"$DKIM_PYTHON" -c "$dkim_py_blackhole" "$DKIM_DIR/blackhole.port" &
	BLACKHOLE_PID=$!
	for _ in $(seq 50); do
		[ -f "$DKIM_DIR/blackhole.port" ] && break
		sleep 0.1
	done
	[ -f "$DKIM_DIR/blackhole.port" ] || bail "the DNS blackhole did not start"
	BLACKHOLE_PORT=$(cat "$DKIM_DIR/blackhole.port")
}

dns_blackhole_stop() {
	[ -n "${BLACKHOLE_PID:-}" ] || return 0
	kill "$BLACKHOLE_PID" 2>/dev/null
	wait "$BLACKHOLE_PID" 2>/dev/null
	BLACKHOLE_PID=
}

dkim_cleanup() {
	dns_stop
	dns_blackhole_stop
	rm -rf "$DKIM_DIR"
}
