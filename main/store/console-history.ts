// Console history per host of a lab: the lines typed, oldest first, capped so a long session
// cannot grow the database without bound.

import type Database from 'better-sqlite3';

export const HISTORY_KEEP = 1000;

export class ConsoleHistoryRepo {
  constructor(private readonly db: Database.Database, private readonly now: () => number = Date.now, private readonly keep = HISTORY_KEEP) {}

  append(labId: number, host: string, line: string): void {
    this.db.transaction(() => {
      const r = this.db.prepare('SELECT max(seq) AS seq FROM console_history WHERE lab_id = ? AND host = ?').get(labId, host) as { seq: number | null };
      const seq = (r.seq ?? 0) + 1;
      this.db.prepare('INSERT INTO console_history (lab_id, host, seq, line, at) VALUES (?, ?, ?, ?, ?)').run(labId, host, seq, line, this.now());
      this.db.prepare('DELETE FROM console_history WHERE lab_id = ? AND host = ? AND seq <= ?').run(labId, host, seq - this.keep);
    }).immediate();
  }

  /** The host's lines, oldest first (the last `limit` when given). */
  lines(labId: number, host: string, limit = this.keep): string[] {
    const rows = this.db.prepare('SELECT line FROM console_history WHERE lab_id = ? AND host = ? ORDER BY seq DESC LIMIT ?').all(labId, host, limit) as { line: string }[];
    return rows.map((r) => r.line).reverse();
  }

  hosts(labId: number): string[] {
    return (this.db.prepare('SELECT DISTINCT host FROM console_history WHERE lab_id = ? ORDER BY host').all(labId) as { host: string }[]).map((r) => r.host);
  }

  clear(labId: number, host?: string): void {
    if (host === undefined) this.db.prepare('DELETE FROM console_history WHERE lab_id = ?').run(labId);
    else this.db.prepare('DELETE FROM console_history WHERE lab_id = ? AND host = ?').run(labId, host);
  }
}
