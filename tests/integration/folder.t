#!/bin/sh
# `tlswatch ingest FOLDER` on a plain folder (reports saved from a mail
# client, not a Maildir): every file in it and in its subfolders, in name
# order, Maildirs inside it read as Maildirs; hidden files, FIFOs and links
# to folders (a loop here) left alone. Issue 11, point 6: it failed with
# "a folder but not a Maildir". The expected order is the names' order,
# written here.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"
. "$(dirname "$0")/../lib/hostile.sh"

TW=./tlswatch
pg_start_schema
T=$PG_DIR/folder
F=$T/saved
mkdir -p "$F/2024/june" "$F/2024/box/new" "$F/2024/box/cur" "$F/2024/box/tmp" "$F/.hidden"
one() { report_json '$r->{"report-id"} = "'"$1"'"'; }
one a-plain >"$F/a.json"
one b-gzip | gzip >"$F/b.json.gz"
one c-mail >"$T/c.json"
mail_part application/tlsrpt+json "$T/c.json" >"$F/2024/c.eml"
one d-june >"$F/2024/june/d.json"
one e-maildir >"$T/e.json"
mail_part application/tlsrpt+json "$T/e.json" >"$F/2024/box/new/1.eml"
one x-hidden >"$F/.hidden/x.json"
one y-hidden >"$F/.y.json"
ln -s .. "$F/2024/june/up"   # a loop, if followed
mkfifo "$F/2024/pipe"         # would block a read

$TW ingest "$F" 2>"$T/err"; rc=$?
is "$rc" 0 "a plain folder: exit 0"
like "$(tail -n 1 "$T/err")" "5 stored, 0 duplicate, 0 quarantined, 0 failed" "five reports stored"
# Name order, depth first, in bytes: "2024" sorts before "a.json", and in
# it box/ (the Maildir) before c.eml before june/.
is "$(q "select string_agg(r.report_id, ' ' order by m.id) from tlswatch.messages m
          join tlswatch.reports r on r.message_ref = m.id")" \
	"e-maildir c-mail d-june a-plain b-gzip" "every report, in name order, the Maildir inside read too"
is "$(q "select count(*) from tlswatch.reports where report_id like '%hidden'")" 0 "hidden files left out"
like "$(cat "$T/err")" "skipped .*2024/june/up: not a file or a folder" "the link to a folder is named, not followed"
like "$(cat "$T/err")" "skipped .*2024/pipe: not a file or a folder" "the FIFO is named, not read"

$TW ingest "$F" 2>"$T/err"; rc=$?
is "$rc" 0 "again: exit 0"
like "$(tail -n 1 "$T/err")" "0 stored, 5 duplicate, 0 quarantined, 0 failed" "again: all duplicates"

$TW ingest --dry-run "$F" >"$T/dry" 2>/dev/null; rc=$?
is "$rc" 0 "--dry-run of the folder: exit 0"
is "$(grep -c '"report-id"' "$T/dry")" 5 "--dry-run finds the same five"
done_testing
