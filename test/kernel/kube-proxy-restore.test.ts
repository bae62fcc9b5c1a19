// Every golden kube-proxy output (both layouts) loaded into a real kernel: in a fresh network
// namespace the setup is applied the way kube-proxy and kubelet do it (EnsureChain, then
// EnsureRule: `iptables -C`, else -I/-A), then the text with `iptables-restore --noflush`, which
// must exit 0 — twice, as the periodic resync does. Afterwards every chain of the text must hold
// exactly as many rules in the kernel as the text wrote, deleted stale chains must be gone, and
// for the article's scenes `iptables -t nat -L <chain>` must print the article's listings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addNamespace, checkKernelPrereqs, deleteNamespace, newLabPrefix, run, type RunResult } from './harness/netns.ts';
import { generateKubeProxyRules, type GenerateInput, type GenerateResult } from '../../main/engine/kube/proxy/index.ts';
import { parseDump } from '../engine/kube/proxy/helpers.ts';
import { CURRENT, LEGACY } from '../engine/kube/proxy/scenes.ts';

// Creates nfacct objects (kube-proxy's counters) over netlink: NFNL_SUBSYS_ACCT (7),
// NFNL_MSG_ACCT_NEW (0), attribute NFACCT_NAME (1); fails on a non-zero netlink error.
const NFACCT_PERL = String.raw`
socket(my $s, 16, 3, 12) or die "socket: $!\n";
bind($s, pack('SSLL', 16, 0, 0, 0)) or die "bind: $!\n";
my $seq = 0;
for my $name (@ARGV) {
  my $n = $name . "\0";
  my $alen = 4 + length($n);
  my $attr = pack('SS', $alen, 1) . $n . ("\0" x ((4 - $alen % 4) % 4));
  my $body = pack('CCn', 0, 0, 0) . $attr;
  send($s, pack('LSSLL', 16 + length($body), 7 << 8, 0x1 | 0x4 | 0x400 | 0x200, ++$seq, 0) . $body, 0) or die "send: $!\n";
  defined(recv($s, my $buf, 4096, 0)) or die "recv: $!\n";
  my ($len, $type) = unpack('LS', $buf);
  my $err = unpack('l', substr($buf, 16, 4));
  die "nfacct $name: errno " . (-$err) . "\n" if $type == 2 && $err != 0;
}
`;

function inNs(ns: string, argv: string[], stdin?: string): Promise<RunResult> {
  return run(['ip', 'netns', 'exec', ns, ...argv], { stdin, timeoutMs: 20_000 });
}

async function ok(ns: string, argv: string[], stdin?: string): Promise<RunResult> {
  const r = await inNs(ns, argv, stdin);
  assert.equal(r.code, 0, `${argv.join(' ')}: ${r.stderr}`);
  return r;
}

/** EnsureChain + EnsureRule, as kube-proxy and kubelet run them before the restore. */
async function applySetup(ns: string, r: GenerateResult): Promise<void> {
  for (const c of r.ensureChains) {
    const x = await inNs(ns, ['iptables', '-t', c.table, '-N', c.chain]);
    assert.ok(x.code === 0 || /already exists/.test(x.stderr), `-N ${c.chain}: ${x.stderr}`);
  }
  for (const s of r.staticRules) {
    const check = await inNs(ns, ['iptables', '-t', s.table, '-C', s.chain, ...s.args]);
    if (check.code !== 0) await ok(ns, ['iptables', '-t', s.table, s.op, s.chain, ...s.args]);
  }
}

/** Rules per "table chain" in iptables-save output, and the chains that exist. */
function kernelState(save: string): { rules: Map<string, number>; chains: Set<string> } {
  const rules = new Map<string, number>();
  const chains = new Set<string>();
  let table = '';
  for (const line of save.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1);
    else if (line.startsWith(':')) chains.add(`${table} ${line.slice(1).split(' ')[0]}`);
    else if (line.startsWith('-A ')) {
      const key = `${table} ${line.split(' ')[1]}`;
      rules.set(key, (rules.get(key) ?? 0) + 1);
    }
  }
  return { rules, chains };
}

