// One process per lab host, started inside the host's namespace with
//   ip netns exec NS node agent.mjs <hostname> '<listen JSON>'
// It serves the host's listening ports and runs TCP/UDP probes from the host, driven by JSON
// lines on stdin and answering with JSON lines on stdout. Servers answer every TCP connection
// and UDP datagram with "<hostname> <peer ip>:<peer port>\n" (the peer as the kernel shows it,
// which reveals SNAT). UDP replies leave FROM the address the datagram was sent to: one socket
// is bound per local address, so conntrack's reverse NAT applies to the reply.
// The agent exits when its stdin closes, so it never outlives the harness.
import net from 'node:net';
import dgram from 'node:dgram';
import os from 'node:os';
import process from 'node:process';
import { setTimeout, clearTimeout, setImmediate } from 'node:timers';
import { createInterface } from 'node:readline';

const [hostname, listenJson] = process.argv.slice(2);
const listen = JSON.parse(listenJson ?? '[]');

function send(obj) {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

function answer(peerAddress, peerPort) {
  return `${hostname} ${peerAddress}:${peerPort}\n`;
}

// ---- servers --------------------------------------------------------------------------------

const tcpServers = [];
const udpSockets = new Map(); // "addr:port" -> socket

function startTcp(port) {
  return new Promise((resolve, reject) => {
    const server = net.createServer((sock) => {
      sock.on('error', () => undefined);
      sock.end(answer(sock.remoteAddress, sock.remotePort));
    });
    server.once('error', reject);
    server.listen({ port, host: '0.0.0.0', backlog: 128 }, () => resolve());
    tcpServers.push(server);
  });
}

function localIPv4Addresses() {
  const out = [];
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' || a.family === 4) out.push(a.address);
  }
  return out;
}

function bindUdp(address, port) {
  const key = `${address}:${port}`;
  if (udpSockets.has(key)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    // reuseAddr lets the per-address sockets coexist with the wildcard fallback; the kernel
    // delivers to the most specific bound socket.
    const sock = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    sock.on('message', (_msg, rinfo) => {
      sock.send(answer(rinfo.address, rinfo.port), rinfo.port, rinfo.address);
    });
    sock.once('error', reject);
    sock.bind({ address, port, exclusive: true }, () => {
      sock.removeListener('error', reject);
      sock.on('error', () => undefined);
      resolve();
    });
    udpSockets.set(key, sock);
  });
}

/** Bind UDP sockets for every local address (addresses may have been added since start). */
async function bindAllUdp() {
  const addrs = localIPv4Addresses();
  for (const l of listen) {
    if (l.proto !== 'udp') continue;
    // The wildcard catches addresses added later without a rescan (source then by routing).
    await bindUdp('0.0.0.0', l.port);
    for (const a of addrs) await bindUdp(a, l.port);
  }
  return addrs;
}

// ---- probes ---------------------------------------------------------------------------------

const UNREACHABLE = new Set(['EHOSTUNREACH', 'ENETUNREACH']);
const RETRYABLE_BIND = new Set(['EADDRINUSE', 'EADDRNOTAVAIL']);

// How long a connected TCP probe waits for the server's answer beyond its timeout.
const ANSWER_GRACE_MS = 2000;

/**
 * Run `fn` after the event loop's next poll phase. A timer that fires late (this process was
 * waiting for a busy CPU) runs BEFORE the I/O that arrived meanwhile; deciding "timeout" only
 * after that I/O has been handled keeps a starved agent from reporting a reply as lost.
 */
function afterPendingIo(fn) {
  setImmediate(fn);
}

function parseAnswer(line) {
  const m = /^(\S+) (\S+)$/.exec(line.trim());
  return m ? { server: m[1], peer: m[2] } : { detail: `unexpected answer ${JSON.stringify(line)}` };
}

function outcomeOfError(err) {
  if (err.code === 'ECONNREFUSED') return { outcome: 'refused', detail: err.code };
  if (UNREACHABLE.has(err.code)) return { outcome: 'unreachable', detail: err.code };
  return { outcome: 'error', detail: `${err.code ?? ''} ${err.message}`.trim() };
}

