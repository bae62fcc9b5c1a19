// `-f FILE` / `-f -`: the manifest text and the name kubectl gives it in messages.

import type { KubectlEnv } from './env.ts';

export interface Source {
  name: string;
  text: string;
}

/** The sources named by the -f flags, or kubectl's error for a missing one. */
export function readSources(files: string[], stdin: string, env: KubectlEnv): Source[] | string {
  const out: Source[] = [];
  for (const f of files) {
    if (f === '-') out.push({ name: 'STDIN', text: stdin });
    else if (env.files && Object.prototype.hasOwnProperty.call(env.files, f)) out.push({ name: f, text: env.files[f] });
    else return `error: the path "${f}" does not exist`;
  }
  return out;
}
