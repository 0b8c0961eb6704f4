# serve.sh: `tlswatch serve` for one test file (source tap.sh and pg.sh
# first).
#   free_port           a loopback TCP port nothing listens on
#   serve_start CONF URL  start $TW serve --config CONF (stderr in
#                       CONF.log), wait until curl gets an answer from URL;
#                       sets SERVE_PID, and the EXIT trap stops it
#   serve_stop          SIGTERM, wait; its exit status in SERVE_RC

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

serve_start() { # CONF URL
	"${TW:-./tlswatch}" serve --config "$1" 2>"$1.log" &
	SERVE_PID=$!
	trap 'serve_stop; pg_cleanup' EXIT
	for _ in $(seq 50); do
		curl -s -o /dev/null "$2" && return 0
		sleep 0.1
	done
	bail "serve did not answer on $2: $(cat "$1.log")"
}

serve_stop() {
	[ -n "${SERVE_PID:-}" ] || return 0
	kill -TERM "$SERVE_PID" 2>/dev/null
	wait "$SERVE_PID"
	SERVE_RC=$?
	SERVE_PID=
}
