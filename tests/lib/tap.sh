# tap.sh: the Test Anything Protocol for shell tests, read by prove.
# Source it, call the assertions, end with done_testing.
#   ok VALUE NAME        passes when VALUE is not empty
#   is GOT WANT NAME     passes when GOT = WANT, shows both otherwise
#   like GOT ERE NAME    passes when a line of GOT matches the extended regex
#   skip_all REASON      the whole file is skipped, with the reason
#   bail REASON          stop everything (prove reports it)

tap_n=0
tap_failed=0

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

ok() { tap_result "$1" "$2"; }

is() {
	if [ "$1" = "$2" ]; then
		tap_result 1 "$3"
	else
		tap_result "" "$3"
		diag "got:  '$1'" "want: '$2'"
	fi
}

like() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		tap_result 1 "$3"
	else
		tap_result "" "$3"
		diag "got:  '$1'" "want: /$2/"
	fi
}

skip_all() { echo "1..0 # SKIP $1"; exit 0; }

bail() { echo "Bail out! $1"; exit 255; }

done_testing() {
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
	exit $?
}
