# The Internet checksum (RFC 1071) of a byte string, for the harness's raw-socket scripts
# (tcp-segment.pl, icmp-echo.pl): `require` it from the script's own folder.
use strict;
use warnings;

sub checksum {
    my ($data) = @_;
    $data .= "\0" if length($data) % 2;
    my $sum = 0;
    $sum += $_ for unpack('n*', $data);
    $sum = ($sum >> 16) + ($sum & 0xffff) while $sum >> 16;
    return ~$sum & 0xffff;
}

1;
