// kube-proxy's chain names: prefix + the first 16 characters of base32(sha256(input)), where the
// input is servicePortName + lower-case protocol (+ "ip:port" for KUBE-SEP). SHA-256 lives in
// engine/hash (the engine is pure: no node:crypto); its compression function and state are
// used here directly so the 50,000-endpoint sync hashes in place without allocating.

import { compress, H, sha256, utf8 } from '../../hash/sha256.ts';

export { sha256, utf8 };

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 (standard alphabet, Go's base32.StdEncoding), unpadded. */
export function base32(bytes: Uint8Array): string {
  let out = '';
  let value = 0;
  let bits = 0;
  for (let i = 0; i < bytes.length; i++) {
    value = ((value << 8) | bytes[i]) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31];
  return out;
}

const BLOCK = new Uint8Array(128);
const B32_CODES = Array.from(B32, (c) => c.charCodeAt(0));

/** Copies an ASCII piece into BLOCK at `at`; -1 when it does not fit or is not ASCII. */
function put(piece: string, at: number): number {
  const n = piece.length;
  if (at < 0 || at + n > 119) return -1;
  for (let i = 0; i < n; i++) {
    const c = piece.charCodeAt(i);
    if (c > 0x7f) return -1;
    BLOCK[at + i] = c;
  }
  return at + n;
}

/** Hash of a + b + c without building the concatenation (the KUBE-SEP input has three parts). */
function hash16(a: string, b = '', c = ''): string {
  const len = put(c, put(b, put(a, 0)));
  // 10 bytes are exactly 16 base32 characters, so only those are encoded.
  if (len < 0) return base32(sha256(utf8(a + b + c)).subarray(0, 10));
  const n = len < 56 ? 64 : 128;
  BLOCK[len] = 0x80;
  BLOCK.fill(0, len + 1, n - 2);
  const bits = len * 8;
  BLOCK[n - 2] = bits >>> 8;
  BLOCK[n - 1] = bits & 255;
  H[0] = 0x6a09e667; H[1] = 0xbb67ae85; H[2] = 0x3c6ef372; H[3] = 0xa54ff53a;
  H[4] = 0x510e527f; H[5] = 0x9b05688c; H[6] = 0x1f83d9ab; H[7] = 0x5be0cd19;
  compress(BLOCK, 0);
  if (n === 128) compress(BLOCK, 64);
  // 80 bits: H0, H1 and the top 16 bits of H2, five bits per character.
  const h0 = H[0] >>> 0, h1 = H[1] >>> 0, h2 = H[2] >>> 16;
  const k = B32_CODES;
  return String.fromCharCode(
    k[h0 >>> 27], k[(h0 >>> 22) & 31], k[(h0 >>> 17) & 31], k[(h0 >>> 12) & 31],
    k[(h0 >>> 7) & 31], k[(h0 >>> 2) & 31], k[((h0 & 3) << 3) | (h1 >>> 29)], k[(h1 >>> 24) & 31],
    k[(h1 >>> 19) & 31], k[(h1 >>> 14) & 31], k[(h1 >>> 9) & 31], k[(h1 >>> 4) & 31],
    k[((h1 & 15) << 1) | (h2 >>> 15)], k[(h2 >>> 10) & 31], k[(h2 >>> 5) & 31], k[h2 & 31],
  );
}

/**
 * The 16-character hash kube-proxy appends to its chain prefixes. The common case (an ASCII
 * input of at most 119 bytes) hashes in place without allocating; longer or non-ASCII inputs
 * take the general path.
 */
export function kubeHash16(input: string): string {
  return hash16(input);
}

/** "ns/name" or "ns/name:port" — the proxy.ServicePortName string. */
export function servicePortNameString(namespace: string, name: string, portName?: string): string {
  return portName ? `${namespace}/${name}:${portName}` : `${namespace}/${name}`;
}

/** The suffix shared by KUBE-SVC/SVL/EXT/FW/XLB of one service port. */
export function portProtoHash(servicePortName: string, protocol: string): string {
  return hash16(servicePortName, protocol.toLowerCase());
}

export const svcChain = (hash: string): string => `KUBE-SVC-${hash}`;
export const svlChain = (hash: string): string => `KUBE-SVL-${hash}`;
export const extChain = (hash: string): string => `KUBE-EXT-${hash}`;
export const fwChain = (hash: string): string => `KUBE-FW-${hash}`;
export const xlbChain = (hash: string): string => `KUBE-XLB-${hash}`;

/** KUBE-SEP-… for one endpoint ("ip:port", IPv6 in brackets) of one service port. */
export function sepChain(servicePortName: string, protocol: string, endpoint: string): string {
  return 'KUBE-SEP-' + hash16(servicePortName, protocol.toLowerCase(), endpoint);
}
