// LabService: the one entry point every transport (the kpl CLI now, the app later) uses.
// Each call loads the lab, applies one change through the engine and saves it when something
// changed — one change, one atomic write.

import { emptyLab, type LabDoc, type ListenSpec } from '../../shared/lab.ts';
import { Lab, LabError, type TraceSpec } from '../engine/lab.ts';
import type { TraceReport } from '../engine/datapath/report.ts';
import type { CommandResult } from '../engine/shell/types.ts';
import { LabFileError, labFileExists, readLabFile, writeLabFile } from './lab-files.ts';

export { LabError, LabFileError };
export type { TraceSpec, TraceReport, CommandResult, ListenSpec };

export class LabService {
  create(path: string, opts: { name?: string; seed?: number } = {}): void {
    if (labFileExists(path)) throw new LabFileError(`${path}: already exists`);
    const doc = emptyLab(opts.name ?? defaultName(path));
    if (opts.seed !== undefined) doc.seed = opts.seed;
    writeLabFile(path, doc);
  }

  load(path: string): Lab {
    return Lab.fromDoc(readLabFile(path));
  }

  private change<T>(path: string, fn: (lab: Lab) => T, changed: (r: T) => boolean = () => true): T {
    const lab = this.load(path);
    const r = fn(lab);
    if (changed(r) || lab.runtimeChanged) writeLabFile(path, lab.toDoc());
    return r;
  }

  addLan(path: string, name: string): void {
    this.change(path, (lab) => lab.addLan(name));
  }

  addHost(path: string, name: string, listen: ListenSpec[]): void {
    this.change(path, (lab) => lab.addHost(name, listen));
  }

  addLink(path: string, host: string, lan: string, ip: string, dev?: string): string {
    return this.change(path, (lab) => lab.addLink(host, lan, ip, dev));
  }

  addVeth(path: string, a: { host: string; dev?: string; ip?: string }, b: { host: string; dev?: string; ip?: string }): [string, string] {
    return this.change(path, (lab) => lab.addVeth(a, b));
  }

  exec(path: string, host: string, argv: string[], stdin: string): CommandResult {
    return this.change(path, (lab) => lab.exec(host, argv, stdin), (r) => r.changed);
  }

  trace(path: string, spec: TraceSpec): TraceReport {
    return this.change(path, (lab) => lab.trace(spec), () => spec.keep === true);
  }

  doc(path: string): LabDoc {
    return readLabFile(path);
  }
}

function defaultName(path: string): string {
  const base = path.split(/[\\/]/).pop() ?? 'lab';
  return base.replace(/\.(kpl|json)$/, '') || 'lab';
}
