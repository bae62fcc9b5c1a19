#!/usr/bin/perl
# Runs a command (`conntrack -D ...`, `conntrack -F`) whose exit waits until we say so: its
# stderr is a pipe filled to the brim beforehand, so the message it writes there once it has done
# its work blocks it, netlink socket still open, until a line (or EOF) comes on our stdin; then
# the pipe is drained and the command's stdout, stderr (without the filler) and exit status
# become ours. Why: `conntrack -E` names the program that deleted an entry
# (`[USERSPACE] portid=N progname=conntrack`) only if it finds the deleting socket still open
# when it prints the event, which otherwise races with the deleter's exit.
# Usage: ct-events-hold.pl COMMAND [ARGS...]   (gives up waiting after 10 s)
use strict;
use warnings;
use Fcntl qw(F_GETFL F_SETFL O_NONBLOCK);
use POSIX qw(WNOHANG);

@ARGV or die "usage: $0 COMMAND [ARGS...]\n";
alarm 20;

pipe(my $err_r, my $err_w) or die "pipe: $!";
pipe(my $out_r, my $out_w) or die "pipe: $!";

# fill the stderr pipe: whole chunks, then single bytes until it takes no more
my $flags = fcntl($err_w, F_GETFL, 0) or die "fcntl: $!";
fcntl($err_w, F_SETFL, $flags | O_NONBLOCK) or die "fcntl: $!";
my $filled = 0;
for my $size (4096, 1) {
    while (1) {
        my $n = syswrite($err_w, 'x' x $size);
        last unless defined $n && $n > 0;
        $filled += $n;
    }
}
fcntl($err_w, F_SETFL, $flags) or die "fcntl: $!";

my $pid = fork();
die "fork: $!" unless defined $pid;
if ($pid == 0) {
    close $err_r;
    close $out_r;
    open(STDOUT, '>&', $out_w) or die "dup stdout: $!";
    open(STDERR, '>&', $err_w) or die "dup stderr: $!";
    open(STDIN, '<', '/dev/null') or die "stdin: $!";
    exec { $ARGV[0] } @ARGV or do { print STDOUT "exec $ARGV[0]: $!\n"; POSIX::_exit(127) };
}
close $err_w;
close $out_w;

# held until told (or 10 s)
my $rin = '';
vec($rin, fileno(STDIN), 1) = 1;
select(my $rout = $rin, undef, undef, 10);

# drain both pipes until the command closes them
my %buf = (out => '', err => '');
my %fh = (out => $out_r, err => $err_r);
while (%fh) {
    my $bits = '';
    vec($bits, fileno($fh{$_}), 1) = 1 for keys %fh;
    select(my $ready = $bits, undef, undef, 10) > 0 or last;
    for my $k (keys %fh) {
        next unless vec($ready, fileno($fh{$k}), 1);
        my $n = sysread($fh{$k}, my $chunk, 65536);
        if (!$n) { close $fh{$k}; delete $fh{$k}; next }
        $buf{$k} .= $chunk;
    }
}
waitpid($pid, 0);
my $status = $?;
print STDOUT $buf{out};
print STDERR length($buf{err}) > $filled ? substr($buf{err}, $filled) : '';
exit($status & 127 ? 128 + ($status & 127) : $status >> 8);
