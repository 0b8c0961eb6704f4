#!/bin/sh
# tlswatch alert: each bad [alert], [rule NAME] or [webhook NAME] is one line
# on stderr naming the file, group and key, and exit 78, before any
# database is touched; bad options exit 64.
. "$(dirname "$0")/../lib/tap.sh"

TW=./tlswatch
T=$(mktemp -d "${TMPDIR:-/tmp}/tw-alert-config.XXXXXX")
trap 'rm -rf "$T"' EXIT
HOOK='[webhook ops]
url = http://127.0.0.1:9/hook'

# bad CONFIG-TEXT EXPECTED-ERE NAME
bad() {
	printf '%s\n' "$1" >"$T/c.conf"
	$TW alert --config "$T/c.conf" --list >/dev/null 2>"$T/err"; rc=$?
	is "$rc" 78 "$3: exit 78"
	is "$(wc -l <"$T/err" | tr -d ' ')" 1 "$3: one line"
	like "$(cat "$T/err")" "^tlswatch: $T/c.conf: $2" "$3: names file, group, key"
}

bad "$HOOK
[rule r]
notify = ops
windw = 24h" "\\[rule r\\] windw: unknown key" "unknown key"
bad "$HOOK
[rule r]
notify = ops
window = 24x" "\\[rule r\\] window: expected a duration \\(a number with s, m, h or d\\), got '24x'" "bad duration"
bad "$HOOK
[rule r]
notify = ops;nosuch" "\\[rule r\\] notify: no such webhook, got 'nosuch'" "unknown webhook"
bad "$HOOK
[rule r]
window = 1h" "\\[rule r\\] notify: missing" "notify missing"
bad "$HOOK
[rule r]
notify = ops
min-failure-rate = 150%" "\\[rule r\\] min-failure-rate: expected a rate \\(1% or 0.01\\), got '150%'" "rate over 100%"
bad "$HOOK
[rule r]
notify = ops
min-failure-rate = 2" "\\[rule r\\] min-failure-rate: expected a rate" "fraction over 1"
bad "$HOOK
[rule r]
notify = ops
min-failed-sessions = -1" "\\[rule r\\] min-failed-sessions: expected a whole number, got '-1'" "negative count"
bad "$HOOK
[rule r]
notify = ops
silent-for = 3d" "\\[rule r\\] silent-for: only used by kind = silence" "silent-for on a threshold rule"
bad "$HOOK
[rule r]
kind = silence
notify = ops
window = 1d" "\\[rule r\\] window: not used by kind = silence" "window on a silence rule"
bad "$HOOK
[rule r]
kind = quiet
notify = ops" "\\[rule r\\] kind: expected threshold or silence, got 'quiet'" "bad kind"
bad "$HOOK
[rule r]
group-by = ip
notify = ops" "\\[rule r\\] group-by: expected none or reporter or mx, got 'ip'" "bad group-by"
bad "[webhook ops]
format = slack" "\\[webhook ops\\] url: missing" "webhook without url"
bad "[webhook ops]
url = ftp://example.com/" "\\[webhook ops\\] url: expected an http:// or https:// URL" "webhook url scheme"
bad "$HOOK
format = xml" "\\[webhook ops\\] format: expected slack, teams or generic, got 'xml'" "bad format"
bad "$HOOK
timeout = soon" "\\[webhook ops\\] timeout: expected a duration" "bad timeout"
bad "$HOOK
secret = a
secret-file = /etc/hostname" "\\[webhook ops\\] secret-file: give secret or secret-file, not both" "secret and secret-file"
bad "$HOOK
secret-file = $T/nosuch" "\\[webhook ops\\] secret-file: Failed to open file" "unreadable secret-file"
bad "[alert]
max-attempts = 0" "\\[alert\\] max-attempts: must be at least 1, got '0'" "max-attempts 0"
bad "[alert]
on-ingest = maybe" "\\[alert\\] on-ingest: expected true or false, got 'maybe'" "bad on-ingest"
bad "[alert]
retries = 3" "\\[alert\\] retries: unknown key" "unknown [alert] key"
bad "[webhook o/ps]
url = http://x/" "\\[webhook o/ps\\]: a name is letters" "bad webhook name"

# The URL (a secret) is never printed, even in errors.
printf '[webhook ops]\nurl = http://127.0.0.1:9/TOPSECRET\nformat = xml\n' >"$T/c.conf"
$TW alert --config "$T/c.conf" --list >/dev/null 2>"$T/err"
ok "$(grep -v TOPSECRET "$T/err")" "the webhook URL is not in the error"

# A webhook URL or secret in a file every account may read: a warning
# naming the file (README: Hardening), once; none at mode 640.
printf '%s\n' "$HOOK" >"$T/c.conf"
chmod 644 "$T/c.conf"
$TW alert --config "$T/c.conf" --test nosuch >/dev/null 2>"$T/err"
like "$(cat "$T/err")" "^tlswatch: $T/c.conf holds webhook URLs and every account may read it: chmod o-r $T/c.conf" \
	"a world-readable configuration with a webhook: warned"
chmod 640 "$T/c.conf"
$TW alert --config "$T/c.conf" --test nosuch >/dev/null 2>"$T/err"
is "$(grep -c 'every account may read' "$T/err")" 0 "mode 640: no warning"
printf 'sekrit\n' >"$T/secret"
chmod 644 "$T/secret"
printf '%s\nsecret-file = %s\n' "$HOOK" "$T/secret" >"$T/c.conf"
$TW alert --config "$T/c.conf" --test nosuch >/dev/null 2>"$T/err"
like "$(cat "$T/err")" "^tlswatch: $T/secret holds a webhook secret and every account may read it" \
	"a world-readable secret-file: warned"
is "$(grep -c 'every account may read' "$T/err")" 1 "... and the configuration (640) is not"

# Options.
$TW alert --now yesterday >/dev/null 2>"$T/err"; rc=$?
is "$rc" 64 "--now nonsense: exit 64"
like "$(cat "$T/err")" "--now: expected a time like" "--now nonsense: says what it wants"
$TW alert extra >/dev/null 2>&1; rc=$?
is "$rc" 64 "an argument: exit 64"
printf '%s\n' "$HOOK" >"$T/c.conf"
$TW alert --config "$T/c.conf" --test nosuch >/dev/null 2>"$T/err"; rc=$?
is "$rc" 64 "--test with an unknown webhook: exit 64"
like "$(cat "$T/err")" "no \\[webhook nosuch\\]" "--test unknown webhook: named"

done_testing
