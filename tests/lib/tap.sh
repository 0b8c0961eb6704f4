# tap.sh: the Test Anything Protocol for shell tests, read by prove.
# Source it, call the assertions, end with done_testing (or plan N first).
#   plan N               announce N tests up front (else done_testing does)
#   ok VALUE NAME        passes when VALUE is not empty
#   is GOT WANT NAME     passes when GOT = WANT, shows the difference otherwise
#   like GOT ERE NAME    passes when a line of GOT matches the extended regex
#   diag TEXT...         a comment line per argument (prove shows it)
#   skip_all REASON      the whole file is skipped, with the reason
#   bail REASON          stop everything (prove reports it)

# Never the machine's /etc/tlswatch/tlswatch.conf (tests/lib/none.conf);
# run from the top of the checkout, as make check and prove are.
TLSWATCH_CONFIG=$PWD/tests/lib/none.conf
[ -f "$TLSWATCH_CONFIG" ] || { echo "Bail out! run the tests from the top of the checkout"; exit 255; }
export TLSWATCH_CONFIG
# Configurations holding webhook URLs are kept from other accounts, as
# README says (tlswatch warns otherwise); the e2e tests, whose files an
# MTA reads as another account, set their own (mta.sh).
umask 027

tap_n=0
tap_failed=0
tap_planned=

tap_result() { # PASSED NAME
	tap_n=$((tap_n + 1))
	if [ -n "$1" ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_failed=$((tap_failed + 1))
	fi
}

diag() { printf '%s\n' "$@" | sed 's/^/# /'; }

plan() { tap_planned=$1; echo "1..$1"; }

ok() { tap_result "$1" "$2"; }

is() {
	if [ "$1" = "$2" ]; then
		tap_result 1 "$3"
		return 0
	fi
	tap_result "" "$3"
	case "$1$2" in
	*"
"*) # several lines: a unified diff says more than two blobs
		tap_d=$(mktemp -d "${TMPDIR:-/tmp}/tap.XXXXXX")
		printf '%s\n' "$2" >"$tap_d/want"
		printf '%s\n' "$1" >"$tap_d/got"
		diag "$(cd "$tap_d" && diff -u want got)"
		rm -rf "$tap_d" ;;
	*) diag "got:  '$1'" "want: '$2'" ;;
	esac
	return 1
}

like() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		tap_result 1 "$3"
	else
		tap_result "" "$3"
		diag "got:  '$1'" "want: /$2/"
	fi
}

unlike() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		tap_result "" "$3"
		diag "got:  '$1'" "want no match for /$2/"
	else
		tap_result 1 "$3"
	fi
}

skip_all() { echo "1..0 # SKIP $1"; exit 0; }

bail() { echo "Bail out! $1"; exit 255; }

done_testing() {
	[ -n "$tap_planned" ] || echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
	exit $?
}
