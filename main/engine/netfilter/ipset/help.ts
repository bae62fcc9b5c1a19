// Text of `ipset help` and `ipset help TYPE` as ipset v7.17 prints it (static, like the
// tool's own tables). The supported-type list names every type the real tool knows; the
// lab implements the five listed in TYPE_HELP.

export const GENERAL_HELP =
  "ipset v7.17\n" +
  "\n" +
  "Usage: ipset [options] COMMAND\n" +
  "\n" +
  "Commands:\n" +
  "create SETNAME TYPENAME [type-specific-options]\n" +
  "        Create a new set\n" +
  "add SETNAME ENTRY\n" +
  "        Add entry to the named set\n" +
  "del SETNAME ENTRY\n" +
  "        Delete entry from the named set\n" +
  "test SETNAME ENTRY\n" +
  "        Test entry in the named set\n" +
  "destroy [SETNAME]\n" +
  "        Destroy a named set or all sets\n" +
  "list [SETNAME]\n" +
  "        List the entries of a named set or all sets\n" +
  "save [SETNAME]\n" +
  "        Save the named set or all sets to stdout\n" +
  "restore \n" +
  "        Restore a saved state\n" +
  "flush [SETNAME]\n" +
  "        Flush a named set or all sets\n" +
  "rename FROM-SETNAME TO-SETNAME\n" +
  "        Rename two sets\n" +
  "swap FROM-SETNAME TO-SETNAME\n" +
  "        Swap the contect of two existing sets\n" +
  "help [TYPENAME]\n" +
  "        Print help, and settype specific help\n" +
  "version \n" +
  "        Print version information\n" +
  "quit \n" +
  "        Quit interactive mode\n" +
  "\n" +
  "Options:\n" +
  "-o plain|save|xml\n" +
  "       Specify output mode for listing sets.\n" +
  "       Default value for \"list\" command is mode \"plain\"\n" +
  "       and for \"save\" command is mode \"save\".\n" +
  "-s \n" +
  "        Print elements sorted (if supported by the set type).\n" +
  "-q \n" +
  "        Suppress any notice or warning message.\n" +
  "-r \n" +
  "        Try to resolve IP addresses in the output (slow!)\n" +
  "-! \n" +
  "        Ignore errors when creating or adding sets or\n" +
  "        elements that do exist or when deleting elements\n" +
  "        that don't exist.\n" +
  "-n \n" +
  "        When listing, just list setnames from the kernel.\n" +
  "\n" +
  "-t \n" +
  "        When listing, list setnames and set headers\n" +
  "        from kernel only.\n" +
  "-f \n" +
  "        Read from the given file instead of standard\n" +
  "        input (restore) or write to given file instead\n" +
  "        of standard output (list/save).\n";

