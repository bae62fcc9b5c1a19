// Calico's names, computed as Felix and libcalico-go compute them: the host-side veth of a pod
// (VethNameForWorkload), length-limited chain names (hashutils.GetLengthLimitedID), policy and
// profile chains, IP set IDs (hash.MakeUniqueID of the canonical selector) and kernel set names.

import { base64url, hex, sha1, sha224, sha256, utf8 } from '../../hash/index.ts';

export const MAX_CHAIN_NAME = 28;

const veths = new Map<string, string>();

/** `cali` + the first 11 hex characters of SHA-1("<namespace>.<pod>"). */
export function vethName(namespace: string, pod: string, prefix = 'cali'): string {
  const key = `${namespace}.${pod}`;
  let h = veths.get(key);
  if (h === undefined) {
    h = hex(sha1(utf8(key))).slice(0, 11);
    if (veths.size > 100_000) veths.clear();
    veths.set(key, h);
  }
  return prefix + h;
}

/** prefix+suffix when it fits in maxLen, else prefix + "_" + base64url(SHA-256(suffix)) cut to fit. */
const limited = new Map<string, string>();

export function lengthLimitedId(prefix: string, suffix: string, maxLen = MAX_CHAIN_NAME): string {
  const key = `${maxLen} ${prefix} ${suffix}`;
  let v = limited.get(key);
  if (v === undefined) {
    v = computeLimited(prefix, suffix, maxLen);
    if (limited.size > 100_000) limited.clear();
    limited.set(key, v);
  }
  return v;
}

function computeLimited(prefix: string, suffix: string, maxLen: number): string {
  const fits = prefix.length + suffix.length <= maxLen && !(prefix.length + suffix.length === maxLen && suffix.startsWith('_'));
  if (fits) return prefix + suffix;
  const h = base64url(sha256(utf8(suffix)));
  return prefix + '_' + h.slice(0, maxLen - 1 - prefix.length);
}

/** The Calico name of a k8s NetworkPolicy (≤ v3.31). */
export function knpName(name: string): string {
  return `knp.default.${name}`;
}

/** Felix's policy ID string (≤ v3.28): "<namespace>/knp.default.<name>". */
export function policyId(namespace: string, name: string): string {
  return `${namespace}/${knpName(name)}`;
}

export function policyChain(dir: 'ingress' | 'egress', id: string): string {
  return lengthLimitedId(dir === 'ingress' ? 'cali-pi-' : 'cali-po-', id);
}

export function profileChain(dir: 'ingress' | 'egress', profile: string): string {
  return lengthLimitedId(dir === 'ingress' ? 'cali-pri-' : 'cali-pro-', profile);
}

export function endpointChain(dir: 'to' | 'from', iface: string): string {
  return lengthLimitedId(dir === 'to' ? 'cali-tw-' : 'cali-fw-', iface);
}

const ids = new Map<string, string>();

/** hash.MakeUniqueID: prefix + ":" + base64url(SHA-224(prefix + ":" + identifier)). */
function uniqueId(prefix: string, identifier: string): string {
  const key = `${prefix}:${identifier}`;
  let id = ids.get(key);
  if (id === undefined) {
    id = `${prefix}:` + base64url(sha224(utf8(key)));
    if (ids.size > 100_000) ids.clear();
    ids.set(key, id);
  }
  return id;
}

/** IP set ID of a canonical selector: `s:<38 chars>`. */
export function selectorSetId(canonical: string): string {
  return uniqueId('s', canonical);
}

/** IP set ID of a named port over the endpoints of a selector: `n:<38 chars>`. */
export function namedPortSetId(selectorId: string, proto: 'tcp' | 'udp' | 'sctp', port: string): string {
  return uniqueId('n', `${selectorId},${proto},${port}`);
}

/** The kernel's name of a Felix IPv4 set: ("cali40" + id) cut to 31 characters. */
export function ipsetName(id: string): string {
  return ('cali40' + id).slice(0, 31);
}
