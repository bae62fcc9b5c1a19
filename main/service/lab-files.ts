// Reading and writing lab files. Writes are atomic (temporary file, fsync, rename) so a crash
// never leaves half a lab; a file that is not a lab is refused and never written over.

import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import { LIMITS, LabFormatError, parseLabText } from '../../shared/lab-validate.ts';
import type { LabDoc } from '../../shared/lab.ts';

export class LabFileError extends Error {}

export function readLabFile(path: string): LabDoc {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    throw new LabFileError(`${path}: no such lab file`);
  }
  if (size > LIMITS.fileBytes) throw new LabFileError(`${path}: file larger than ${LIMITS.fileBytes} bytes`);
  const text = readFileSync(path, 'utf8');
  try {
    return parseLabText(text, path);
  } catch (e) {
    if (e instanceof LabFormatError) throw new LabFileError(e.message);
    throw e;
  }
}

export function writeLabFile(path: string, doc: LabDoc): void {
  const text = JSON.stringify(doc, null, 2) + '\n';
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export function labFileExists(path: string): boolean {
  return existsSync(path);
}
