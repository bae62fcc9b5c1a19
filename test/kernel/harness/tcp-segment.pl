#!/usr/bin/perl
# One TCP segment with chosen flags from inside a namespace, through a raw socket (the kernel
# adds the IP header), and the first TCP answer from the peer. Usage:
#   tcp-segment.pl TO PORT SRC SPORT FLAGS TIMEOUT_MS [OPTLEN]   (FLAGS: SYN, ACK, FIN,ACK, RST, ...)
# OPTLEN (optional, default 0): that many bytes of TCP options (NOPs, a multiple of 4, at most
# 40), for a segment as long as a real stack's (Linux: a SYN carries 20, its other segments 12).
# Prints exactly one line:
#   answer FLAGS     the peer answered with a segment to SPORT (its flags, iptables' names and order)
#   none             nothing within TIMEOUT_MS
#   error MESSAGE    could not even try
use strict;
use warnings;
use Socket qw(PF_INET SOCK_RAW inet_aton inet_ntoa pack_sockaddr_in);
use Time::HiRes qw(time);

my ($to, $port, $src, $sport, $flags, $timeout_ms, $optlen) = @ARGV;
$timeout_ms ||= 600;
$optlen ||= 0;
($optlen =~ /^\d+$/ && $optlen % 4 == 0 && $optlen <= 40) or do { print "error bad OPTLEN $optlen\n"; exit 0 };
my %BIT = (FIN => 1, SYN => 2, RST => 4, PSH => 8, ACK => 16, URG => 32);
my $bits = 0;
for my $f (split /,/, $flags) {
    defined $BIT{$f} or do { print "error unknown flag $f\n"; exit 0 };
    $bits |= $BIT{$f};
}

use FindBin;
require "$FindBin::Bin/checksum.pl";

my $to_addr = inet_aton($to) or do { print "error bad address $to\n"; exit 0 };
my $src_addr = inet_aton($src) or do { print "error bad address $src\n"; exit 0 };
socket(my $sock, PF_INET, SOCK_RAW, 6) or do { print "error socket: $!\n"; exit 0 };
bind($sock, pack_sockaddr_in(0, $src_addr)) or do { print "error bind: $!\n"; exit 0 };
my $ack = ($bits & 16) ? 1 : 0;
# sport, dport, seq, ack, data offset (<<12) | flags, window, checksum 0, urgent 0, options
my $tcp = pack('nnNNnnnn', $sport, $port, 1000, $ack, ((5 + $optlen / 4) << 12) | $bits, 64240, 0, 0) . ("\x01" x $optlen);
my $pseudo = $src_addr . $to_addr . pack('CCn', 0, 6, length($tcp));
my $sum = checksum($pseudo . $tcp);
substr($tcp, 16, 2) = pack('n', $sum);
defined send($sock, $tcp, 0, pack_sockaddr_in(0, $to_addr)) or do { print "error send: $!\n"; exit 0 };

my $deadline = time() + $timeout_ms / 1000;
my $rin = '';
vec($rin, fileno($sock), 1) = 1;
while ((my $left = $deadline - time()) > 0) {
    my $n = select(my $rout = $rin, undef, undef, $left);
    last if $n <= 0;
    my $buf;
    defined recv($sock, $buf, 65535, 0) or next;
    next if length($buf) < 20;
    my $ihl = (unpack('C', $buf) & 15) * 4;
    next if length($buf) < $ihl + 14;
    my $from = inet_ntoa(substr($buf, 12, 4));
    my ($sp, $dp) = unpack('nn', substr($buf, $ihl, 4));
    my $f = unpack('C', substr($buf, $ihl + 13, 1));
    next unless $from eq $to && $sp == $port && $dp == $sport;
    my @names = grep { $f & $BIT{$_} } qw(FIN SYN RST PSH ACK URG);
    print 'answer ' . (@names ? join(',', @names) : 'NONE') . "\n";
    exit 0;
}
print "none\n";
