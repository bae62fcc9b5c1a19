#!/usr/bin/perl
# One ICMP echo request from inside a namespace, without needing `ping` (not installed on these
# machines; perl-base always is). Usage: icmp-echo.pl TO SRC|- TIMEOUT_MS [PAYLOAD_BYTES [ID]]
# (PAYLOAD_BYTES: the echo data's length, e.g. 56 for ping's 84-byte packets; default a short
# text. ID: the echo id, default this process's pid.)
# Prints exactly one line:
#   reply FROM                   an echo reply for our id/sequence came from FROM
#   icmp TYPE CODE FROM          an ICMP error (unreachable, time exceeded...) quoting our request
#   senderr ERRNO MESSAGE        sendto() failed (e.g. 101 ENETUNREACH: no route)
#   timeout                      nothing relevant within TIMEOUT_MS
#   error MESSAGE                could not even try
use strict;
use warnings;
use Socket qw(PF_INET SOCK_RAW inet_aton inet_ntoa pack_sockaddr_in);
use Time::HiRes qw(time);

my ($to, $src, $timeout_ms, $payload_bytes, $echo_id) = @ARGV;
$timeout_ms ||= 600;

use FindBin;
require "$FindBin::Bin/checksum.pl";

my $to_addr = inet_aton($to) or do { print "error bad address $to\n"; exit 0 };
socket(my $sock, PF_INET, SOCK_RAW, 1) or do { print "error socket: $!\n"; exit 0 };
if (defined $src && $src ne '-') {
    my $a = inet_aton($src) or do { print "error bad address $src\n"; exit 0 };
    bind($sock, pack_sockaddr_in(0, $a)) or do { print "error bind $src: $!\n"; exit 0 };
}

my $id = (defined $echo_id ? $echo_id : $$) & 0xffff;
my $seq = int(rand(0xffff));
my $data = defined $payload_bytes ? substr('kpl-probe' x (1 + int($payload_bytes / 9)), 0, $payload_bytes) : 'kpl-probe';
my $pkt = pack('C C n n n a*', 8, 0, 0, $id, $seq, $data);
substr($pkt, 2, 2) = pack('n', checksum($pkt));

unless (send($sock, $pkt, 0, pack_sockaddr_in(0, $to_addr))) {
    printf "senderr %d %s\n", $! + 0, $!;
    exit 0;
}

my $deadline = time() + $timeout_ms / 1000;
while (1) {
    # Past the deadline still look once (timeout 0) at what already arrived: a reply that came
    # while this process waited for a busy CPU is a reply, not a loss.
    my $left = $deadline - time();
    $left = 0 if $left < 0;
    my $rin = '';
    vec($rin, fileno($sock), 1) = 1;
    my $n = select(my $rout = $rin, undef, undef, $left);
    last if $n <= 0;
    my $buf = '';
    defined(recv($sock, $buf, 2048, 0)) or next;
    next if length($buf) < 28;
    my $ihl = (ord(substr($buf, 0, 1)) & 0x0f) * 4;
    my $from = inet_ntoa(substr($buf, 12, 4));
    my $icmp = substr($buf, $ihl);
    next if length($icmp) < 8;
    my ($type, $code, undef, $rid, $rseq) = unpack('C C n n n', $icmp);
    if ($type == 0) {
        if ($rid == $id && $rseq == $seq) { print "reply $from\n"; exit 0 }
        next;
    }
    # Errors quote the offending IP header plus 8 bytes: check it is our echo request.
    next unless $type == 3 || $type == 11 || $type == 12;
    my $inner = substr($icmp, 8);
    next if length($inner) < 28;
    my $iihl = (ord(substr($inner, 0, 1)) & 0x0f) * 4;
    next unless ord(substr($inner, 9, 1)) == 1 && length($inner) >= $iihl + 8;
    my ($itype, undef, undef, $iid, $iseq) = unpack('C C n n n', substr($inner, $iihl, 8));
    next unless $itype == 8 && $iid == $id && $iseq == $seq;
    print "icmp $type $code $from\n";
    exit 0;
}
print "timeout\n";