function tcpOnce(p) {
  return new Promise((resolve) => {
    let done = false;
    let buf = '';
    let connected = false;
    const opts = { host: p.to, port: p.port, localPort: p.sport, family: 4 };
    if (p.src) opts.localAddress = p.src;
    else opts.localAddress = '0.0.0.0';
    const sock = net.connect(opts);
    const finish = (r) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(r);
    };
    let timer = setTimeout(
      () =>
        afterPendingIo(() => {
          if (done) return;
          if (!connected) {
            sock.destroy();
            finish({ outcome: 'timeout' });
            return;
          }
          // The handshake completed in time: the outcome is delivered, only the server's answer
          // (naming it) is late, e.g. because its agent waits for a busy CPU. Give it longer.
          timer = setTimeout(
            () =>
              afterPendingIo(() => {
                sock.destroy();
                finish({ outcome: 'delivered', detail: 'connected, no answer' });
              }),
            ANSWER_GRACE_MS,
          );
        }),
      p.timeoutMs,
    );
    sock.setEncoding('utf8');
    sock.on('connect', () => (connected = true));
    sock.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        sock.end();
        finish({ outcome: 'delivered', ...parseAnswer(buf.slice(0, nl)) });
      }
    });
    sock.on('end', () => {
      if (!done) finish({ outcome: 'delivered', ...parseAnswer(buf) });
    });
    sock.on('error', (err) => {
      sock.destroy();
      finish({ ...outcomeOfError(err), code: err.code });
    });
  });
}

function udpOnce(p) {
  return new Promise((resolve) => {
    let done = false;
    const sock = dgram.createSocket({ type: 'udp4' });
    const finish = (r) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      try {
        sock.close();
      } catch {
        // already closed
      }
      resolve(r);
    };
    const timer = setTimeout(() => afterPendingIo(() => finish({ outcome: 'timeout' })), p.timeoutMs);
    // A connected socket: replies from any other address are dropped by the kernel, and ICMP
    // errors for our datagram surface as socket errors (port unreachable = ECONNREFUSED).
    sock.on('error', (err) => finish({ ...outcomeOfError(err), code: err.code }));
    sock.on('message', (msg) => finish({ outcome: 'delivered', ...parseAnswer(msg.toString('utf8')) }));
    sock.bind({ address: p.src ?? '0.0.0.0', port: p.sport, exclusive: true }, () => {
      sock.connect(p.port, p.to, (err) => {
        if (err) return finish({ ...outcomeOfError(err), code: err.code });
        // (4 bytes: the engine's datagram is 32 bytes long)
        sock.send('kpl\n', (e) => {
          if (e) finish({ ...outcomeOfError(e), code: e.code });
        });
      });
    });
  });
}

async function probe(p) {
  // Not one of ours: bind() would fail with the same errno as a busy 4-tuple, so say it now.
  if (p.src && !localIPv4Addresses().includes(p.src)) return { outcome: 'error', detail: `EADDRNOTAVAIL ${p.src} is not an address of ${hostname}` };
  const once = p.proto === 'udp' ? udpOnce : tcpOnce;
  // A just-closed probe with the same 4-tuple may linger for a moment (LAST_ACK): retry briefly.
  for (let attempt = 0; ; attempt++) {
    const r = await once(p);
    if (r.outcome === 'error' && RETRYABLE_BIND.has(r.code) && attempt < 5) {
      await new Promise((res) => setTimeout(res, 40));
      continue;
    }
    delete r.code;
    return r;
  }
}

// ---- command loop ---------------------------------------------------------------------------

async function handle(cmd) {
  try {
    if (cmd.op === 'probe') send({ id: cmd.id, ...(await probe(cmd)) });
    else if (cmd.op === 'rescan') send({ id: cmd.id, addresses: await bindAllUdp() });
    else send({ id: cmd.id, error: `unknown op ${cmd.op}` });
  } catch (err) {
    send({ id: cmd.id, error: String(err?.message ?? err) });
  }
}

async function main() {
  try {
    for (const l of listen) if (l.proto === 'tcp') await startTcp(l.port);
    const addresses = await bindAllUdp();
    send({ ready: true, addresses });
  } catch (err) {
    send({ fatal: String(err?.message ?? err) });
    process.exit(1);
  }
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    if (line.trim()) handle(JSON.parse(line));
  });
  rl.on('close', () => process.exit(0));
}

main();
