// Reading and writing lab files (`.kpl` scenario files). Writes are atomic (temporary file,
// fsync, rename, fsync of the folder) so a crash never leaves half a lab; a file that is not a
// lab is refused and never written over.

import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { LabFormatError } from '../../shared/lab-validate.ts';
import type { LabDoc } from '../../shared/lab.ts';
import { SCENARIO_LIMITS, serializeScenario, type Scenario } from '../../shared/scenario.ts';
import { parseScenarioText } from './scenario.ts';

export class LabFileError extends Error {}

/** Reads a lab file whole: the document and its companions (layout, console history, traces). */
export function readScenarioFile(path: string): Scenario {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    throw new LabFileError(`${path}: no such lab file`);
  }
  if (size > SCENARIO_LIMITS.fileBytes) throw new LabFileError(`${path}: file larger than ${SCENARIO_LIMITS.fileBytes} bytes`);
  const text = readFileSync(path, 'utf8');
  try {
    return parseScenarioText(text, path);
  } catch (e) {
    if (e instanceof LabFormatError) throw new LabFileError(e.message);
    throw e;
  }
}

export function readLabFile(path: string): LabDoc {
  return readScenarioFile(path).doc;
}

/** Writes text to a file atomically: a reader sees the old file or the new one, never half. */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
  // The rename itself is durable only once the folder is synced (not possible on every platform).
  try {
    const dfd = openSync(dirname(path) || '.', 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // Windows cannot open a folder for fsync; the rename is still atomic there.
  }
}

export function writeScenarioFile(path: string, s: Scenario): void {
  writeFileAtomic(path, serializeScenario(s));
}

export function writeLabFile(path: string, doc: LabDoc): void {
  writeScenarioFile(path, { doc });
}

export function labFileExists(path: string): boolean {
  return existsSync(path);
}
