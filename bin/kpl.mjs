#!/usr/bin/env node
// The kpl command: runs the TypeScript CLI through tsx's loader.
import { register } from 'tsx/esm/api';

register();
const { runKpl, readStdin } = await import('../main/cli/kpl.ts');
let stdinText;
const code = runKpl(process.argv.slice(2), () => (stdinText ??= readStdin()), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
});
process.exitCode = code;