export const TYPE_LIST =
  "\n" +
  "Supported set types:\n" +
  "    list:set\t\t3\tskbinfo support\n" +
  "    list:set\t\t2\tcomment support\n" +
  "    list:set\t\t1\tcounters support\n" +
  "    list:set\t\t0\tInitial revision\n" +
  "    hash:mac\t\t1\tbucketsize, initval support\n" +
  "    hash:mac\t\t0\tInitial revision\n" +
  "    hash:ip,mac\t\t1\tbucketsize, initval support\n" +
  "    hash:ip,mac\t\t0\tInitial revision\n" +
  "    hash:net,iface\t8\tbucketsize, initval support\n" +
  "    hash:net,iface\t7\tskbinfo and wildcard support\n" +
  "    hash:net,iface\t6\tskbinfo support\n" +
  "    hash:net,iface\t5\tforceadd support\n" +
  "    hash:net,iface\t4\tcomment support\n" +
  "    hash:net,iface\t3\tcounters support\n" +
  "    hash:net,iface\t2\t/0 network support\n" +
  "    hash:net,iface\t1\tnomatch flag support\n" +
  "    hash:net,iface\t0\tInitial revision\n" +
  "    hash:net,port\t8\tbucketsize, initval support\n" +
  "    hash:net,port\t7\tskbinfo support\n" +
  "    hash:net,port\t6\tforceadd support\n" +
  "    hash:net,port\t5\tcomment support\n" +
  "    hash:net,port\t4\tcounters support\n" +
  "    hash:net,port\t3\tnomatch flag support\n" +
  "    hash:net,port\t2\tAdd/del range support\n" +
  "    hash:net,port\t1\tSCTP and UDPLITE support\n" +
  "    hash:net,port,net\t3\tbucketsize, initval support\n" +
  "    hash:net,port,net\t2\tskbinfo support\n" +
  "    hash:net,port,net\t1\tforceadd support\n" +
  "    hash:net,port,net\t0\tinitial revision\n" +
  "    hash:net,net\t4\tnetmask and bitmask support\n" +
  "    hash:net,net\t3\tbucketsize, initval support\n" +
  "    hash:net,net\t2\tskbinfo support\n" +
  "    hash:net,net\t1\tforceadd support\n" +
  "    hash:net,net\t0\tinitial revision\n" +
  "    hash:net\t\t7\tbucketsize, initval support\n" +
  "    hash:net\t\t6\tskbinfo support\n" +
  "    hash:net\t\t5\tforceadd support\n" +
  "    hash:net\t\t4\tcomment support\n" +
  "    hash:net\t\t3\tcounters support\n" +
  "    hash:net\t\t2\tnomatch flag support\n" +
  "    hash:net\t\t1\tAdd/del range support\n" +
  "    hash:net\t\t0\tInitial revision\n" +
  "    hash:ip,port,net\t8\tbucketsize, initval support\n" +
  "    hash:ip,port,net\t7\tskbinfo support\n" +
  "    hash:ip,port,net\t6\tforceadd support\n" +
  "    hash:ip,port,net\t5\tcomment support\n" +
  "    hash:ip,port,net\t4\tcounters support\n" +
  "    hash:ip,port,net\t3\tnomatch flag support\n" +
  "    hash:ip,port,net\t2\tAdd/del range support\n" +
  "    hash:ip,port,net\t1\tSCTP and UDPLITE support\n" +
  "    hash:ip,port,ip\t6\tbucketsize, initval support\n" +
  "    hash:ip,port,ip\t5\tskbinfo support\n" +
  "    hash:ip,port,ip\t4\tforceadd support\n" +
  "    hash:ip,port,ip\t3\tcomment support\n" +
  "    hash:ip,port,ip\t2\tcounters support\n" +
  "    hash:ip,port,ip\t1\tSCTP and UDPLITE support\n" +
  "    hash:ip,mark\t3\tbucketsize, initval support\n" +
  "    hash:ip,mark\t2\tskbinfo support\n" +
  "    hash:ip,mark\t1\tforceadd support\n" +
  "    hash:ip,mark\t0\tinitial revision\n" +
  "    hash:ip,port\t7\tnetmask and bitmask support\n" +
  "    hash:ip,port\t6\tbucketsize, initval support\n" +
  "    hash:ip,port\t5\tskbinfo support\n" +
  "    hash:ip,port\t4\tforceadd support\n" +
  "    hash:ip,port\t3\tcomment support\n" +
  "    hash:ip,port\t2\tcounters support\n" +
  "    hash:ip,port\t1\tSCTP and UDPLITE support\n" +
  "    hash:ip\t\t6\tbitmask support\n" +
  "    hash:ip\t\t5\tbucketsize, initval support\n" +
  "    hash:ip\t\t4\tskbinfo support\n" +
  "    hash:ip\t\t3\tforceadd support\n" +
  "    hash:ip\t\t2\tcomment support\n" +
  "    hash:ip\t\t1\tcounters support\n" +
  "    hash:ip\t\t0\tInitial revision\n" +
  "    bitmap:port\t\t3\tskbinfo support\n" +
  "    bitmap:port\t\t2\tcomment support\n" +
  "    bitmap:port\t\t1\tcounters support\n" +
  "    bitmap:port\t\t0\tInitial revision\n" +
  "    bitmap:ip,mac\t3\tskbinfo support\n" +
  "    bitmap:ip,mac\t2\tcomment support\n" +
  "    bitmap:ip,mac\t1\tcounters support\n" +
  "    bitmap:ip,mac\t0\tInitial revision\n" +
  "    bitmap:ip\t\t3\tskbinfo support\n" +
  "    bitmap:ip\t\t2\tcomment support\n" +
  "    bitmap:ip\t\t1\tcounters support\n" +
  "    bitmap:ip\t\t0\tInitial revision\n";

