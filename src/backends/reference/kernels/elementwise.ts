/**
 * Elementwise operators with numpy broadcasting, and expand (broadcast to a fixed shape).
 */
import { numel } from '../../../compiler/ir/ops.ts';
import { type Float64Tensor, stridesOf, zeros } from '../tensor.ts';

/** Numpy broadcast of two shapes (right-aligned; size-1 axes stretch). */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const da = a[a.length - r + i] ?? 1;
    const db = b[b.length - r + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error(`cannot broadcast [${a}] with [${b}]`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Strides that read `shape` as if it were broadcast to `target` (0 on stretched axes). */
function broadcastStrides(shape: readonly number[], target: readonly number[]): number[] {
  const own = stridesOf(shape);
  const off = target.length - shape.length;
  return target.map((d, i) => (i < off || shape[i - off] === 1 ? 0 : own[i - off]!));
}

/** For each flat index of `target`, the flat index into each source shape broadcast to it. */
function broadcastIndex(target: readonly number[], sources: readonly (readonly number[])[]): Int32Array[] {
  const n = numel(target);
  const strides = sources.map((s) => broadcastStrides(s, target));
  const out = sources.map(() => new Int32Array(n));
  const idx = new Array<number>(target.length).fill(0);
  for (let f = 0; f < n; f++) {
    for (let s = 0; s < sources.length; s++) {
      let o = 0;
      for (let d = 0; d < target.length; d++) o += idx[d]! * strides[s]![d]!;
      out[s]![f] = o;
    }
    for (let d = target.length - 1; d >= 0; d--) {
      if (++idx[d]! < target[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

export function unary(x: Float64Tensor, f: (v: number) => number): Float64Tensor {
  const y = zeros(x.shape);
  for (let i = 0; i < x.data.length; i++) y.data[i] = f(x.data[i]!);
  return y;
}

export function binary(a: Float64Tensor, b: Float64Tensor, f: (u: number, v: number) => number): Float64Tensor {
  const shape = broadcastShapes(a.shape, b.shape);
  const [ia, ib] = broadcastIndex(shape, [a.shape, b.shape]);
  const y = zeros(shape);
  for (let i = 0; i < y.data.length; i++) y.data[i] = f(a.data[ia![i]!]!, b.data[ib![i]!]!);
  return y;
}

export function expand(x: Float64Tensor, shape: readonly number[]): Float64Tensor {
  const b = broadcastShapes(x.shape, shape);
  if (b.length !== shape.length || b.some((d, i) => d !== shape[i])) throw new Error(`cannot expand [${x.shape}] to [${shape}]`);
  const [ix] = broadcastIndex(shape, [x.shape]);
  const y = zeros(shape);
  for (let i = 0; i < y.data.length; i++) y.data[i] = x.data[ix![i]!]!;
  return y;
}

export const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));
