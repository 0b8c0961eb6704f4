#!/bin/bash
# tlswatch digest --mail-to never hangs on sendmail. The case from the
# field: Postfix's sendmail run without the right to gain privileges
# (NoNewPrivileges=yes in a systemd unit, here setpriv --no-new-privs) hands
# the message to postdrop, which cannot write to the maildrop queue and
# retries for ever. With [digest] sendmail-timeout the digest gives up,
# kills sendmail and the postdrop it started, and exits 75 saying why.
# Needs root (the digest runs as nobody) and the postfix package, for
# its sendmail and postdrop; nothing reaches a queue (postdrop is refused).
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"
. "$(dirname "$0")/mta.sh"

[ "$(id -u)" -eq 0 ] || skip_all "runs the digest as nobody (runuser): needs root"
mta_require postfix
command -v setpriv >/dev/null || bail "setpriv (util-linux) is missing"
[ -d /var/spool/postfix/maildrop ] || bail "the postfix package left no maildrop queue"
e2e_setup
printf '[digest]\nsendmail = /usr/sbin/sendmail -t -oi\nsendmail-timeout = 2s\n' \
	>>"$T/tlswatch.conf"

# postdrop processes of nobody still alive (not zombies waiting for a reaper)
postdrops() { ps -u nobody -o stat=,comm= | awk '$1 !~ /^Z/ && $2 == "postdrop"' | wc -l; }
before=$(postdrops)

start=$(date +%s)
timeout -k 5 60 runuser -u nobody -- setpriv --no-new-privs "$T/tlswatch" digest --config "$T/tlswatch.conf" \
	--since 7d --mail-to postmaster@example.com >"$T/out" 2>"$T/err"
rc=$?
took=$(($(date +%s) - start))
is "$rc" 75 "sendmail that never finishes: exit 75 (run again later)"
like "$(cat "$T/err")" 'sendmail did not finish within 2 s \(\[digest\] sendmail-timeout\), killed: digest not sent' \
	"the error names the key and says the digest was not sent"
like "$(cat "$T/err")" 'postdrop: warning: .*Permission denied' \
	"it was postdrop's endless retry (its own warning is in stderr)"
ok "$([ "$took" -lt 30 ] && echo y)" "it returned ($took s; the timeout is 2 s)"
sleep 1
is "$(postdrops)" "$before" "no postdrop of the digest is left running"

# A value that is not a duration is a configuration error naming the key.
printf '[digest]\nsendmail-timeout = soon\n' >"$T/bad.conf"
"$T/tlswatch" digest --config "$T/bad.conf" --since 7d >/dev/null 2>"$T/err"
rc=$?
is "$rc" 78 "sendmail-timeout = soon: exit 78"
like "$(cat "$T/err")" "bad.conf: \\[digest\\] sendmail-timeout: expected a duration" \
	"the error names file, group and key"

done_testing
