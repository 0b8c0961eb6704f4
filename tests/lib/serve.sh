# serve.sh: `tlswatch serve` for one test file (source tap.sh and pg.sh
# first).
#   free_port           a loopback TCP port nothing listens on
#   serve_start CONF URL  start $TW serve --config CONF (stderr in
#                       CONF.log), wait until curl gets an answer from URL;
#                       sets SERVE_PID, and the EXIT trap stops it
#   serve_stop          SIGTERM, wait; its exit status in SERVE_RC
#   serve_alert_start DIR WORKERS [MORE]  serve on DIR/lmtp with WORKERS
#                       workers and a rule, "failing" (10 failed sessions),
#                       that notifies the webhook ops at the receiver
#                       (http_receiver.sh, started here in DIR/recv), then
#                       MORE configuration lines; configuration DIR/c.conf,
#                       log DIR/c.conf.log
#   lmtp_send SOCKET FILE...  one LMTP session (python3's smtplib.LMTP, a
#                       real client) delivering each message; prints the
#                       reply code of each, followed by a space

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

lmtp_send() { # SOCKET FILE...
	python3 -c 'import smtplib, sys
s = smtplib.LMTP(sys.argv[1])
for f in sys.argv[2:]:
    with open(f, "rb") as m:
        r = s.sendmail("tlsrpt@reporter.example", ["tlsrpt@tlswatch.invalid"], m.read())
    print(250 if not r else r)
s.quit()' "$@" | tr '\n' ' '
}

serve_alert_start() { # DIR WORKERS [MORE]
	recv_start "$1/recv"
	serve_alert_metrics=$(free_port)
	cat >"$1/c.conf" <<EOF
[alert]
authenticated-only = false
[webhook ops]
url = http://127.0.0.1:$RECV_PORT/ops
timeout = 2s
[rule failing]
min-failed-sessions = 10
notify = ops
[serve]
lmtp = unix:$1/lmtp
metrics = 127.0.0.1:$serve_alert_metrics
workers = $2
${3:-}
EOF
	serve_start "$1/c.conf" "http://127.0.0.1:$serve_alert_metrics/healthz"
	trap 'serve_stop; recv_stop; pg_cleanup' EXIT
}
