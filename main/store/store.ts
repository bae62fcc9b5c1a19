// The store: one SQLite database file holding every lab and what goes with it. Open it once
// per process; `report` says whether it was created, migrated, or a damaged file was set aside
// (which the caller must tell the user).

import type Database from 'better-sqlite3';
import { openDatabase, type OpenOptions, type OpenReport } from './db.ts';
import { LabRepo, type LabRepoOptions } from './labs.ts';
import { TraceRepo } from './traces.ts';
import { ConsoleHistoryRepo } from './console-history.ts';
import { LayoutRepo } from './layouts.ts';
import { SettingsRepo } from './settings.ts';

export class Store {
  readonly labs: LabRepo;
  readonly traces: TraceRepo;
  readonly consoleHistory: ConsoleHistoryRepo;
  readonly layouts: LayoutRepo;
  readonly settings: SettingsRepo;

  private constructor(readonly db: Database.Database, readonly report: OpenReport, opts: LabRepoOptions) {
    const now = opts.now ?? Date.now;
    this.labs = new LabRepo(db, opts);
    this.traces = new TraceRepo(db, now);
    this.consoleHistory = new ConsoleHistoryRepo(db, now);
    this.layouts = new LayoutRepo(db, now);
    this.settings = new SettingsRepo(db);
  }

  static open(path: string, opts: OpenOptions & LabRepoOptions = {}): Store {
    const { db, report } = openDatabase(path, opts);
    return new Store(db, report, opts);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
