// -i / -o as the kernel compares them (ifname_compare with the mask iptables makes): a name
// ending in `+` matches every device name it starts, any other name only itself; a hook
// without that device (no input device in OUTPUT) compares as "". `!` inverts.

import type { IfaceSpec } from './types.ts';

/** Whether device `dev` ("" for none) matches the rule's -i/-o name, before any `!`. */
export function ifaceNameMatches(pattern: string, dev: string): boolean {
  return pattern.endsWith('+') ? dev.startsWith(pattern.slice(0, -1)) : dev === pattern;
}

/** The -i/-o test of a rule with its `!`, made once per rule (the compiled walk's). */
export function ifaceTest(spec: IfaceSpec): (dev: string | undefined) => boolean {
  const neg = spec.neg;
  if (spec.name.endsWith('+')) {
    const prefix = spec.name.slice(0, -1);
    return (dev) => (dev ?? '').startsWith(prefix) !== neg;
  }
  const name = spec.name;
  return (dev) => ((dev ?? '') === name) !== neg;
}
