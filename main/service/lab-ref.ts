// Where a lab lives: a LAB argument is a file when it names an existing file (not a folder), ends in .kpl or
// .json, or contains a path separator; anything else is the name of a lab in the store. And
// where the store lives: --db, then KPL_DB, then the per-user data folder.

import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export type LabTarget = { kind: 'file'; path: string } | { kind: 'store'; name: string };

export function looksLikeFile(ref: string): boolean {
  return /\.(kpl|json)$/i.test(ref) || ref.includes('/') || ref.includes('\\') || ref === '-' || ref === '.' || ref === '..';
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

export function resolveRef(ref: string): LabTarget {
  if (typeof ref !== 'string' || ref === '') throw new TypeError('a lab reference must be a non-empty string');
  if (looksLikeFile(ref) || isFile(ref)) return { kind: 'file', path: ref };
  return { kind: 'store', name: ref };
}

/** The default database file: the app's per-user data folder on each platform. */
export function defaultDbPath(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home = homedir()): string {
  if (env.KPL_DB) return env.KPL_DB;
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'Kube Packet Lab', 'labs.db');
  if (platform === 'win32') return join(env.APPDATA || join(home, 'AppData', 'Roaming'), 'Kube Packet Lab', 'labs.db');
  return join(env.XDG_DATA_HOME || join(home, '.local', 'share'), 'kube-packet-lab', 'labs.db');
}
