// Application settings: string keys, JSON values.

import type Database from 'better-sqlite3';

export class SettingsRepo {
  constructor(private readonly db: Database.Database) {}

  get(key: string): unknown {
    const r = this.db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined;
    return r ? (JSON.parse(r.value) as unknown) : undefined;
  }

  set(key: string, value: unknown): void {
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError(`setting ${JSON.stringify(key)}: value is not JSON`);
    this.db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, text);
  }

  delete(key: string): boolean {
    return this.db.prepare('DELETE FROM settings WHERE key = ?').run(key).changes > 0;
  }

  all(): Record<string, unknown> {
    const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const r of this.db.prepare('SELECT key, value FROM settings ORDER BY key').all() as { key: string; value: string }[]) out[r.key] = JSON.parse(r.value) as unknown;
    return out;
  }
}