const PORT_USAGE =
  "      [PROTO:]PORT is a valid pattern of the following:\n" +
  "           PORTNAME         TCP port name from /etc/services\n" +
  "           PORTNUMBER       TCP port number identifier\n" +
  "           tcp|sctp|udp|udplite:PORTNAME|PORTNUMBER\n" +
  "           icmp:CODENAME    supported ICMP codename\n" +
  "           icmp:TYPE/CODE   ICMP type/code value\n" +
  "           icmpv6:CODENAME  supported ICMPv6 codename\n" +
  "           icmpv6:TYPE/CODE ICMPv6 type/code value\n" +
  "           PROTO:0          all other protocols\n" +
  "\n" +
  "           Supported ICMP codenames:\n" +
  "               echo-reply\n" +
  "               pong\n" +
  "               network-unreachable\n" +
  "               host-unreachable\n" +
  "               protocol-unreachable\n" +
  "               port-unreachable\n" +
  "               fragmentation-needed\n" +
  "               source-route-failed\n" +
  "               network-unknown\n" +
  "               host-unknown\n" +
  "               network-prohibited\n" +
  "               host-prohibited\n" +
  "               TOS-network-unreachable\n" +
  "               TOS-host-unreachable\n" +
  "               communication-prohibited\n" +
  "               host-precedence-violation\n" +
  "               precedence-cutoff\n" +
  "               source-quench\n" +
  "               network-redirect\n" +
  "               host-redirect\n" +
  "               TOS-network-redirect\n" +
  "               TOS-host-redirect\n" +
  "               echo-request\n" +
  "               ping\n" +
  "               router-advertisement\n" +
  "               router-solicitation\n" +
  "               ttl-zero-during-transit\n" +
  "               ttl-zero-during-reassembly\n" +
  "               ip-header-bad\n" +
  "               required-option-missing\n" +
  "               timestamp-request\n" +
  "               timestamp-reply\n" +
  "               address-mask-request\n" +
  "               address-mask-reply\n" +
  "           Supported ICMPv6 codenames:\n" +
  "               no-route\n" +
  "               communication-prohibited\n" +
  "               address-unreachable\n" +
  "               port-unreachable\n" +
  "               packet-too-big\n" +
  "               ttl-zero-during-transit\n" +
  "               ttl-zero-during-reassembly\n" +
  "               bad-header\n" +
  "               unknown-header-type\n" +
  "               unknown-option\n" +
  "               echo-request\n" +
  "               ping\n" +
  "               echo-reply\n" +
  "               pong\n" +
  "               router-solicitation\n" +
  "               router-advertisement\n" +
  "               neighbour-solicitation\n" +
  "               neigbour-solicitation\n" +
  "               neighbour-advertisement\n" +
  "               neigbour-advertisement\n" +
  "               redirect\n";

