/**
 * A deliberately small float64 interpreter for the handful of ops the objective graphs
 * and the toy loss networks in these tests use. Independent of every backend, so the
 * objective tests check the graphs' maths, not a backend's.
 */
import type { Graph } from '../../../src/compiler/ir/types.ts';

export interface T {
  shape: number[];
  data: Float64Array;
}

const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

function strides(s: readonly number[]): number[] {
  const st = new Array<number>(s.length).fill(1);
  for (let i = s.length - 2; i >= 0; i--) st[i] = st[i + 1]! * s[i + 1]!;
  return st;
}

function broadcastBinary(a: T, b: T, f: (x: number, y: number) => number): T {
  const r = Math.max(a.shape.length, b.shape.length);
  const pa = [...new Array(r - a.shape.length).fill(1), ...a.shape];
  const pb = [...new Array(r - b.shape.length).fill(1), ...b.shape];
  const shape = pa.map((d, i) => Math.max(d, pb[i]!));
  const sa = strides(pa);
  const sb = strides(pb);
  const so = strides(shape);
  const out = new Float64Array(numel(shape));
  for (let i = 0; i < out.length; i++) {
    let ia = 0;
    let ib = 0;
    for (let k = 0; k < r; k++) {
      const c = Math.floor(i / so[k]!) % shape[k]!;
      if (pa[k]! > 1) ia += c * sa[k]!;
      if (pb[k]! > 1) ib += c * sb[k]!;
    }
    out[i] = f(a.data[ia]!, b.data[ib]!);
  }
  return { shape, data: out };
}

export function run(g: Graph, feeds: Record<string, T>): Record<string, T> {
  const env = new Map<string, T>();
  for (const [id, v] of g.values) if (v.kind === 'const') env.set(id, { shape: v.shape as number[], data: Float64Array.from(v.data!) });
  for (const [k, v] of Object.entries(feeds)) env.set(k, v);
  for (const n of g.nodes) {
    const x = n.inputs.map((i) => {
      const t = env.get(i);
      if (!t) throw new Error(`mini-interp: missing ${i}`);
      return t;
    });
    const shape = g.values.get(n.outputs[0]!)!.shape as number[];
    let out: T;
    switch (n.op) {
      case 'scale':
        out = { shape, data: x[0]!.data.map((v) => v * n.attrs.value) };
        break;
      case 'relu':
        out = { shape, data: x[0]!.data.map((v) => Math.max(v, 0)) };
        break;
      case 'add':
        out = broadcastBinary(x[0]!, x[1]!, (a, b) => a + b);
        break;
      case 'sub':
        out = broadcastBinary(x[0]!, x[1]!, (a, b) => a - b);
        break;
      case 'mul':
        out = broadcastBinary(x[0]!, x[1]!, (a, b) => a * b);
        break;
      case 'reshape':
        out = { shape, data: x[0]!.data };
        break;
      case 'reduceSum':
      case 'reduceMean': {
        if (n.attrs.axes.length !== x[0]!.shape.length || n.attrs.keepDims) throw new Error('mini-interp: only full reductions');
        const s = x[0]!.data.reduce((a, b) => a + b, 0);
        out = { shape, data: Float64Array.of(n.op === 'reduceSum' ? s : s / x[0]!.data.length) };
        break;
      }
      case 'transpose': {
        const src = x[0]!;
        const ss = strides(src.shape);
        const so = strides(shape);
        const data = new Float64Array(src.data.length);
        for (let i = 0; i < data.length; i++) {
          let j = 0;
          n.attrs.perm.forEach((p, k) => {
            j += (Math.floor(i / so[k]!) % shape[k]!) * ss[p]!;
          });
          data[i] = src.data[j]!;
        }
        out = { shape, data };
        break;
      }
      case 'matmul': {
        // Rank-3 operands; a transposed operand is read with its last two strides swapped.
        const [a, b] = x as [T, T];
        const { transA = false, transB = false } = n.attrs;
        const [B, ra, ca] = a.shape as [number, number, number];
        const [, rb, cb] = b.shape as [number, number, number];
        const [M, K] = transA ? [ca, ra] : [ra, ca];
        const N = transB ? rb : cb;
        const at = (bi: number, i: number, k: number): number => a.data[bi * ra * ca + (transA ? k * ca + i : i * ca + k)]!;
        const bt = (bi: number, k: number, j: number): number => b.data[bi * rb * cb + (transB ? j * cb + k : k * cb + j)]!;
        const data = new Float64Array(B * M * N);
        for (let bi = 0; bi < B; bi++)
          for (let i = 0; i < M; i++)
            for (let j = 0; j < N; j++) {
              let s = 0;
              for (let k = 0; k < K; k++) s += at(bi, i, k) * bt(bi, k, j);
              data[bi * M * N + i * N + j] = s;
            }
        out = { shape, data };
        break;
      }
      case 'slice': {
        const src = x[0]!;
        const ss = strides(src.shape);
        const so = strides(shape);
        const data = new Float64Array(numel(shape));
        for (let i = 0; i < data.length; i++) {
          let j = 0;
          for (let k = 0; k < shape.length; k++) {
            const c = (Math.floor(i / so[k]!) % shape[k]!) + (k === n.attrs.axis ? n.attrs.start : 0);
            j += c * ss[k]!;
          }
          data[i] = src.data[j]!;
        }
        out = { shape, data };
        break;
      }
      case 'avgPool': {
        const src = x[0]!;
        const [N, C, H, W] = src.shape as [number, number, number, number];
        const [kh, kw] = n.attrs.kernel;
        const [sh, sw] = n.attrs.strides;
        const [, , Ho, Wo] = shape as [number, number, number, number];
        const data = new Float64Array(N * C * Ho * Wo);
        for (let p = 0; p < N * C; p++)
          for (let i = 0; i < Ho; i++)
            for (let j = 0; j < Wo; j++) {
              let s = 0;
              for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) s += src.data[p * H * W + (i * sh + a) * W + j * sw + b]!;
              data[p * Ho * Wo + i * Wo + j] = s / (kh * kw);
            }
        out = { shape, data };
        break;
      }
      default:
        throw new Error(`mini-interp: op ${n.op} not supported`);
    }
    env.set(n.outputs[0]!, out);
  }
  const result: Record<string, T> = {};
  for (const [name, id] of g.outputs) result[name] = env.get(id)!;
  return result;
}
