/**
 * Straightforward loop implementations of the primitives, written from the
 * operators' definitions (PyTorch semantics), as independent expectations for
 * the ONNX lowering tests. Tensors are NCHW, dense, float64 arithmetic.
 */
import type { HostTensor } from '../../../src/compiler/ir/types.ts';

export interface T4 {
  shape: [number, number, number, number];
  data: Float32Array;
}

export function t4(shape: [number, number, number, number], data?: Float32Array): T4 {
  return { shape, data: data ?? new Float32Array(shape[0] * shape[1] * shape[2] * shape[3]) };
}

export function at(t: T4, n: number, c: number, h: number, w: number): number {
  const [, C, H, W] = t.shape;
  return t.data[((n * C + c) * H + h) * W + w]!;
}

function idx(t: T4, n: number, c: number, h: number, w: number): number {
  const [, C, H, W] = t.shape;
  return ((n * C + c) * H + h) * W + w;
}

/** Deterministic pseudo-random data in [-1, 1). */
export function randn(shape: readonly number[], seed: number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

export function host(t: T4): HostTensor {
  return { shape: t.shape, data: t.data };
}

export interface ConvSpec {
  stride: [number, number];
  dilation: [number, number];
  pads: [number, number, number, number]; // top, left, bottom, right
  group: number;
}

export function conv2d(x: T4, w: T4, b: Float32Array | null, s: ConvSpec): T4 {
  const [N, C, H, W] = x.shape;
  const [O, Cg, KH, KW] = w.shape;
  const Ho = Math.floor((H + s.pads[0] + s.pads[2] - (s.dilation[0] * (KH - 1) + 1)) / s.stride[0]) + 1;
  const Wo = Math.floor((W + s.pads[1] + s.pads[3] - (s.dilation[1] * (KW - 1) + 1)) / s.stride[1]) + 1;
  const y = t4([N, O, Ho, Wo]);
  const og = O / s.group;
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++) {
      const g = Math.floor(o / og);
      for (let i = 0; i < Ho; i++)
        for (let j = 0; j < Wo; j++) {
          let acc = b ? b[o]! : 0;
          for (let c = 0; c < Cg; c++)
            for (let kh = 0; kh < KH; kh++)
              for (let kw = 0; kw < KW; kw++) {
                const hh = i * s.stride[0] - s.pads[0] + kh * s.dilation[0];
                const ww = j * s.stride[1] - s.pads[1] + kw * s.dilation[1];
                if (hh < 0 || hh >= H || ww < 0 || ww >= W) continue;
                acc += at(x, n, g * Cg + c, hh, ww) * at(w, o, c, kh, kw);
              }
          y.data[idx(y, n, o, i, j)] = acc;
        }
    }
  void C;
  return y;
}

/** Transposed conv as the scatter definition: y[o, i*s + k*d - pad] += x[c, i] w[c, o, k]; then crop. */
export function convTranspose2d(
  x: T4,
  w: T4,
  b: Float32Array | null,
  stride: [number, number],
  pads: [number, number, number, number],
  outPad: [number, number],
): T4 {
  const [N, C, H, W] = x.shape;
  const [, O, KH, KW] = w.shape;
  const Ho = (H - 1) * stride[0] + KH + outPad[0] - pads[0] - pads[2];
  const Wo = (W - 1) * stride[1] + KW + outPad[1] - pads[1] - pads[3];
  const y = t4([N, O, Ho, Wo]);
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++) {
      if (b) for (let i = 0; i < Ho; i++) for (let j = 0; j < Wo; j++) y.data[idx(y, n, o, i, j)] = b[o]!;
      for (let c = 0; c < C; c++)
        for (let i = 0; i < H; i++)
          for (let j = 0; j < W; j++)
            for (let kh = 0; kh < KH; kh++)
              for (let kw = 0; kw < KW; kw++) {
                const oh = i * stride[0] + kh - pads[0];
                const ow = j * stride[1] + kw - pads[1];
                if (oh < 0 || oh >= Ho || ow < 0 || ow >= Wo) continue;
                y.data[idx(y, n, o, oh, ow)] += at(x, n, c, i, j) * at(w, c, o, kh, kw);
              }
    }
  return y;
}