async function loadScene(name: string, input: GenerateInput, check?: (ns: string) => Promise<void>): Promise<void> {
  const ns = `${newLabPrefix()}kp`;
  await addNamespace(ns);
  try {
    const r = generateKubeProxyRules(input);
    if (input.layout === 'current' && input.node.nfacct !== false) {
      await ok(ns, ['perl', '-e', NFACCT_PERL, 'ct_state_invalid_dropped_pkts', 'localhost_nps_accepted_pkts']);
    }
    // Stale chains kube-proxy would find with iptables-save, each with a rule to be flushed.
    for (const chain of input.existingNatChains ?? []) {
      if (!/^KUBE-(SVC|SVL|SEP|FW|EXT|XLB)-/.test(chain)) continue;
      await ok(ns, ['iptables', '-t', 'nat', '-N', chain]);
      await ok(ns, ['iptables', '-t', 'nat', '-A', chain, '-j', 'RETURN']);
    }
    await applySetup(ns, r);
    for (let round = 1; round <= 2; round++) {
      const restore = await inNs(ns, ['iptables-restore', '--noflush'], r.text);
      assert.equal(restore.code, 0, `${name}, restore ${round}: ${restore.stderr}`);
      assert.equal(restore.stderr, '', `${name}, restore ${round}`);
      const state = kernelState((await ok(ns, ['iptables-save'])).stdout);
      for (const t of parseDump(r.text)) {
        for (const c of t.chains) {
          const key = `${t.name} ${c.name}`;
          if (c.deleted) {
            assert.ok(!state.chains.has(key), `${name}: ${key} was deleted`);
            continue;
          }
          assert.ok(state.chains.has(key), `${name}: ${key} exists`);
          assert.equal(state.rules.get(key) ?? 0, c.rules.length, `${name}, round ${round}: rules in ${key}`);
        }
      }
    }
    for (const s of r.staticRules) await ok(ns, ['iptables', '-t', s.table, '-C', s.chain, ...s.args]);
    if (check) await check(ns);
  } finally {
    await deleteNamespace(ns);
  }
}

test('the kernel tests can run: root, iptables, perl', () => {
  checkKernelPrereqs();
});

for (const [name, make] of Object.entries(LEGACY)) {
  test(`legacy ${name}: iptables-restore loads it`, { timeout: 120_000 }, async () => {
    checkKernelPrereqs();
    await loadScene(`legacy ${name}`, make());
  });
}

for (const [name, make] of Object.entries(CURRENT)) {
  test(`current ${name}: iptables-restore loads it`, { timeout: 120_000 }, async () => {
    checkKernelPrereqs();
    await loadScene(`current ${name}`, make());
  });
}

// ---- the article's `iptables -t nat -L` listings --------------------------------------------

