/**
 * Data movement and reductions: concat, slice, reshape, transpose, batched matmul,
 * reduceSum / reduceMean, and integer-scale nearest upsampling with its adjoint.
 */
import { normAxis, numel } from '../../../compiler/ir/ops.ts';
import { broadcastShapes } from './elementwise.ts';
import { type Float64Tensor, stridesOf, zeros } from '../tensor.ts';

/** Split a shape around `axis` into (outer, axis size, inner) element counts. */
function around(shape: readonly number[], axis: number): [number, number, number] {
  return [numel(shape.slice(0, axis)), shape[axis]!, numel(shape.slice(axis + 1))];
}

export function concat(xs: readonly Float64Tensor[], axis: number): Float64Tensor {
  const ax = normAxis(axis, xs[0]!.shape.length);
  const total = xs.reduce((s, x) => s + x.shape[ax]!, 0);
  const shape = [...xs[0]!.shape];
  shape[ax] = total;
  const y = zeros(shape);
  const [outer, , inner] = around(shape, ax);
  let offset = 0;
  for (const x of xs) {
    const len = x.shape[ax]!;
    for (let o = 0; o < outer; o++) y.data.set(x.data.subarray(o * len * inner, (o + 1) * len * inner), (o * total + offset) * inner);
    offset += len;
  }
  return y;
}

export function slice(x: Float64Tensor, axis: number, start: number, end: number): Float64Tensor {
  const ax = normAxis(axis, x.shape.length);
  const [outer, size, inner] = around(x.shape, ax);
  if (start < 0 || end > size || start >= end) throw new Error(`slice [${start}, ${end}) out of range for axis size ${size}`);
  const shape = [...x.shape];
  shape[ax] = end - start;
  const y = zeros(shape);
  const len = end - start;
  for (let o = 0; o < outer; o++) y.data.set(x.data.subarray((o * size + start) * inner, (o * size + end) * inner), o * len * inner);
  return y;
}

export function reshape(x: Float64Tensor, shape: readonly number[]): Float64Tensor {
  if (numel(shape) !== x.data.length) throw new Error(`reshape of [${x.shape}] to [${shape}] changes the element count`);
  return { shape: [...shape], data: x.data.slice() };
}

export function transpose(x: Float64Tensor, perm: readonly number[]): Float64Tensor {
  const shape = perm.map((p) => x.shape[p]!);
  const inStrides = stridesOf(x.shape);
  const permStrides = perm.map((p) => inStrides[p]!);
  const y = zeros(shape);
  const idx = new Array<number>(shape.length).fill(0);
  for (let f = 0; f < y.data.length; f++) {
    let src = 0;
    for (let d = 0; d < shape.length; d++) src += idx[d]! * permStrides[d]!;
    y.data[f] = x.data[src]!;
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return y;
}

/** Batched matmul [..., m, k] x [..., k, n] with numpy broadcasting of the batch axes. */
export function matmul(a: Float64Tensor, b: Float64Tensor): Float64Tensor {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const [m, k] = [a.shape[ra - 2]!, a.shape[ra - 1]!];
  const [k2, n] = [b.shape[rb - 2]!, b.shape[rb - 1]!];
  if (k !== k2) throw new Error(`matmul inner dimensions ${k} vs ${k2}`);
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const y = zeros([...batch, m, n]);
  const nb = numel(batch);
  const batchIndex = (shape: readonly number[], f: number): number => {
    // flat batch index f of the broadcast batch, mapped into an operand's (possibly smaller) batch
    const off = batch.length - shape.length;
    let rem = f;
    let idx = 0;
    let mul = 1;
    for (let d = batch.length - 1; d >= 0; d--) {
      const i = rem % batch[d]!;
      rem = Math.floor(rem / batch[d]!);
      if (d >= off) {
        const s = shape[d - off]!;
        idx += (s === 1 ? 0 : i) * mul;
        mul *= s;
      }
    }
    return idx;
  };
  for (let t = 0; t < nb; t++) {
    const ao = batchIndex(a.shape.slice(0, -2), t) * m * k;
    const bo = batchIndex(b.shape.slice(0, -2), t) * k * n;
    const yo = t * m * n;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a.data[ao + i * k + p]! * b.data[bo + p * n + j]!;
        y.data[yo + i * n + j] = s;
      }
  }
  return y;
}

export function reduce(x: Float64Tensor, axes: readonly number[], keepDims: boolean, mean: boolean): Float64Tensor {
  const r = x.shape.length;
  const set = new Set(axes.map((a) => normAxis(a, r)));
  const keptShape = x.shape.map((d, i) => (set.has(i) ? 1 : d));
  const outStrides = stridesOf(keptShape).map((s, i) => (set.has(i) ? 0 : s));
  const y = zeros(keptShape);
  const idx = new Array<number>(r).fill(0);
  for (let f = 0; f < x.data.length; f++) {
    let o = 0;
    for (let d = 0; d < r; d++) o += idx[d]! * outStrides[d]!;
    y.data[o] += x.data[f]!;
    for (let d = r - 1; d >= 0; d--) {
      if (++idx[d]! < x.shape[d]!) break;
      idx[d] = 0;
    }
  }
  if (mean) {
    const count = x.data.length / Math.max(y.data.length, 1);
    for (let i = 0; i < y.data.length; i++) y.data[i] /= count;
  }
  const shape = keepDims ? keptShape : x.shape.filter((_, i) => !set.has(i));
  return { shape, data: y.data };
}

export function upsampleNearest(x: Float64Tensor, scale: readonly [number, number]): Float64Tensor {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [sh, sw] = scale;
  const HO = H * sh;
  const WO = W * sw;
  const y = zeros([N, C, HO, WO]);
  for (let p = 0; p < N * C; p++)
    for (let i = 0; i < HO; i++)
      for (let j = 0; j < WO; j++) y.data[(p * HO + i) * WO + j] = x.data[(p * H + Math.floor(i / sh)) * W + Math.floor(j / sw)]!;
  return y;
}

/** Depth-to-space, DCR order: y[n, c, b·h + i, b·w + j] = x[n, (i·b + j)·C + c, h, w]. */
export function depthToSpace(x: Float64Tensor, b: number): Float64Tensor {
  const [N, CBB, H, W] = x.shape as [number, number, number, number];
  const C = CBB / (b * b);
  const y = zeros([N, C, H * b, W * b]);
  for (let n = 0; n < N; n++)
    for (let i = 0; i < b; i++)
      for (let j = 0; j < b; j++)
        for (let c = 0; c < C; c++)
          for (let h = 0; h < H; h++)
            for (let w = 0; w < W; w++)
              y.data[((n * C + c) * H * b + h * b + i) * W * b + w * b + j] = x.data[((n * CBB + (i * b + j) * C + c) * H + h) * W + w]!;
  return y;
}

/** Adjoint of nearest upsampling: each input element receives the sum of its sh x sw block. */
export function upsampleNearestGrad(dy: Float64Tensor, scale: readonly [number, number]): Float64Tensor {
  const [N, C, HO, WO] = dy.shape as [number, number, number, number];
  const [sh, sw] = scale;
  const H = Math.ceil(HO / sh);
  const W = Math.ceil(WO / sw);
  const dx = zeros([N, C, H, W]);
  for (let p = 0; p < N * C; p++)
    for (let i = 0; i < HO; i++)
      for (let j = 0; j < WO; j++) dx.data[(p * H + Math.floor(i / sh)) * W + Math.floor(j / sw)] += dy.data[(p * HO + i) * WO + j]!;
  return dx;
}
