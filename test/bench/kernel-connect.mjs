// Runs inside a benchmark namespace: times TCP connect() to each given address (alternating,
// `rounds` times) and prints the median microseconds per address as JSON. The first packet
// of each connection walks the nat table, so the difference between a Service near the top
// of KUBE-SERVICES and one at the bottom is the kernel's cost of the rules in between.
import net from 'node:net';

const [rounds, ...targets] = process.argv.slice(2);
const n = Number(rounds);
const times = new Map(targets.map((t) => [t, []]));

function connectOnce(target) {
  const [host, port] = target.split(':');
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const s = net.connect({ host, port: Number(port) });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`connect to ${target} timed out`));
    }, 2000);
    s.once('connect', () => {
      const us = Number(process.hrtime.bigint() - t0) / 1000;
      clearTimeout(timer);
      s.destroy();
      resolve(us);
    });
    s.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

for (let i = 0; i < n; i++) for (const t of targets) times.get(t).push(await connectOnce(t));
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
console.log(JSON.stringify(Object.fromEntries([...times].map(([t, a]) => [t, median(a)]))));
