// Editor layout per lab (node positions, zoom, open panels): opaque JSON owned by the app.

import type Database from 'better-sqlite3';

export class LayoutRepo {
  constructor(private readonly db: Database.Database, private readonly now: () => number = Date.now) {}

  set(labId: number, layout: unknown): void {
    this.db.prepare('INSERT INTO layouts (lab_id, body, at) VALUES (?, ?, ?) ON CONFLICT (lab_id) DO UPDATE SET body = excluded.body, at = excluded.at')
      .run(labId, JSON.stringify(layout), this.now());
  }

  /** The saved layout, or undefined when the lab has none yet. */
  get(labId: number): unknown {
    const r = this.db.prepare('SELECT body FROM layouts WHERE lab_id = ?').get(labId) as { body: string } | undefined;
    return r ? (JSON.parse(r.body) as unknown) : undefined;
  }
}
