#!/bin/sh
# Golden files: for each fixture NAME.eml beside a NAME.expect (a bare
# report keeps its full name: bare-report.json.gz.expect), `tlswatch ingest --dry-run` must print exactly the expected
# JSON lines. A new reporter quirk = a new pair. Regenerate one with
#   ./tlswatch ingest --dry-run tests/fixtures/NAME.eml > tests/fixtures/NAME.expect
# and read the diff before committing it.
. "$(dirname "$0")/../lib/tap.sh"

TW=./tlswatch
n=0
for expect in tests/fixtures/*.expect; do
	base=${expect%.expect}
	input=$base
	[ -f "$input" ] || input=$base.eml
	got=$($TW ingest --dry-run "$input" 2>/dev/null)
	is "$got" "$(cat "$expect")" "$(basename "$input"): --dry-run output equals $(basename "$expect")"
	n=$((n + 1))
done
ok "$([ $n -ge 10 ] && echo 1)" "at least 10 golden pairs ($n)"
done_testing
