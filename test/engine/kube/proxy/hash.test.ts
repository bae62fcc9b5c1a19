// Chain-name hashing (sha256 -> base32 -> 16 characters) against the article's chain names,
// the names in kube-proxy's unit tests, a real kube-proxy's restore log, and node:crypto; plus
// the number formatting both layouts share (probabilities, the %#08x mark).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { base32, kubeHash16, portProtoHash, sepChain, servicePortNameString, sha256, utf8 } from '../../../../main/engine/kube/proxy/hash.ts';
import { goMark, parseCIDRSloppy, cidrString, probability } from '../../../../main/engine/kube/proxy/normalize.ts';

test('the article\'s chain names (default/webapp, unnamed TCP port)', () => {
  assert.equal(kubeHash16('default/webapptcp'), '2IRACUALRELARSND');
  assert.equal(portProtoHash(servicePortNameString('default', 'webapp'), 'TCP'), '2IRACUALRELARSND');
  assert.equal(sepChain('default/webapp', 'tcp', '10.244.120.102:80'), 'KUBE-SEP-AO6KYGU752IZFEZ4');
  assert.equal(sepChain('default/webapp', 'tcp', '10.244.120.103:80'), 'KUBE-SEP-PJFBSHHDX4VZAOXM');
  assert.equal(sepChain('default/webapp', 'tcp', '10.244.120.111:80'), 'KUBE-SEP-5T4S2ILYSXWY3R2J');
});

test('upstream proxier_test.go vectors', () => {
  const svcs: Array<[string, string]> = [
    ['ns1/svc1:p80tcp', 'XPGD46QRK7WJZT7O'],
    ['ns2/svc2:p80tcp', 'GNZBNJ2PO5MGZ6GT'],
    ['ns3/svc3:p80tcp', 'X27LE4BHSL4DOUIK'],
    ['ns4/svc4:p80tcp', '4SW47YFZTEDKD3PK'],
    ['ns5/svc5:p80tcp', 'NUKIZ6OKUXPJNT4C'],
    ['ns2/svc2:p8080tcp', '2VJB64SDSIJUP5T6'],
    ['ns4/svc4:p8082tcp', 'EBDQOQU5SJFXRIL3'],
  ];
  for (const [input, want] of svcs) assert.equal(kubeHash16(input), want, input);
  const seps: Array<[string, string, string]> = [
    ['ns1/svc1:p80', '10.180.0.1:80', 'SXIVWICOYRO3J4NJ'],
    ['ns2/svc2:p80', '10.180.0.2:80', 'RS4RBKLTHTF2IUXJ'],
    ['ns3/svc3:p80', '10.180.0.3:80', 'OYPFS5VJICHGATKP'],
    ['ns4/svc4:p80', '10.180.0.4:80', 'UKSFD7AGPMPPLUHC'],
    ['ns4/svc4:p80', '10.180.0.5:80', 'C6EBXVWJJZMIWKLZ'],
    ['ns5/svc5:p80', '10.180.0.3:80', 'I77PXRDZVX7PMWMN'],
    ['ns1/svc1:p80', '10.0.0.0:80', 'DKGQUZGBKLTPAR56'],
    ['ns3/svc3:p8081', '203.0.113.4:8081', 'RUVVH7YV3PHQBDOS'],
    ['ns4/svc4:p8082', '10.4.0.1:8082', 'SU5STNODRYEWJAUF'],
    ['ns1/svc1:p80', '10.0.1.1:80', 'SNQ3ZNILQDEJNDQO'],
    ['ns2/svc2:p8080', '10.0.2.1:8080', 'UHEGFW77JX3KXTOV'],
    ['ns3/svc3:p80', '10.0.3.1:80', 'BSWRHOQ77KEXZLNL'],
    ['ns3/svc3:p80', '10.0.3.2:80', 'DKCFIS26GWF2WLWC'],
    ['ns3/svc3:p80', '10.0.3.3:80', 'JVVZVJ7BSEPPRNBS'],
    ['ns4/svc4:p80', '10.0.4.1:80', 'AYCN5HPXMIRJNJXU'],
  ];
  for (const [spn, epStr, want] of seps) assert.equal(sepChain(spn, 'tcp', epStr), `KUBE-SEP-${want}`, `${spn} ${epStr}`);
});

