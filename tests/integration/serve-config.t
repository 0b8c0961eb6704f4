#!/bin/sh
# tlswatch serve before it serves: a missing or bad [serve] is exit 78 with
# one line naming file, group and key; an argument is 64; a listener it
# cannot open (no such folder, a port in use) is 75, run again later.
. "$(dirname "$0")/../lib/tap.sh"

TW=./tlswatch
T=$(mktemp -d "${TMPDIR:-/tmp}/tw-serve-config.XXXXXX")
trap 'rm -rf "$T"' EXIT

# bad CONFIG-TEXT EXPECTED-ERE NAME
bad() {
	printf '%s\n' "$1" >"$T/c.conf"
	timeout 10 $TW serve --config "$T/c.conf" >/dev/null 2>"$T/err"; rc=$?
	is "$rc" 78 "$3: exit 78"
	is "$(wc -l <"$T/err" | tr -d ' ')" 1 "$3: one line"
	like "$(cat "$T/err")" "^tlswatch: $T/c.conf: $2" "$3: names file, group, key"
}

bad "[database]" "no \\[serve\\] group: name a listener" "no [serve]"
bad "[serve]
workers = 2" "\\[serve\\] lmtp: missing" "no listener"
bad "[serve]
lmtp = tcp:127.0.0.1:24" "\\[serve\\] lmtp: expected unix:/PATH or inet:ADDRESS:PORT, got 'tcp:127.0.0.1:24'" \
	"a listener of no known kind"
bad "[serve]
lmtp = unix:$T/s
workers = 0" "\\[serve\\] workers: expected a number from 1 to 256, got '0'" "workers 0"
bad "[serve]
lmtp = unix:$T/s
idle-timeout = soon" "\\[serve\\] idle-timeout: expected a duration" "idle-timeout not a duration"
bad "[serve]
lmtp = unix:$T/s
threads = 8" "\\[serve\\] threads: unknown key" "unknown key"
bad "[serve]
lmtp = unix:$T/s
metrics-domains = 5000" "\\[serve\\] metrics-domains: expected a number from 1 to 1000, got '5000'" \
	"metrics-domains past 1000"

printf '[serve]\nlmtp = unix:%s/s\n' "$T" >"$T/c.conf"
$TW serve --config "$T/c.conf" extra >/dev/null 2>"$T/err"; rc=$?
is "$rc" 64 "an argument: exit 64"

printf '[serve]\nlmtp = inet:no-such-host:24\n' >"$T/c.conf"
timeout 10 $TW serve --config "$T/c.conf" >/dev/null 2>"$T/err"; rc=$?
is "$rc" 78 "a host name where an address is wanted: exit 78"
like "$(cat "$T/err")" "\\[serve\\] lmtp: not an address: 'inet:no-such-host:24'" "... says so"

printf '[serve]\nlmtp = unix:%s/no/such/folder/s\n' "$T" >"$T/c.conf"
timeout 10 $TW serve --config "$T/c.conf" >/dev/null 2>"$T/err"; rc=$?
is "$rc" 75 "a socket in a folder that does not exist: exit 75"
like "$(cat "$T/err")" "\\[serve\\] lmtp: unix:$T/no/such/folder/s: " "... naming the listener"

# A regular file where the socket goes is never replaced.
echo keep >"$T/file"
printf '[serve]\nlmtp = unix:%s/file\n' "$T" >"$T/c.conf"
timeout 10 $TW serve --config "$T/c.conf" >/dev/null 2>"$T/err"; rc=$?
is "$rc" 75 "a regular file at the socket's path: exit 75"
is "$(cat "$T/file")" keep "... and the file is left alone"

# A socket another serve accepts on is not taken over; a stale one is.
# greeting SOCKET: the first three bytes a connection there reads, or
# "refused".
greeting() {
	python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1])
except OSError:
    print("refused")
    sys.exit()
s.settimeout(10)
print(s.recv(3).decode())' "$1"
}
printf '[serve]\nlmtp = unix:%s/live\nworkers = 1\n' "$T" >"$T/live.conf"
$TW serve --config "$T/live.conf" 2>"$T/first.err" &
first=$!
for _ in $(seq 50); do [ -S "$T/live" ] && break; sleep 0.1; done
inode=$(stat -c %i "$T/live")
timeout 10 $TW serve --config "$T/live.conf" >/dev/null 2>"$T/err"; rc=$?
is "$rc" 75 "a second serve on a socket in use: exit 75"
like "$(cat "$T/err")" "unix:$T/live: in use: another tlswatch serve listens there" "... saying so"
is "$(stat -c %i "$T/live")" "$inode" "... and the first one's socket is left in place"
is "$(greeting "$T/live")" 220 "... where the first one still greets"
# Killed, the master cannot stop its workers: they stop themselves
# (parent-death signal), so no orphan keeps the socket.
kill -KILL $first
wait $first 2>/dev/null
for _ in $(seq 50); do [ "$(greeting "$T/live")" = refused ] && break; sleep 0.1; done
is "$(greeting "$T/live")" refused "the first one killed: its workers stop too, nobody accepts there"
ok "$([ -S "$T/live" ] && echo y)" "... and its socket is left behind, stale"
printf '[serve]\nlmtp = unix:%s/live\nworkers = 1\n' "$T" >"$T/live.conf"
$TW serve --config "$T/live.conf" 2>"$T/again.err" &
again=$!
for _ in $(seq 50); do [ "$(stat -c %i "$T/live" 2>/dev/null)" != "$inode" ] && break; sleep 0.1; done
is "$(greeting "$T/live")" 220 "a serve started on the stale socket replaces it and greets"
kill -TERM $again
wait $again
is "$?" 0 "... and stops with exit 0"
ok "$([ ! -e "$T/live" ] && echo y)" "... removing its socket"

done_testing