/** Whitespace-separated tokens per line, with the article's typography undone. */
function tokens(listing: string): string[][] {
  return listing
    .trim()
    .split('\n')
    .map((l) => l.trim().replace(/^#\s?/, '').replace(/—/g, '--').replace(/dpt:www/g, 'dpt:http').trim())
    .filter((l) => l !== '')
    .map((l) => l.split(/\s+/));
}

/**
 * The article's `iptables -t nat -L <chain>` (without -n) on the node, token by token. Names
 * come from the local databases, which differ from the article's node: its /etc/services calls
 * port 80 "www" (here "http"), and here /etc/networks names 127.0.0.0 "loopback".
 */
async function assertListing(ns: string, chain: string, article: string, skipReferenceCount = false): Promise<void> {
  const listing = (await ok(ns, ['iptables', '-t', 'nat', '-L', chain])).stdout.replace(/\bloopback\/8\b/g, '127.0.0.0/8');
  const real = tokens(listing);
  const want = tokens(article);
  if (skipReferenceCount) {
    real[0] = real[0].slice(0, 2);
    want[0] = want[0].slice(0, 2);
  }
  assert.deepEqual(real, want, `iptables -t nat -L ${chain}`);
}

test('the article\'s listings of the NodePort scene (kube-proxy v1.19 on minikube)', { timeout: 120_000 }, async () => {
  checkKernelPrereqs();
  await loadScene('article NodePort', LEGACY.articleNodePort(), async (ns) => {
    await assertListing(ns, 'KUBE-SERVICES', `
      # Chain                      KUBE-SERVICES  (2   references)
      # target                     prot           opt  source          destination
      # KUBE-MARK-MASQ             tcp            --   !10.244.0.0/16  10.103.46.104   /*  default/webapp cluster  IP   */     tcp   dpt:www
      # KUBE-SVC-2IRACUALRELARSND  tcp            --   anywhere        10.103.46.104   /*  default/webapp cluster  IP   */     tcp   dpt:www
      # KUBE-NODEPORTS             all            --   anywhere        anywhere        /*  kubernetes service nodeports; NOTE: this must be the last rule in this chain  */  ADDRTYPE  match  dst-type  LOCAL
    `);
    await assertListing(ns, 'KUBE-NODEPORTS', `
      # Chain                      KUBE-NODEPORTS  (1   references)
      # target                     prot            opt  source       destination
      # KUBE-MARK-MASQ             tcp             --   anywhere     anywhere     /*  default/webapp  */  tcp  dpt:31380
      # KUBE-SVC-2IRACUALRELARSND  tcp             --   anywhere     anywhere     /*  default/webapp  */  tcp  dpt:31380
    `);
    await assertListing(ns, 'KUBE-SVC-2IRACUALRELARSND', `
      # Chain                      KUBE-SVC-2IRACUALRELARSND  (2   references)
      # target                     prot                       opt  source       destination
      # KUBE-SEP-AO6KYGU752IZFEZ4  all                        --   anywhere     anywhere     /*  default/webapp  */  statistic  mode  random  probability  0.50000000000
      # KUBE-SEP-PJFBSHHDX4VZAOXM  all                        --   anywhere     anywhere     /*  default/webapp  */
    `);
    await assertListing(ns, 'KUBE-SEP-AO6KYGU752IZFEZ4', `
      # Chain           KUBE-SEP-AO6KYGU752IZFEZ4  (1   references)
      # target          prot                       opt  source          destination
      # KUBE-MARK-MASQ  all                        --   10.244.120.102  anywhere     /*  default/webapp  */
      # DNAT            tcp                        --   anywhere        anywhere     /*  default/webapp  */  tcp  to:10.244.120.102:80
    `);
    await assertListing(ns, 'KUBE-SEP-PJFBSHHDX4VZAOXM', `
      # Chain           KUBE-SEP-PJFBSHHDX4VZAOXM  (1   references)
      # target          prot                       opt  source          destination
      # KUBE-MARK-MASQ  all                        --   10.244.120.103  anywhere     /*  default/webapp  */
      # DNAT            tcp                        --   anywhere        anywhere     /*  default/webapp  */  tcp  to:10.244.120.103:80
    `);
    // The article's node counts 24 references to KUBE-MARK-MASQ from its other services.
    await assertListing(
      ns,
      'KUBE-MARK-MASQ',
      `
      # Chain   KUBE-MARK-MASQ  (24  references)
      # target  prot            opt  source       destination
      # MARK    all             --   anywhere     anywhere     MARK  or  0x4000
    `,
      true,
    );
  });
});

test('the article\'s listings of the externalTrafficPolicy: Local scene on both nodes', { timeout: 120_000 }, async () => {
  checkKernelPrereqs();
  const nodePorts = `
    # Chain KUBE-NODEPORTS (1 references)
    # target                     prot  opt  source       destination
    # KUBE-MARK-MASQ             tcp   —    127.0.0.0/8  anywhere    /* default/webapp */ tcp dpt:30080
    # KUBE-XLB-2IRACUALRELARSND  tcp   —    anywhere     anywhere    /* default/webapp */ tcp dpt:30080
  `;
  await loadScene('article eTP=Local, minikube-m02', LEGACY.articleLocalWithoutPod(), async (ns) => {
    await assertListing(ns, 'KUBE-NODEPORTS', nodePorts);
    await assertListing(ns, 'KUBE-XLB-2IRACUALRELARSND', `
      # Chain KUBE-XLB-2IRACUALRELARSND (1 references)
      # target                     prot  opt  source          destination
      # KUBE-SVC-2IRACUALRELARSND  all   —    10.244.0.0/16   anywhere     /* Redirect pods trying to reach external loadbalancer VIP to clusterIP */
      # KUBE-MARK-MASQ             all   —    anywhere        anywhere     /* masquerade LOCAL traffic for default/webapp LB IP */ ADDRTYPE match src-type LOCAL
      # KUBE-SVC-2IRACUALRELARSND  all   —    anywhere        anywhere     /* route LOCAL traffic for default/webapp LB IP to service chain */ ADDRTYPE match src-type LOCAL
      # KUBE-MARK-DROP             all   —    anywhere        anywhere     /* default/webapp has no local endpoints */
    `);
  });
  await loadScene('article eTP=Local, minikube', LEGACY.articleLocalWithPod(), async (ns) => {
    await assertListing(ns, 'KUBE-NODEPORTS', nodePorts);
    await assertListing(ns, 'KUBE-XLB-2IRACUALRELARSND', `
      # Chain KUBE-XLB-2IRACUALRELARSND (1 references)
      # target                     prot  opt  source         destination
      # KUBE-SVC-2IRACUALRELARSND  all   —    10.244.0.0/16  anywhere /* Redirect pods trying to reach external loadbalancer VIP to clusterIP */
      # KUBE-MARK-MASQ             all   —    anywhere       anywhere /* masquerade LOCAL traffic for default/webapp LB IP */ ADDRTYPE match src-type LOCAL
      # KUBE-SVC-2IRACUALRELARSND  all   —    anywhere       anywhere /* route LOCAL traffic for default/webapp LB IP to service chain */ ADDRTYPE match src-type LOCAL
      # KUBE-SEP-5T4S2ILYSXWY3R2J  all   —    anywhere       anywhere /* Balancing rule 0 for default/webapp */
    `);
    await assertListing(ns, 'KUBE-SVC-2IRACUALRELARSND', `
      # Chain KUBE-SVC-2IRACUALRELARSND (3 references)
      # target                     prot  opt  source         destination
      # KUBE-SEP-5T4S2ILYSXWY3R2J  all   —    anywhere       anywhere /* default/webapp */
    `);
  });
});
