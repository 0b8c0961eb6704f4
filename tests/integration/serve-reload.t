#!/bin/bash
# tlswatch serve and SIGHUP: a valid configuration file is read again and
# the new workers use it (here max-message-size, which LHLO announces as
# SIZE); a broken one is refused with a line naming file, group and key,
# and one that names other listeners is refused whole (they need a
# restart); the running configuration keeps serving. No database is needed to
# greet. SIGTERM then ends it with exit 0.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/serve.sh"

TW=./tlswatch
T=$(mktemp -d "${TMPDIR:-/tmp}/tw-serve-reload.XXXXXX")
PID=
trap '[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$T"' EXIT
port=$(free_port) ||
	bail "python3 is needed to find a free port (make deps)"

conf() { printf '[ingest]\nmax-message-size = %s\n[serve]\nlmtp = inet:127.0.0.1:%s\nworkers = 2\n' "$1" "$port" >"$T/c.conf"; }
# The SIZE a new session's LHLO announces.
size() {
	local line out=
	exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
	printf 'LHLO test\r\nQUIT\r\n' >&3
	while IFS= read -r -t 5 line <&3; do out="$out${line%$'\r'} "; done
	exec 3>&-
	echo "$out" | sed -n 's/.*250 SIZE \([0-9]*\) .*/\1/p'
}

conf 1M
$TW serve --config "$T/c.conf" 2>"$T/err" &
PID=$!
wait_ready() { for _ in $(seq 50); do [ -n "$(size 2>/dev/null)" ] && return 0; sleep 0.1; done; return 1; }
wait_ready || bail "serve did not answer: $(cat "$T/err")"
is "$(size)" 1048576 "LHLO announces max-message-size (1M)"

conf 2M
kill -HUP "$PID"
for _ in $(seq 50); do [ "$(size)" = 2097152 ] && break; sleep 0.1; done
is "$(size)" 2097152 "after SIGHUP: the new max-message-size (2M)"
like "$(cat "$T/err")" "SIGHUP: configuration read again from $T/c.conf" "... and it says so"

printf '[serve]\nlmtp = inet:127.0.0.1:%s\nworkers = lots\n' "$port" >"$T/c.conf"
kill -HUP "$PID"
for _ in $(seq 50); do grep -q 'the running configuration stays' "$T/err" && break; sleep 0.1; done
like "$(cat "$T/err")" "SIGHUP: $T/c.conf: \\[serve\\] workers: expected a number from 1 to 256, got 'lots': the running configuration stays" \
	"a broken file on SIGHUP: refused, naming file, group and key"
is "$(size)" 2097152 "... and the running configuration keeps serving"

# Another listener is for a restart: refused whole, the running one stays.
other=$(free_port)
printf '[ingest]\nmax-message-size = 3M\n[serve]\nlmtp = inet:127.0.0.1:%s\nworkers = 2\n' "$other" >"$T/c.conf"
kill -HUP "$PID"
for _ in $(seq 50); do grep -q 'needs a restart' "$T/err" && break; sleep 0.1; done
like "$(cat "$T/err")" "SIGHUP: $T/c.conf: the listeners or \\[serve\\] workers changed, which needs a restart: the running configuration stays" \
	"another listener on SIGHUP: refused"
is "$(size)" 2097152 "... and nothing of that file applies (max-message-size stays 2M)"

kill -TERM "$PID"
wait "$PID"
rc=$?
PID=
is "$rc" 0 "SIGTERM: exit 0"
like "$(tail -n 1 "$T/err")" "tlswatch: stopped" "... saying it stopped"

# Started with SIGCHLD ignored (a supervisor may pass that on): a worker
# killed is still replaced, and SIGTERM still ends it at once.
conf 1M
env --ignore-signal=CHLD $TW serve --config "$T/c.conf" 2>"$T/err" &
PID=$!
wait_ready || bail "serve did not answer: $(cat "$T/err")"
workers() { pgrep -P "$PID" | wc -l; }
is "$(workers)" 2 "SIGCHLD ignored at start: two workers"
kill -KILL "$(pgrep -P "$PID" | head -n 1)"
sleep 0.5
for _ in $(seq 50); do [ "$(workers)" -eq 2 ] && [ -n "$(size 2>/dev/null)" ] && break; sleep 0.1; done
is "$(workers)" 2 "... a worker killed is replaced"
like "$(cat "$T/err")" "worker [0-9]+ ended \\(signal 9\\): starting another" "... and it says so"
start=$(date +%s)
kill -TERM "$PID"
wait "$PID"
rc=$?
PID=
is "$rc" 0 "... SIGTERM: exit 0"
ok "$([ $(($(date +%s) - start)) -le 5 ] && echo y)" "... at once, not after the 30 s grace"

done_testing
