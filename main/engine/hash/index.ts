// Pure hash functions for the engine (no node:crypto): SHA-1, SHA-224/256, SHA3-224, and the
// encodings their callers print them in.

export { sha1 } from './sha1.ts';
export { sha224, sha256, utf8 } from './sha256.ts';
export { sha3_224 } from './sha3.ts';
export { base64url, hex } from './encode.ts';