test('chain names from a real kube-proxy restore log (kind cluster, kube-dns and kubernetes)', () => {
  assert.equal(kubeHash16('default/kubernetes:httpstcp'), 'NPX46M4PTMTKRN6Y');
  assert.equal(kubeHash16('kube-system/kube-dns:dnsudp'), 'TCOU7JCQXEZGVUNU');
  assert.equal(kubeHash16('kube-system/kube-dns:dns-tcptcp'), 'ERIFXISQEP7F7OF4');
  assert.equal(kubeHash16('kube-system/kube-dns:metricstcp'), 'JD5MR3NA4I4DYORP');
  assert.equal(sepChain('default/kubernetes:https', 'tcp', '172.18.0.2:6443'), 'KUBE-SEP-V2PECCYPB6X2GSCW');
  assert.equal(sepChain('kube-system/kube-dns:dns', 'udp', '10.244.0.10:53'), 'KUBE-SEP-R7EMXN5TTQQVP4UW');
  assert.equal(sepChain('kube-system/kube-dns:metrics', 'tcp', '10.244.0.9:9153'), 'KUBE-SEP-CEWR77HQLZDHWWAJ');
});

test('SHA-256 and base32 agree with node:crypto for every length across the block boundaries', () => {
  for (let len = 0; len < 200; len++) {
    const s = Array.from({ length: len }, (_, i) => String.fromCharCode(33 + ((i * 7 + len) % 90))).join('');
    const want = createHash('sha256').update(s).digest();
    assert.equal(Buffer.from(sha256(utf8(s))).toString('hex'), want.toString('hex'), `length ${len}`);
    assert.equal(kubeHash16(s), refBase32(want).slice(0, 16), `hash16 length ${len}`);
  }
  // Non-ASCII input goes through UTF-8.
  const s = 'ns/svc-é✓😀:p';
  assert.equal(kubeHash16(s), refBase32(createHash('sha256').update(s, 'utf8').digest()).slice(0, 16));
  assert.equal(base32(Uint8Array.from([0x66, 0x6f, 0x6f])), 'MZXW6');
});

/** An independent (bit-string) base32 for cross-checking. */
function refBase32(buf: Buffer): string {
  const bits = [...buf].map((b) => b.toString(2).padStart(8, '0')).join('');
  let out = '';
  for (let i = 0; i + 5 <= bits.length; i += 5) out += 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[parseInt(bits.slice(i, i + 5), 2)];
  return out;
}

test('probabilities are Go %0.10f of 1/n (upstream TestComputeProbability)', () => {
  const want: Record<number, string> = {
    1: '1.0000000000',
    2: '0.5000000000',
    3: '0.3333333333',
    10: '0.1000000000',
    100: '0.0100000000',
    1000: '0.0010000000',
    10000: '0.0001000000',
    100000: '0.0000100000',
    100001: '0.0000099999',
  };
  for (const [n, s] of Object.entries(want)) assert.equal(probability(Number(n)), s, `n=${n}`);
  // 1/2048 = 0.00048828125 exactly: Go rounds the tie to even, JavaScript's toFixed would round up.
  assert.equal(probability(2048), '0.0004882812');
  assert.equal((1 / 2048).toFixed(10), '0.0004882813');
  let prev = 0;
  for (let n = 20000; n > 1; n--) {
    const p = Number(probability(n));
    assert.ok(p > prev, `probability(${n}) must grow`);
    prev = p;
  }
});

test('the masquerade mark is Go %#08x of 1<<bit', () => {
  assert.equal(goMark(14), '0x00004000');
  assert.equal(goMark(15), '0x00008000');
  assert.equal(goMark(0), '0x00000001');
  assert.equal(goMark(31), '0x80000000');
});

test('sloppy CIDRs are canonicalised the way Go prints an IPNet', () => {
  const p = parseCIDRSloppy(' 203.0.113.000/025');
  assert.ok(p);
  assert.equal(cidrString(p), '203.0.113.0/25');
  assert.equal(cidrString(parseCIDRSloppy('10.0.0.5/24')!), '10.0.0.0/24');
  assert.equal(parseCIDRSloppy('10.0.0.0/33'), null);
  assert.equal(parseCIDRSloppy('10.0.0.0'), null);
});
