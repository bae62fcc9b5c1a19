// Saved traces: the full report JSON of a trace, under a name per lab, with the seed it ran
// with so it can be replayed.

import type Database from 'better-sqlite3';

export interface TraceRow {
  id: number;
  name: string;
  seed: number;
  at: number;
}

export class TraceRepo {
  constructor(private readonly db: Database.Database, private readonly now: () => number = Date.now) {}

  /** Saves (or replaces) the trace called `name` in the lab (`at`: when it was made, default now). */
  save(labId: number, name: string, seed: number, report: unknown, at = this.now()): TraceRow {
    const r = this.db.prepare(`INSERT INTO traces (lab_id, name, seed, body, at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (lab_id, name) DO UPDATE SET seed = excluded.seed, body = excluded.body, at = excluded.at
      RETURNING id`).get(labId, name, seed, JSON.stringify(report), at) as { id: number };
    return { id: r.id, name, seed, at };
  }

  list(labId: number): TraceRow[] {
    return this.db.prepare('SELECT id, name, seed, at FROM traces WHERE lab_id = ? ORDER BY name').all(labId) as TraceRow[];
  }

  /** The saved report, or undefined when there is no such trace. */
  get(labId: number, name: string): { seed: number; report: unknown } | undefined {
    const r = this.db.prepare('SELECT seed, body FROM traces WHERE lab_id = ? AND name = ?').get(labId, name) as { seed: number; body: string } | undefined;
    return r && { seed: r.seed, report: JSON.parse(r.body) as unknown };
  }

  delete(labId: number, name: string): boolean {
    return this.db.prepare('DELETE FROM traces WHERE lab_id = ? AND name = ?').run(labId, name).changes > 0;
  }
}
