#!/bin/sh
# The man pages: lint-clean under groff and mandoc, every command, action
# and option that `tlswatch COMMAND --help` prints is in tlswatch.1, every
# group and key of contrib/tlswatch.conf.example and README's table is in
# tlswatch.conf.5 with the same default.
. "$(dirname "$0")/../lib/tap.sh"

TW=./tlswatch
M1=man/tlswatch.1
M5=man/tlswatch.conf.5
PENDING="" # commands not documented yet: SKIPped, not failed
PENDING_GROUPS="" # their groups

for page in $M1 $M5; do
	is "$(groff -ww -z -mandoc $page 2>&1)" "" "$page: groff -ww -z -mandoc says nothing"
	if command -v mandoc >/dev/null; then
		# Cross-references resolve only where those pages are installed.
		is "$(mandoc -Tlint -W style $page 2>&1 |
			grep -v 'referenced manual not found\|mandoc\.db\|makewhatis')" "" \
			"$page: mandoc -Tlint says nothing"
	else
		ok y "$page: mandoc -Tlint # SKIP mandoc is not installed"
	fi
done

has() { grep -Eq -- "$1" "$2"; }
in_list() { case " $2 " in *" $1 "*) return 0 ;; esac; return 1; }

for cmd in $($TW --help | sed -n 's/^  \([a-z]*\) .*/\1/p'); do
	if ! has "^\.Ss tlswatch $cmd\$" $M1; then
		if in_list "$cmd" "$PENDING"; then
			ok y "$M1: $cmd # SKIP documented with its own issue"
		else
			ok "" "$M1: a section for $cmd"
		fi
		continue
	fi
	ok y "$M1: a section for $cmd"
	help=$($TW "$cmd" --help)
	# The usage line's lower-case words are actions: db init, quarantine list.
	for action in $(echo "$help" | sed -n "s/^  $cmd \[OPTION[^]]*\] //p" | tr ' |[]' '\n\n\n\n' |
		grep -E '^[a-z]+$'); do
		ok "$(has "^\.It Cm $cmd $action( |\$)" $M1 && echo y)" "$M1: $cmd $action"
	done
	# "  -n, --dry-run   ..." or "  --syslog   ...": an .It with both forms.
	while read -r short long; do
		[ -n "$long" ] || { long=$short; short=; }
		if [ -n "$short" ]; then
			re="^\.It Fl $short( |\$).*Fl -$long( |\$)"
		else
			re="^\.It (.* )?Fl -$long( |\$)"
		fi
		ok "$(has "$re" $M1 && echo y)" "$M1: $cmd ${short:+-$short, }--$long"
	done <<-EOF
		$(echo "$help" | sed -n 's/^ *\(-\([a-zA-Z]\), \)\{0,1\}--\([a-z-]*\).*/\2 \3/p')
	EOF
done

# The lines of an .It entry in the section of GROUP ([dns] and [webhook]
# both have a timeout), up to the next .It or .El.
item() { # GROUP IT
	awk -v g=".Sh [$1" -v it="$2" '/^\.Sh / { in_g = index($0, g "]") == 1 || index($0, g " ") == 1 }
		f && /^\.(It|El)/ { exit } f; in_g && ($0 == it || index($0, it " ") == 1) { f = 1 }' $M5
}

# "group key default" from the example file and from README's table (the
# default only where that column is one `literal`). The example's groups may
# be commented out (#[alert]); in a named group ([rule NAME], [webhook NAME])
# the values are examples, not defaults, so only the key is checked.
keys() {
	awk '/^#?\[[a-z]+( [^]]*)?\]$/ { g = $0; sub(/^#?\[/, "", g); named = g ~ / /; sub(/[] ].*/, "", g) }
	/^#?[a-z][a-z-]* = / { sub(/^#/, ""); k = $0; sub(/ = .*/, "", k); sub(/^[^=]*= /, ""); print g, k, (named ? "" : $0) }' \
		contrib/tlswatch.conf.example
	awk -F ' *[|] *' '/^[|] (`\[[a-z]+\]`)? *[|] `[a-z-]+` [|]/ {
		if ($2 != "") { g = $2; gsub(/[][`]/, "", g) }
		v = $4 ~ /^`[^`]*`$/ ? substr($4, 2, length($4) - 2) : ""
		gsub(/`/, "", $3); print g, $3, v }' README.md
	# README's [webhook NAME] table: key, default, meaning.
	awk -F ' *[|] *' '/^#/ { wh = /^### Webhooks: / }
	wh && /^[|] `[a-z-]+` [|]/ {
		v = $3 ~ /^`[^`]*`$/ ? substr($3, 2, length($3) - 2) : ""
		gsub(/`/, "", $2); print "webhook", $2, v }' README.md
}

all=$(keys)
for group in $(echo "$all" | cut -d' ' -f1 | sort -u); do
	if has "^\.Sh \[$group( [A-Z]+)?\]" $M5; then
		ok y "$M5: [$group]"
	elif in_list "$group" "$PENDING_GROUPS"; then
		ok y "$M5: [$group] # SKIP documented with its command's issue"
		all=$(echo "$all" | grep -v "^$group ")
	else
		ok "" "$M5: [$group]"
	fi
done
while read -r group key value; do
	ok "$(item "$group" ".It Cm $key" | grep -qF -- "$value" && echo y)" "$M5: [$group] $key${value:+, default $value}"
done <<EOF
$all
EOF

done_testing
