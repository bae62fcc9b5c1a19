#!/usr/bin/env node
// Draws the app icon (the same picture as icons/icon.svg: a blue rounded square, a white
// hexagon, a yellow packet on its path) into icons/icon.png (512x512) and icons/256x256.png,
// with a tiny PNG encoder, so packaging needs no image tools. Run: node build/make-icons.mjs

import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));

function crc32(buf) {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

function png(size, pixel) {
  const raw = Buffer.alloc((size * 4 + 1) * size);
  const S = 4; // supersampling for smooth edges
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0;
    for (let x = 0; x < size; x++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let sy = 0; sy < S; sy++) for (let sx = 0; sx < S; sx++) {
        const p = pixel(((x + (sx + 0.5) / S) / size) * 64, ((y + (sy + 0.5) / S) / size) * 64);
        r += p[0] * p[3]; g += p[1] * p[3]; b += p[2] * p[3]; a += p[3];
      }
      const o = y * (size * 4 + 1) + 1 + x * 4;
      raw[o] = a ? Math.round(r / a) : 0;
      raw[o + 1] = a ? Math.round(g / a) : 0;
      raw[o + 2] = a ? Math.round(b / a) : 0;
      raw[o + 3] = Math.round((a / (S * S)) * 255);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; ihdr[9] = 6; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

const hex = [[32, 10], [51, 21], [51, 43], [32, 54], [13, 43], [13, 21]];
function segDist(px, py, [ax, ay], [bx, by]) {
  const dx = bx - ax, dy = by - ay;
  const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - ax - t * dx, py - ay - t * dy);
}
function pixel(x, y) {
  // rounded square 2..62, radius 14
  const qx = Math.max(Math.abs(x - 32) - 16, 0), qy = Math.max(Math.abs(y - 32) - 16, 0);
  if (Math.hypot(qx, qy) > 14) return [0, 0, 0, 0];
  if (Math.hypot(x - 32, y - 32) <= 6) return [255, 209, 102, 1];
  if (Math.abs(y - 32) <= 2 && ((x >= 13 && x <= 26) || (x >= 38 && x <= 51))) return [255, 209, 102, 1];
  for (let i = 0; i < 6; i++) if (segDist(x, y, hex[i], hex[(i + 1) % 6]) <= 2) return [255, 255, 255, 1];
  return [31, 111, 235, 1];
}

writeFileSync(join(here, 'icons', 'icon.png'), png(512, pixel));
writeFileSync(join(here, 'icons', '256x256.png'), png(256, pixel));
console.log('wrote build/icons/icon.png and build/icons/256x256.png');
