// SHA-1 (FIPS 180-4): Calico names a pod's host-side veth after it (libcalico-go
// VethNameForWorkload), so the engine needs it without node:crypto.

export function sha1(msg: Uint8Array): Uint8Array {
  const h = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0];
  const n = ((msg.length + 8) >> 6) + 1;
  const buf = new Uint8Array(n * 64);
  buf.set(msg);
  buf[msg.length] = 0x80;
  const bits = msg.length * 8;
  const hi = Math.floor(bits / 0x100000000);
  const e = buf.length;
  buf[e - 8] = hi >>> 24;
  buf[e - 7] = (hi >>> 16) & 255;
  buf[e - 6] = (hi >>> 8) & 255;
  buf[e - 5] = hi & 255;
  buf[e - 4] = bits >>> 24;
  buf[e - 3] = (bits >>> 16) & 255;
  buf[e - 2] = (bits >>> 8) & 255;
  buf[e - 1] = bits & 255;
  const w = new Int32Array(80);
  for (let off = 0; off < buf.length; off += 64) {
    for (let i = 0; i < 16; i++) {
      const j = off + i * 4;
      w[i] = (buf[j] << 24) | (buf[j + 1] << 16) | (buf[j + 2] << 8) | buf[j + 3];
    }
    for (let i = 16; i < 80; i++) {
      const x = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16];
      w[i] = (x << 1) | (x >>> 31);
    }
    let a = h[0], b = h[1], c = h[2], d = h[3], f0 = h[4];
    for (let i = 0; i < 80; i++) {
      let f: number, k: number;
      if (i < 20) { f = (b & c) | (~b & d); k = 0x5a827999; }
      else if (i < 40) { f = b ^ c ^ d; k = 0x6ed9eba1; }
      else if (i < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8f1bbcdc; }
      else { f = b ^ c ^ d; k = 0xca62c1d6; }
      const t = (((a << 5) | (a >>> 27)) + f + f0 + k + w[i]) | 0;
      f0 = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    h[0] = (h[0] + a) | 0;
    h[1] = (h[1] + b) | 0;
    h[2] = (h[2] + c) | 0;
    h[3] = (h[3] + d) | 0;
    h[4] = (h[4] + f0) | 0;
  }
  const out = new Uint8Array(20);
  for (let i = 0; i < 5; i++) {
    out[i * 4] = h[i] >>> 24;
    out[i * 4 + 1] = (h[i] >>> 16) & 255;
    out[i * 4 + 2] = (h[i] >>> 8) & 255;
    out[i * 4 + 3] = h[i] & 255;
  }
  return out;
}
