#!/bin/sh
# make install DESTDIR=...: the binary, both man pages (man -l renders them),
# contrib/ as documentation and the example configuration, which a second
# install never overwrites; make uninstall removes everything but a
# configuration the user edited.
. "$(dirname "$0")/../lib/tap.sh"

[ -x tlswatch ] || bail "./tlswatch is not built"
D=$(mktemp -d "${TMPDIR:-/tmp}/tw-inst.XXXXXX") || bail "mktemp failed"
trap 'rm -rf "$D"' EXIT
# -o tlswatch: install the binary `make check` built, never rebuild it here.
mk() { make -s --no-print-directory -o tlswatch DESTDIR="$D" PREFIX=/usr/local "$@" 2>&1; }
CONF=$D/etc/tlswatch/tlswatch.conf
DOC=$D/usr/local/share/doc/tlswatch

out=$(mk install); rc=$?
is "$rc" 0 "make install DESTDIR: exit 0"
like "$out" "installed $CONF" "make install: says it installed the configuration"
ok "$([ -x "$D/usr/local/bin/tlswatch" ] && echo y)" "bin/tlswatch, executable"
ok "$(cmp -s contrib/tlswatch.conf.example "$CONF" && echo y)" "etc/tlswatch/tlswatch.conf is the example"
# It will hold webhook URLs and secrets: never readable by every account.
is "$(stat -c %a "$CONF")" 640 "etc/tlswatch/tlswatch.conf: mode 640"
if getent group tlswatch >/dev/null && [ "$(id -u)" -eq 0 ]; then want=tlswatch; else want=$(id -gn); fi
is "$(stat -c %G "$CONF")" "$want" "etc/tlswatch/tlswatch.conf: group $want"
ok "$(cmp -s contrib/procmail/procmailrc "$D/etc/tlswatch/procmailrc" && echo y)" \
	"etc/tlswatch/procmailrc, the path README's procmail -m names"
like "$(grep -h 'procmail -m' README.md contrib/procmail/dot-forward)" "procmail -m /etc/tlswatch/procmailrc" \
	"README and dot-forward name that path"
# README's one edit of it, the command as README prints it.
edit=$(grep "^sed -i 's|^#conninfo" README.md) || bail "README: no sed line for conninfo"
cp "$CONF" "$D/edited.conf"
sh -c "${edit%% \\} $D/edited.conf" || bail "README's sed failed"
is "$(grep '^conninfo' "$D/edited.conf")" "conninfo = host=/run/postgresql dbname=tlswatch" \
	"README's sed turns on the conninfo line of the installed example"
rm "$D/edited.conf"
for f in postfix/master.cf postfix/README procmail/procmailrc systemd/tlswatch-alert.timer \
	cron/tlswatch sql/roles.sql tlswatch.conf.example; do
	ok "$([ -f "$DOC/$f" ] && echo y)" "share/doc/tlswatch/$f"
done
for page in man1/tlswatch.1 man5/tlswatch.conf.5; do
	f=$D/usr/local/share/man/$page
	if command -v man >/dev/null; then
		text=$(MANWIDTH=80 man -l -P cat "$f" 2>&1)
	else
		text=$(groff -mandoc -Tutf8 "$f" 2>&1)
	fi
	like "$text" "^(NAME|N.?N.?A.?A.?M.?M.?E.?E)" "share/man/$page renders"
done

echo "# edited" >>"$CONF"
out=$(mk install)
like "$out" "kept $CONF" "second install: keeps the existing configuration"
like "$(tail -n 1 "$CONF")" "^# edited" "second install: the edit is still there"

out=$(mk uninstall); rc=$?
is "$rc" 0 "make uninstall: exit 0"
like "$out" "kept $CONF: it differs" "make uninstall: keeps the edited configuration, says so"
is "$(cd "$D" && find . -type f | sort)" "./etc/tlswatch/tlswatch.conf" "make uninstall: nothing else left"
ok "$([ ! -e "$DOC" ] && echo y)" "make uninstall: share/doc/tlswatch is gone"

rm "$CONF"
mk install >/dev/null
mk uninstall >/dev/null
is "$(cd "$D" && find . -type f)" "" "install then uninstall, configuration unedited: no file left"
ok "$([ ! -e "$D/etc/tlswatch" ] && echo y)" "... and no etc/tlswatch"

done_testing