/** Source index of padded position p for an axis of size n (PyTorch/numpy reflect excludes the edge). */
export function padSource(p: number, lo: number, n: number, mode: 'constant' | 'reflect' | 'edge'): number | null {
  let i = p - lo;
  if (i >= 0 && i < n) return i;
  if (mode === 'constant') return null;
  if (mode === 'edge') return Math.min(Math.max(i, 0), n - 1);
  if (i < 0) i = -i;
  if (i >= n) i = 2 * (n - 1) - i;
  return i;
}

export function pad(x: T4, pads: [number, number, number, number], mode: 'constant' | 'reflect' | 'edge', value = 0): T4 {
  const [N, C, H, W] = x.shape;
  const y = t4([N, C, H + pads[0] + pads[2], W + pads[1] + pads[3]]);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < y.shape[2]; i++)
        for (let j = 0; j < y.shape[3]; j++) {
          const si = padSource(i, pads[0], H, mode);
          const sj = padSource(j, pads[1], W, mode);
          y.data[idx(y, n, c, i, j)] = si === null || sj === null ? value : at(x, n, c, si, sj);
        }
  return y;
}

/** Gradient of pad: every padded position sends its gradient to its source. */
export function padGrad(dy: T4, pads: [number, number, number, number], mode: 'constant' | 'reflect' | 'edge'): T4 {
  const [N, C, Hp, Wp] = dy.shape;
  const H = Hp - pads[0] - pads[2];
  const W = Wp - pads[1] - pads[3];
  const dx = t4([N, C, H, W]);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < Hp; i++)
        for (let j = 0; j < Wp; j++) {
          const si = padSource(i, pads[0], H, mode);
          const sj = padSource(j, pads[1], W, mode);
          if (si !== null && sj !== null) dx.data[idx(dx, n, c, si, sj)] += at(dy, n, c, i, j);
        }
  return dx;
}

export function instanceNorm(x: T4, scale: Float32Array, bias: Float32Array, eps: number): T4 {
  const [N, C, H, W] = x.shape;
  const y = t4(x.shape);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      let mean = 0;
      for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) mean += at(x, n, c, i, j);
      mean /= H * W;
      let v = 0;
      for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) v += (at(x, n, c, i, j) - mean) ** 2;
      v /= H * W; // biased variance
      for (let i = 0; i < H; i++)
        for (let j = 0; j < W; j++) y.data[idx(y, n, c, i, j)] = ((at(x, n, c, i, j) - mean) / Math.sqrt(v + eps)) * scale[c]! + bias[c]!;
    }
  return y;
}

export function batchNorm(x: T4, scale: Float32Array, bias: Float32Array, mean: Float32Array, vr: Float32Array, eps: number): T4 {
  const y = t4(x.shape);
  const [N, C, H, W] = x.shape;
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < H; i++)
        for (let j = 0; j < W; j++)
          y.data[idx(y, n, c, i, j)] = ((at(x, n, c, i, j) - mean[c]!) / Math.sqrt(vr[c]! + eps)) * scale[c]! + bias[c]!;
  return y;
}

export interface PoolSpec {
  kernel: [number, number];
  stride: [number, number];
  pads: [number, number, number, number];
  ceil: boolean;
  countIncludePad: boolean;
}

/** PyTorch's pooled size: in ceil mode the last window must start inside the input or left padding. */
export function pooledSize(n: number, k: number, s: number, lo: number, hi: number, ceil: boolean): number {
  const span = n + lo + hi - k;
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (out - 1) * s >= n + lo) out -= 1;
  return out;
}

interface Window {
  h0: number;
  h1: number;
  w0: number;
  w1: number;
  divisor: number;
}

function windowAt(i: number, j: number, H: number, W: number, p: PoolSpec): Window {
  const h0p = i * p.stride[0] - p.pads[0];
  const w0p = j * p.stride[1] - p.pads[1];
  const h1p = Math.min(h0p + p.kernel[0], H + p.pads[2]);
  const w1p = Math.min(w0p + p.kernel[1], W + p.pads[3]);
  const h0 = Math.max(h0p, 0);
  const w0 = Math.max(w0p, 0);
  const h1 = Math.min(h1p, H);
  const w1 = Math.min(w1p, W);
  const divisor = p.countIncludePad ? (h1p - h0p) * (w1p - w0p) : (h1 - h0) * (w1 - w0);
  return { h0, h1, w0, w1, divisor };
}

