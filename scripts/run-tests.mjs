// Runs every test/**/*.test.ts with node's built-in runner (TypeScript through tsx).
// Node 20's --test takes no globs, so the files are listed here. `--no-kernel` leaves out
// test/kernel (which needs root and iptables); CI runs everything.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const skipKernel = args.includes('--no-kernel');
const only = args.filter((a) => !a.startsWith('--'));

function walk(dir, out) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

let files = walk('test', []);
if (skipKernel) files = files.filter((f) => !f.startsWith(join('test', 'kernel')));
if (only.length) files = files.filter((f) => only.some((o) => f.includes(o)));
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
