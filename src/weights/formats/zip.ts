/**
 * The central directory of a zip archive (PKWARE APPNOTE 6.3, sections 4.3.12-4.3.16), read with a
 * few positional reads: entry names, sizes, compression and where each entry's bytes start, so
 * stored (uncompressed) entries, as torch.save writes its tensors, are read in place. Deflated
 * entries are inflated with fflate. ZIP64 records are read for archives past 4 GB.
 */
import { inflateSync } from 'fflate';
import type { ByteSource } from '../byte-source.ts';
import { WeightError } from '../errors.ts';

export interface ZipEntry {
  readonly name: string;
  readonly method: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localHeader: number;
}

const u16 = (b: Uint8Array, o: number) => b[o]! | (b[o + 1]! << 8);
const u32 = (b: Uint8Array, o: number) => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
const u64 = (b: Uint8Array, o: number) => u32(b, o) + u32(b, o + 4) * 2 ** 32;

function corrupt(src: ByteSource, why: string): never {
  throw new WeightError('truncated', `weights file ${src.path} is truncated or corrupt: ${why}`);
}

function findEnd(src: ByteSource): { count: number; cdOffset: number; cdSize: number } {
  const tailLen = Math.min(src.size, 22 + 0xffff + 20);
  const tail = src.read(src.size - tailLen, tailLen, 'the zip directory');
  for (let i = tailLen - 22; i >= 0; i--) {
    if (u32(tail, i) !== 0x06054b50) continue;
    let count = u16(tail, i + 10);
    let cdSize = u32(tail, i + 12);
    let cdOffset = u32(tail, i + 16);
    if ((cdOffset === 0xffffffff || count === 0xffff) && i >= 20 && u32(tail, i - 20) === 0x07064b50) {
      const z64 = u64(tail, i - 20 + 8);
      const rec = src.read(z64, 56, 'the zip64 directory');
      if (u32(rec, 0) !== 0x06064b50) corrupt(src, 'bad zip64 end record');
      count = u64(rec, 32);
      cdSize = u64(rec, 40);
      cdOffset = u64(rec, 48);
    }
    return { count, cdOffset, cdSize };
  }
  return corrupt(src, 'no zip end-of-directory record (cut short?)');
}

function zip64Extra(extra: Uint8Array, sizes: number[]): void {
  for (let o = 0; o + 4 <= extra.length; ) {
    const id = u16(extra, o);
    const len = u16(extra, o + 2);
    if (id === 0x0001) {
      let p = o + 4;
      for (let k = 0; k < sizes.length; k++)
        if (sizes[k] === 0xffffffff && p + 8 <= o + 4 + len) {
          sizes[k] = u64(extra, p);
          p += 8;
        }
    }
    o += 4 + len;
  }
}

export function readZipDirectory(src: ByteSource): ZipEntry[] {
  const { count, cdOffset, cdSize } = findEnd(src);
  const cd = src.read(cdOffset, cdSize, 'the zip central directory');
  const out: ZipEntry[] = [];
  let o = 0;
  for (let i = 0; i < count; i++) {
    if (o + 46 > cd.length || u32(cd, o) !== 0x02014b50) corrupt(src, `zip directory entry ${i} is damaged`);
    const nameLen = u16(cd, o + 28);
    const extraLen = u16(cd, o + 30);
    const commentLen = u16(cd, o + 32);
    if (o + 46 + nameLen + extraLen > cd.length) corrupt(src, `zip directory entry ${i} is damaged`);
    const name = new TextDecoder().decode(cd.subarray(o + 46, o + 46 + nameLen));
    const sizes = [u32(cd, o + 24), u32(cd, o + 20), u32(cd, o + 42)];
    zip64Extra(cd.subarray(o + 46 + nameLen, o + 46 + nameLen + extraLen), sizes);
    out.push({ name, method: u16(cd, o + 10), size: sizes[0]!, compressedSize: sizes[1]!, localHeader: sizes[2]! });
    o += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

/** Where an entry's bytes start (after its local header). */
export function dataOffset(src: ByteSource, e: ZipEntry): number {
  const h = src.read(e.localHeader, 30, `the zip header of ${e.name}`);
  if (u32(h, 0) !== 0x04034b50) corrupt(src, `zip entry ${e.name} has no local header`);
  return e.localHeader + 30 + u16(h, 26) + u16(h, 28);
}

/** A whole (small) entry's bytes, inflated if deflated. */
export function readEntry(src: ByteSource, e: ZipEntry): Uint8Array {
  const raw = src.read(dataOffset(src, e), e.compressedSize, `zip entry ${e.name}`);
  if (e.method === 0) return raw;
  if (e.method !== 8) throw new WeightError('bad_format', `weights file ${src.path}: zip entry ${e.name} uses compression method ${e.method} (stored and deflate are supported)`);
  try {
    return inflateSync(raw, { out: new Uint8Array(e.size) });
  } catch (err) {
    return corrupt(src, `zip entry ${e.name} does not inflate (${(err as Error).message})`);
  }
}
