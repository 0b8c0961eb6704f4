# mime_parts.pl MESSAGE OUTDIR: split a multipart/alternative message (as
# tlswatch digest mails it) with nothing but core Perl. Prints the top-level
# headers the tests look at, one "Name: value" a line (unfolded), then
# "part N TYPE" per part, and writes each decoded body to OUTDIR/part.N.
use strict;
use warnings;
use MIME::QuotedPrint qw(decode_qp);
use MIME::Base64 qw(decode_base64);

my ($file, $dir) = @ARGV;
open my $f, '<', $file or die "$file: $!";
local $/;
my $msg = <$f>;
$msg =~ s/\r\n/\n/g;
my ($head, $body) = split /\n\n/, $msg, 2;
$head =~ s/\n[ \t]+/ /g;
my %h;
for (split /\n/, $head) {
	my ($k, $v) = /^([^:]+):\s*(.*)$/ or next;
	$h{lc $k} = $v;
	print "$k: $v\n" if $k =~ /^(date|from|to|subject|message-id|mime-version|content-type)$/i;
}
my ($b) = ($h{'content-type'} // '') =~ /boundary="?([^";]+)"?/ or exit 0;
my @parts = split /^--\Q$b\E(?:--)?[ \t]*$/m, $body;
shift @parts;
my $n = 0;
for my $p (@parts) {
	$p =~ s/^\n//;
	next if $p !~ /\S/;
	my ($ph, $pb) = split /\n\n/, $p, 2;
	$ph =~ s/\n[ \t]+/ /g;
	my ($type) = $ph =~ /^Content-Type:\s*([^;\s]+)/mi;
	my ($cte) = $ph =~ /^Content-Transfer-Encoding:\s*(\S+)/mi;
	$pb //= '';
	$pb =~ s/\n$//;
	$pb = decode_qp($pb) if ($cte // '') =~ /quoted-printable/i;
	$pb = decode_base64($pb) if ($cte // '') =~ /base64/i;
	$n++;
	print "part $n ", lc($type // 'text/plain'), "\n";
	open my $o, '>', "$dir/part.$n" or die;
	print $o $pb;
}
