#!/usr/bin/perl
# sql_printf.pl FILE...: print FILE:LINE: CALL for every call of a printf-
# or concatenation-style function whose arguments, wherever the line breaks
# fall, hold a string literal with an SQL keyword: SQL must be a literal
# with $n parameters, never text assembled at run time. The arguments are
# read up to the call's closing parenthesis, comments and character
# literals left out, so a call split over lines is seen whole.
use strict;
use warnings;

my $calls = qr/\b(?:\w*printf|g_strconcat|g_string_append\w*|g_string_prepend\w*|g_string_insert\w*|strcat|strncat)\s*\(/;
my $sql = qr/\b(?:SELECT|INSERT|UPDATE|DELETE|ALTER|CREATE|DROP|TRUNCATE|GRANT)\b/;

for my $file (@ARGV) {
	open my $fh, '<', $file or die "$file: $!";
	my $src = do { local $/; <$fh> };
	close $fh;
	# Blank out comments and 'x' literals, keeping newlines for line numbers.
	$src =~ s{(/\*.*?\*/|//[^\n]*|'(?:\\.|[^'\\])')}{ (my $c = $1) =~ s/[^\n]/ /g; $c }gse;
	while ($src =~ /$calls/g) {
		my $start = $-[0];
		my ($depth, $i, $in_string) = (1, $+[0], 0);
		while ($i < length($src) && $depth > 0) {
			my $ch = substr($src, $i, 1);
			if ($in_string) {
				if ($ch eq '\\') { $i++ } elsif ($ch eq '"') { $in_string = 0 }
			} elsif ($ch eq '"') {
				$in_string = 1;
			} elsif ($ch eq '(') {
				$depth++;
			} elsif ($ch eq ')') {
				$depth--;
			}
			$i++;
		}
		my $args = substr($src, $start, $i - $start);
		my @literals = $args =~ /"((?:\\.|[^"\\])*)"/g;
		next unless grep { /$sql/ } @literals;
		my $line = 1 + (substr($src, 0, $start) =~ tr/\n//);
		(my $shown = $args) =~ s/\s+/ /g;
		print "$file:$line: ", substr($shown, 0, 120), "\n";
	}
}
