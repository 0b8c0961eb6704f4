# hostile.sh: build hostile messages for tests/integration/limits-*.t.
#   report_json [PERL-EXPR]   bare-report.json, edited by a perl expression on
#                             $r (the decoded report), printed compact
#   mail_part TYPE FILE       a message with FILE (base64) as its only part
#   last COLUMN               that column of the newest messages row

report_json() {
	perl -MJSON::PP -0777 -ne '
		my $r = JSON::PP->new->decode($_);
		my $json = JSON::PP->new->canonical->allow_nonref;
		'"${1:-1}"';
		print $json->encode($r);' tests/fixtures/bare-report.json
}

mail_part() { # TYPE FILE
	printf 'From: reporter@example.net\nTo: tlsrpt@example.com\n'
	printf 'Subject: Report Domain: example.com\nMessage-ID: <%s@example.net>\n' "$(basename "$2")"
	printf 'TLS-Report-Domain: example.com\nTLS-Report-Submitter: example.net\n'
	printf 'MIME-Version: 1.0\nContent-Type: multipart/report; report-type=tlsrpt; boundary=B\n\n'
	printf -- '--B\nContent-Type: text/plain\n\nA report.\n--B\n'
	printf 'Content-Type: %s\nContent-Transfer-Encoding: base64\n\n' "$1"
	base64 "$2"
	printf -- '--B--\n'
}

last() { q "select $1 from tlswatch.messages order by id desc limit 1"; }