function poolOut(x: T4, p: PoolSpec): T4 {
  const [N, C, H, W] = x.shape;
  return t4([N, C, pooledSize(H, p.kernel[0], p.stride[0], p.pads[0], p.pads[2], p.ceil), pooledSize(W, p.kernel[1], p.stride[1], p.pads[1], p.pads[3], p.ceil)]);
}

export function maxPool(x: T4, p: PoolSpec): { y: T4; argmax: Int32Array } {
  const y = poolOut(x, p);
  const [N, C, Ho, Wo] = y.shape;
  const argmax = new Int32Array(y.data.length);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < Ho; i++)
        for (let j = 0; j < Wo; j++) {
          const win = windowAt(i, j, x.shape[2], x.shape[3], p);
          let best = -Infinity;
          let bi = -1;
          for (let h = win.h0; h < win.h1; h++)
            for (let w = win.w0; w < win.w1; w++)
              if (at(x, n, c, h, w) > best) {
                best = at(x, n, c, h, w);
                bi = idx(x, n, c, h, w);
              }
          y.data[idx(y, n, c, i, j)] = best;
          argmax[idx(y, n, c, i, j)] = bi;
        }
  return { y, argmax };
}

export function maxPoolGrad(x: T4, dy: T4, p: PoolSpec): T4 {
  const { argmax } = maxPool(x, p);
  const dx = t4(x.shape);
  for (let k = 0; k < dy.data.length; k++) dx.data[argmax[k]!] += dy.data[k]!;
  return dx;
}

export function avgPool(x: T4, p: PoolSpec): T4 {
  const y = poolOut(x, p);
  const [N, C, Ho, Wo] = y.shape;
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < Ho; i++)
        for (let j = 0; j < Wo; j++) {
          const win = windowAt(i, j, x.shape[2], x.shape[3], p);
          let acc = 0;
          for (let h = win.h0; h < win.h1; h++) for (let w = win.w0; w < win.w1; w++) acc += at(x, n, c, h, w);
          y.data[idx(y, n, c, i, j)] = acc / win.divisor;
        }
  return y;
}

export function avgPoolGrad(x: T4, dy: T4, p: PoolSpec): T4 {
  const dx = t4(x.shape);
  const [N, C, Ho, Wo] = dy.shape;
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < Ho; i++)
        for (let j = 0; j < Wo; j++) {
          const win = windowAt(i, j, x.shape[2], x.shape[3], p);
          for (let h = win.h0; h < win.h1; h++)
            for (let w = win.w0; w < win.w1; w++) dx.data[idx(dx, n, c, h, w)] += at(dy, n, c, i, j) / win.divisor;
        }
  return dx;
}

export function upsampleNearest(x: T4, s: [number, number]): T4 {
  const [N, C, H, W] = x.shape;
  const y = t4([N, C, H * s[0], W * s[1]]);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < H * s[0]; i++)
        for (let j = 0; j < W * s[1]; j++) y.data[idx(y, n, c, i, j)] = at(x, n, c, Math.floor(i / s[0]), Math.floor(j / s[1]));
  return y;
}

export function upsampleNearestGrad(dy: T4, s: [number, number]): T4 {
  const [N, C, Hs, Ws] = dy.shape;
  const dx = t4([N, C, Hs / s[0], Ws / s[1]]);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < Hs; i++)
        for (let j = 0; j < Ws; j++) dx.data[idx(dx, n, c, Math.floor(i / s[0]), Math.floor(j / s[1]))] += at(dy, n, c, i, j);
  return dx;
}

/** Largest absolute difference; throws if shapes differ. */
export function maxAbsDiff(a: { shape: readonly number[]; data: Float32Array }, b: { shape: readonly number[]; data: Float32Array }): number {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) throw new Error(`shape [${a.shape}] vs [${b.shape}]`);
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i]! - b.data[i]!));
  return m;
}
