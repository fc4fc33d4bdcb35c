/** Hostile files for the input fuzzer and the limit tests. */
import { deflateSync } from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(b: Buffer): number {
  let c = 0xffffffff;
  for (const x of b) c = CRC_TABLE[(c ^ x) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const t = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  t.copy(out, 4);
  out.writeUInt32BE(crc32(t), 8 + data.length);
  return out;
}

/** A valid-looking PNG whose header claims width × height (8-bit RGB) with a tiny IDAT: decoding it is the bomb. */
export function pngClaiming(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([sig, pngChunk('IHDR', ihdr), pngChunk('IDAT', deflateSync(Buffer.alloc(16))), pngChunk('IEND', Buffer.alloc(0))]);
}

/** `bytes` with `n` bytes replaced at seeded positions (past the first 16, so the format is still recognised). */
export function flipBytes(bytes: Uint8Array, n: number, r: () => number): Uint8Array {
  const out = Uint8Array.from(bytes);
  for (let k = 0; k < n; k++) out[16 + Math.floor(r() * (out.length - 16))] = Math.floor(r() * 256);
  return out;
}
