/**
 * Deterministic test tensors, bit-identical to tools/reference/det.py (see
 * test/goldens/README.md), so golden inputs and hash-initialised weights are
 * regenerated here instead of being stored.
 *
 *   lowbias32(x)      = x ^= x >>> 16; x *= 0x7feb352d; x ^= x >>> 15; x *= 0x846ca68b; x ^= x >>> 16
 *   hashU32(i, seed)  = lowbias32((i + lowbias32(seed)) mod 2^32)
 *   uniform01(i)      = (hashU32(i, seed) >>> 8) / 2^24            exact in float32, in [0, 1)
 *   uniform[i]        = float32(lo + (hi - lo) * uniform01(i))      affine map in float64, one rounding
 *
 * All integer arithmetic is unsigned mod 2^32; `i` is the flat C-order index.
 */
import type { HostTensor } from '../compiler/ir/types.ts';

/** Chris Wellons' lowbias32 integer hash. */
export function lowbias32(x: number): number {
  x = x >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  x ^= x >>> 16;
  return x >>> 0;
}

export function hashU32(i: number, seed: number): number {
  return lowbias32((i + lowbias32(seed)) >>> 0);
}

/** 32-bit FNV-1a over the UTF-8 bytes of `text`. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(text)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h >>> 0;
}

/** A float32 tensor of `shape` with uniform[i] as above; a string seed goes through fnv1a32. */
export function uniformTensor(shape: readonly number[], seed: number | string, lo: number, hi: number): HostTensor {
  const s = typeof seed === 'string' ? fnv1a32(seed) : seed >>> 0;
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  const base = lowbias32(s);
  for (let i = 0; i < n; i++) {
    const u = (lowbias32((i + base) >>> 0) >>> 8) / 16777216;
    data[i] = lo + (hi - lo) * u;
  }
  return { shape: [...shape], data };
}
