#!/bin/bash
# contrib/procmail/procmailrc passes tlswatch's exit status through
# (postfix.md §8): run by hand as `procmail -m RC`, and behind a real
# Postfix pipe(8) as user nobody. 0: stored or quarantined; database down:
# procmail exits 75 and Postfix defers; database back: stored once.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"
. "$(dirname "$0")/mta.sh"

FX=tests/fixtures
mta_require procmail postfix
e2e_setup
RC=$T/procmailrc
sed "s|/usr/local/bin/tlswatch ingest|$T/tlswatch ingest --config $T/tlswatch.conf|" \
	contrib/procmail/procmailrc >"$RC"
grep -q "^| $T/tlswatch ingest" "$RC" ||
	bail "contrib/procmail/procmailrc: no '| /usr/local/bin/tlswatch ingest' line"

# By hand.
procmail -m "$RC" <$FX/rfc-gzip.eml 2>/dev/null; rc=$?
is "$rc" 0 "procmail -m: report, exit 0"
is "$(status_of fixture-rfc-gzip-1@example.net)" stored "procmail -m: the report is stored"
procmail -m "$RC" <$FX/dmarc-zip.eml 2>/dev/null; rc=$?
is "$rc" 0 "procmail -m: DMARC report, exit 0"
is "$(status_of fixture-dmarc-1@example.net)" quarantined "procmail -m: DMARC report quarantined"

pg_stop_server
procmail -m "$RC" <$FX/zip-as-gzip.eml 2>"$T/err"; rc=$?
is "$rc" 75 "procmail -m, database down: exit 75 passed through"
like "$(cat "$T/err")" "tlswatch: cannot connect to database" "procmail -m, database down: tlswatch's reason on stderr"
pg_start_server
is "$(status_of fixture-zip-as-gzip-1@example.net)" "" "procmail -m, database down: nothing written"
procmail -m "$RC" <$FX/zip-as-gzip.eml 2>/dev/null; rc=$?
is "$rc" 0 "procmail -m, database back: exit 0"
is "$(status_of fixture-zip-as-gzip-1@example.net)" stored "procmail -m, database back: stored once"

# Behind Postfix: the contrib transport with argv= procmail -m RC.
pf_start "/usr/bin/procmail -m $RC"
pf_sendmail $FX/octet-stream-name.eml
wait_for 20 is_stored fixture-octet-stream-1@example.net
is "$(status_of fixture-octet-stream-1@example.net)" stored "Postfix + procmail: the report is stored"

pg_stop_server
pf_sendmail $FX/toplevel-gzip.eml
wait_for 20 pf_deferred_on_db
ok "$(pf_deferred_on_db && echo y)" "Postfix + procmail, database down: deferred, delay_reason names the database"
pg_start_server
postqueue -c "$PF/etc" -f
wait_for 20 is_stored fixture-top-gzip-1@example.net
is "$(status_of fixture-top-gzip-1@example.net)" stored "Postfix + procmail, after postqueue -f: stored once"
wait_for 5 eval '[ -z "$(pf_queue)" ]'
is "$(pf_queue)" "" "Postfix + procmail: the queue is empty"
is "$(grep -c 'status=bounced' "$PF/maillog")" 0 "Postfix + procmail: nothing bounced"

done_testing