export const TYPE_HELP: Readonly<Record<string, string>> = {
  "hash:ip":
    "\n" +
    "hash:ip type specific options:\n" +
    "\n" +
    "create SETNAME hash:ip \n" +
    "               [family inet|inet6]|[-4|-6]\n" +
    "               [hashsize VALUE]\n" +
    "               [maxelem VALUE]\n" +
    "               [netmask CIDR]\n" +
    "               [bitmask bitmask]\n" +
    "               [timeout VALUE]\n" +
    "               [counters]\n" +
    "               [comment]\n" +
    "               [forceadd]\n" +
    "               [skbinfo]\n" +
    "               [bucketsize VALUE]\n" +
    "               [initval VALUE]\n" +
    "add    SETNAME hash:ip IP\n" +
    "               [timeout VALUE]\n" +
    "               [packets VALUE]\n" +
    "               [bytes VALUE]\n" +
    "               [comment \"string\"]\n" +
    "               [skbmark VALUE]\n" +
    "               [skbprio VALUE]\n" +
    "               [skbqueue VALUE]\n" +
    "del    SETNAME hash:ip IP\n" +
    "test   SETNAME hash:ip IP\n" +
    "\n" +
    "where depending on the INET family\n" +
    "      IP is a valid IPv4 or IPv6 address (or hostname),\n" +
    "      CIDR is a valid IPv4 or IPv6 CIDR prefix.\n" +
    "      Adding/deleting multiple elements in IP/CIDR or FROM-TO form\n" +
    "      is supported for IPv4.\n" +
    "\n" +
    "Type hash:ip supports inet and inet6.\n",
  "hash:net":
    "\n" +
    "hash:net type specific options:\n" +
    "\n" +
    "create SETNAME hash:net \n" +
    "               [family inet|inet6]|[-4|-6]\n" +
    "               [hashsize VALUE]\n" +
    "               [maxelem VALUE]\n" +
    "               [timeout VALUE]\n" +
    "               [counters]\n" +
    "               [comment]\n" +
    "               [forceadd]\n" +
    "               [skbinfo]\n" +
    "               [bucketsize VALUE]\n" +
    "               [initval VALUE]\n" +
    "add    SETNAME hash:net IP[/CIDR]\n" +
    "               [timeout VALUE]\n" +
    "               [nomatch]\n" +
    "               [packets VALUE]\n" +
    "               [bytes VALUE]\n" +
    "               [comment \"string\"]\n" +
    "               [skbmark VALUE]\n" +
    "               [skbprio VALUE]\n" +
    "               [skbqueue VALUE]\n" +
    "del    SETNAME hash:net IP[/CIDR]\n" +
    "test   SETNAME hash:net IP[/CIDR]\n" +
    "               [nomatch]\n" +
    "\n" +
    "where depending on the INET family\n" +
    "      IP is an IPv4 or IPv6 address (or hostname),\n" +
    "      CIDR is a valid IPv4 or IPv6 CIDR prefix.\n" +
    "\n" +
    "Type hash:net supports inet and inet6.\n",
  "hash:ip,port":
    "\n" +
    "hash:ip,port type specific options:\n" +
    "\n" +
    "create SETNAME hash:ip,port \n" +
    "               [family inet|inet6]|[-4|-6]\n" +
    "               [hashsize VALUE]\n" +
    "               [maxelem VALUE]\n" +
    "               [timeout VALUE]\n" +
    "               [counters]\n" +
    "               [comment]\n" +
    "               [forceadd]\n" +
    "               [skbinfo]\n" +
    "               [bucketsize VALUE]\n" +
    "               [initval VALUE]\n" +
    "               [netmask CIDR]\n" +
    "               [bitmask bitmask]\n" +
    "add    SETNAME hash:ip,port IP,[PROTO:]PORT\n" +
    "               [timeout VALUE]\n" +
    "               [packets VALUE]\n" +
    "               [bytes VALUE]\n" +
    "               [comment \"string\"]\n" +
    "               [skbmark VALUE]\n" +
    "               [skbprio VALUE]\n" +
    "               [skbqueue VALUE]\n" +
    "del    SETNAME hash:ip,port IP,[PROTO:]PORT\n" +
    "test   SETNAME hash:ip,port IP,[PROTO:]PORT\n" +
    "\n" +
    "where depending on the INET family\n" +
    "      IP is a valid IPv4 or IPv6 address (or hostname).\n" +
    "      Adding/deleting multiple elements in IP/CIDR or FROM-TO form\n" +
    "      is supported for IPv4.\n" +
    "      Adding/deleting multiple elements with TCP/SCTP/UDP/UDPLITE\n" +
    "      port range is supported both for IPv4 and IPv6.\n" +
    PORT_USAGE +
    "\n" +
    "Type hash:ip,port supports inet and inet6.\n",
  "hash:net,port":
    "\n" +
    "hash:net,port type specific options:\n" +
    "\n" +
    "create SETNAME hash:net,port \n" +
    "               [family inet|inet6]|[-4|-6]\n" +
    "               [hashsize VALUE]\n" +
    "               [maxelem VALUE]\n" +
    "               [timeout VALUE]\n" +
    "               [counters]\n" +
    "               [comment]\n" +
    "               [forceadd]\n" +
    "               [skbinfo]\n" +
    "               [bucketsize VALUE]\n" +
    "               [initval VALUE]\n" +
    "add    SETNAME hash:net,port IP[/CIDR]|FROM-TO,[PROTO:]PORT\n" +
    "               [timeout VALUE]\n" +
    "               [nomatch]\n" +
    "               [packets VALUE]\n" +
    "               [bytes VALUE]\n" +
    "               [comment \"string\"]\n" +
    "               [skbmark VALUE]\n" +
    "               [skbprio VALUE]\n" +
    "               [skbqueue VALUE]\n" +
    "del    SETNAME hash:net,port IP[/CIDR]|FROM-TO,[PROTO:]PORT\n" +
    "test   SETNAME hash:net,port IP[/CIDR],[PROTO:]PORT\n" +
    "               [nomatch]\n" +
    "\n" +
    "where depending on the INET family\n" +
    "      IP is a valid IPv4 or IPv6 address (or hostname),\n" +
    "      CIDR is a valid IPv4 or IPv6 CIDR prefix.\n" +
    "      Adding/deleting multiple elements with TCP/SCTP/UDP/UDPLITE\n" +
    "      port range is supported both for IPv4 and IPv6.\n" +
    PORT_USAGE +
    "\n" +
    "Type hash:net,port supports inet and inet6.\n",
  "list:set":
    "\n" +
    "list:set type specific options:\n" +
    "\n" +
    "create SETNAME list:set \n" +
    "               [size VALUE]\n" +
    "               [timeout VALUE]\n" +
    "               [counters]\n" +
    "               [comment]\n" +
    "               [skbinfo]\n" +
    "add    SETNAME list:set NAME [before|after NAME]\n" +
    "               [timeout VALUE]\n" +
    "               [before|after NAME]\n" +
    "               [packets VALUE]\n" +
    "               [bytes VALUE]\n" +
    "               [comment \"string\"]\n" +
    "               [skbmark VALUE]\n" +
    "               [skbprio VALUE]\n" +
    "               [skbqueue VALUE]\n" +
    "del    SETNAME list:set NAME [before|after NAME]\n" +
    "               [before|after NAME]\n" +
    "test   SETNAME list:set NAME [before|after NAME]\n" +
    "               [before|after NAME]\n" +
    "\n" +
    "where NAME are existing set names.\n" +
    "\n" +
    "Type list:set is family neutral.\n",
};
