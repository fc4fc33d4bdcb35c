/** Small dense-vector kernels for the optimisers. Reductions accumulate in float64. */

export type Vec = Float32Array | Float64Array;

export function dot(a: Vec, b: Vec): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

export function maxAbs(a: Vec): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i]!);
    if (v > m || Number.isNaN(v)) m = v;
  }
  return m;
}

export function sumAbs(a: Vec): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]!);
  return s;
}

/** out = x + t * d, written into out (float32: what the oracle sees). */
export function stepInto(out: Float32Array, x: Vec, t: number, d: Vec): Float32Array {
  for (let i = 0; i < out.length; i++) out[i] = x[i]! + t * d[i]!;
  return out;
}
