// A first TCP segment other than a SYN, on the engine and on the real kernel: the same two hosts
// (the server dropping INVALID packets, which loads conntrack in its namespace), a segment sent
// from the client with each set of flags (a raw socket, harness/tcp-segment.pl), and what comes
// back compared: a listener's SYN,ACK to a SYN and RST to an ACK, nothing to a RST, to SYN,ACK
// or FIN,ACK out of nowhere (conntrack finds them INVALID); a closed port's bare RST or RST,ACK;
// a plain ACK INVALID too once nf_conntrack_tcp_loose is 0. Then the server's conntrack entries.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Lab } from '../../main/engine/lab.ts';
import { labDoc } from './harness/labdoc.ts';
import { buildKernelLab } from './harness/build.ts';
import { checkKernelPrereqs } from './harness/netns.ts';
import { ctTuples } from './compare.ts';
import type { TraceJson } from '../../shared/trace-json.ts';

const SEGMENT = fileURLToPath(new URL('./harness/tcp-segment.pl', import.meta.url));
const A = '192.168.9.10';
const B = '192.168.9.20';

test('prerequisites: root and the real tools', () => checkKernelPrereqs());

for (const loose of [1, 0]) {
  test(`TCP flags of a first segment, nf_conntrack_tcp_loose=${loose}: the answers and the server's conntrack agree with the kernel`, async () => {
    const doc = labDoc({
      hosts: {
        a: { links: [`eth0 lan1 ${A}/24`] },
        b: { links: [`eth0 lan1 ${B}/24`], listen: ['tcp/80'] },
      },
      journal: [
        ['b', ['iptables-restore'], '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m conntrack --ctstate INVALID -j DROP\n-A INPUT -m conntrack --ctstate NEW -j ACCEPT\nCOMMIT\n'],
        ['b', ['sysctl', '-w', `net.netfilter.nf_conntrack_tcp_loose=${loose}`], ''],
      ],
    });
    const engine = Lab.fromDoc(doc);
    const kernel = await buildKernelLab(doc);
    try {
      let sport = 41000;
      for (const [port, flags] of [[80, 'SYN'], [80, 'ACK'], [80, 'SYN,ACK'], [80, 'FIN,ACK'], [80, 'RST'], [80, 'PSH,ACK'], [81, 'SYN'], [81, 'ACK'], [81, 'RST']] as const) {
        sport++;
        await kernel.flushConntrack('b');
        engine.exec('b', ['conntrack', '-F'], '');
        const ns = kernel.hostNamespaces.get('a')!;
        const k = await kernel.exec('a', ['perl', SEGMENT, B, String(port), A, String(sport), flags, '600']);
        const kAnswer = k.stdout.trim();
        assert.match(kAnswer, /^(answer \S+|none)$/, `${flags}: ${k.stdout} ${k.stderr} (${ns})`);
        const t = engine.trace({ from: 'a', to: `${B}:${port}`, proto: 'tcp', sport, keep: true, ...(flags === 'SYN' ? {} : { tcpFlags: flags }) }).json as TraceJson;
        const eAnswer = t.reply && t.reply.outcome === 'delivered' ? `answer ${t.reply.packet.flags}` : 'none';
        assert.equal(eAnswer, kAnswer, `${flags} to port ${port} (loose ${loose}): engine ${t.outcome} (${t.reason}), answer ${t.reply?.outcome ?? 'none'}`);
        // The server's conntrack: the same connections (tuples), or none.
        const kt = ctTuples(await kernel.conntrack('b')).filter((x) => x.includes(`sport=${sport} `));
        const et = ctTuples(engine.exec('b', ['conntrack', '-L'], '').stdout).filter((x) => x.includes(`sport=${sport} `));
        assert.deepEqual(et, kt, `${flags} to port ${port} (loose ${loose}): conntrack of b`);
      }
    } finally {
      await kernel.destroy();
    }
  });
}
