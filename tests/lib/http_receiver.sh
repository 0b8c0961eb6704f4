# http_receiver.sh: start tests/lib/http_receiver.py for one test file.
#   recv_start DIR   start it recording into DIR; sets RECV_PORT, RECV_PID
#   recv_status N    answer HTTP N from now on
#   recv_count       how many requests arrived
#   recv_stop        stop it (also done at exit, beside pg_cleanup)
# Also: unused_port, a loopback port nothing listens on.

recv_start() {
	RECV_DIR=$1
	mkdir -p "$RECV_DIR"
	rm -f "$RECV_DIR/port"
	python3 "${RECV_SCRIPT:-$(dirname "$0")/../lib/http_receiver.py}" "$RECV_DIR" &
	RECV_PID=$!
	trap 'recv_stop; pg_cleanup' EXIT
	for _ in $(seq 100); do
		[ -f "$RECV_DIR/port" ] && break
		sleep 0.1
	done
	[ -f "$RECV_DIR/port" ] || bail "the HTTP receiver did not start"
	RECV_PORT=$(cat "$RECV_DIR/port")
}

recv_status() { echo "$1" >"$RECV_DIR/status"; }

recv_count() { ls "$RECV_DIR" | grep -c '^req\.[0-9]*\.body$'; }

recv_stop() {
	[ -n "${RECV_PID:-}" ] || return 0
	kill "$RECV_PID" 2>/dev/null
	wait "$RECV_PID" 2>/dev/null
	RECV_PID=
}

unused_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
