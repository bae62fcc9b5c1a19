#!/usr/bin/perl
# Listen for ICMP errors arriving at this namespace (a raw ICMP socket gets a copy of every ICMP
# packet the host accepts, after its INPUT chain) and print each one, for tests that must see
# what the kernel sent back: its outer header and the packet it quotes. Usage:
#   icmp-listen.pl LIFETIME_MS
# Prints `ready` once listening, then one line per ICMP error:
#   icmp TYPE CODE FROM TO LEN quote PROTO SRC[:SPORT] DST[:DPORT]
# (LEN: the IP packet's total length; the quote's ports only for TCP and UDP). Exits when its
# stdin closes or after LIFETIME_MS (default 30000), whichever comes first.
use strict;
use warnings;
use IO::Handle;
use Socket qw(PF_INET SOCK_RAW inet_ntoa);
use Time::HiRes qw(time);

my ($lifetime_ms) = @ARGV;
$lifetime_ms ||= 30000;
STDOUT->autoflush(1);

socket(my $sock, PF_INET, SOCK_RAW, 1) or do { print "error socket: $!\n"; exit 0 };
print "ready\n";

my $deadline = time() + $lifetime_ms / 1000;
while (1) {
    my $left = $deadline - time();
    last if $left <= 0;
    my $rin = '';
    vec($rin, fileno($sock), 1) = 1;
    vec($rin, fileno(STDIN), 1) = 1;
    my $n = select(my $rout = $rin, undef, undef, $left);
    last if $n < 0;
    next if $n == 0;
    if (vec($rout, fileno(STDIN), 1)) {
        my $got = sysread(STDIN, my $junk, 4096);
        last if !$got;    # stdin closed: the test is done with us
    }
    next unless vec($rout, fileno($sock), 1);
    my $buf = '';
    defined(recv($sock, $buf, 4096, 0)) or next;
    next if length($buf) < 28;
    my $ihl = (ord(substr($buf, 0, 1)) & 0x0f) * 4;
    my $len = unpack('n', substr($buf, 2, 2));
    my $from = inet_ntoa(substr($buf, 12, 4));
    my $to = inet_ntoa(substr($buf, 16, 4));
    my $icmp = substr($buf, $ihl);
    next if length($icmp) < 8;
    my ($type, $code) = unpack('C C', $icmp);
    next unless $type == 3 || $type == 4 || $type == 5 || $type == 11 || $type == 12;
    my $inner = substr($icmp, 8);
    if (length($inner) < 20) { print "icmp $type $code $from $to $len quote short\n"; next }
    my $iihl = (ord(substr($inner, 0, 1)) & 0x0f) * 4;
    my $iproto = ord(substr($inner, 9, 1));
    my $isrc = inet_ntoa(substr($inner, 12, 4));
    my $idst = inet_ntoa(substr($inner, 16, 4));
    if (($iproto == 6 || $iproto == 17) && length($inner) >= $iihl + 4) {
        my ($sp, $dp) = unpack('n n', substr($inner, $iihl, 4));
        $isrc .= ":$sp";
        $idst .= ":$dp";
    }
    my $pname = $iproto == 6 ? 'tcp' : $iproto == 17 ? 'udp' : $iproto == 1 ? 'icmp' : $iproto;
    print "icmp $type $code $from $to $len quote $pname $isrc $idst\n";
}
