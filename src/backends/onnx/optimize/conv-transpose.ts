/**
 * Stride-1 transposed convolutions as plain convolutions.
 *
 * With stride 1, dilation 1 and one group, ConvTranspose(dy, w, pads [t, l, b, r]) equals
 * Conv(dy, w', pads [K−1−t, W−1−l, K−1−b, W−1−r]) with w'[o, i, a, c] = w[i, o, KH−1−a, KW−1−c]
 * (the kernel transposed in its channel axes and rotated by 180°). Autodiff emits such a
 * transposed conv for the input gradient of every stride-1 conv; ONNX Runtime's CPU ConvTranspose
 * (GEMM + col2im) is several times slower than its Conv, and 20× slower with few input channels.
 *
 * When w is a constant or a bound (frozen) weight, w' is computed here, once. Otherwise (a trained
 * weight fed each step) it is written in IR ops — transpose, reshape, and a matmul with the
 * reversal permutation over the KH·KW kernel positions — a few small ops per step.
 */
import type { Graph, HostTensor, Node, NodeOf } from '../../../compiler/ir/types.ts';
import type { WeightMap } from '../../types.ts';
import { convAttrs, knownTensor, Rewriter } from './rewrite.ts';

/** The reversal permutation matrix P [n, n]: (r · P)[:, q] = r[:, n − 1 − q]. */
export function reversalMatrix(n: number): Float32Array {
  const p = new Float32Array(n * n);
  for (let q = 0; q < n; q++) p[(n - 1 - q) * n + q] = 1;
  return p;
}

function eligible(n: NodeOf<'convTranspose2d'>, kh: number, kw: number): readonly [number, number, number, number] | undefined {
  const a = n.attrs;
  if (a.strides[0] !== 1 || a.strides[1] !== 1 || a.dilations[0] !== 1 || a.dilations[1] !== 1 || a.group !== 1) return undefined;
  if (a.padding.kind !== 'explicit' || a.outputPadding[0] !== 0 || a.outputPadding[1] !== 0) return undefined;
  const [t, l, b, r] = a.padding.pads;
  const pads = [kh - 1 - t, kw - 1 - l, kh - 1 - b, kw - 1 - r] as const;
  return pads.every((p) => p >= 0) ? pads : undefined;
}

/** w [I, O, KH, KW] -> w' [O, I, KH, KW], w'[o, i, a, c] = w[i, o, KH-1-a, KW-1-c]. */
export function flipTransposeKernel(w: HostTensor): HostTensor {
  const [ci, co, kh, kw] = w.shape as [number, number, number, number];
  const out = new Float32Array(w.data.length);
  for (let i = 0; i < ci; i++)
    for (let o = 0; o < co; o++)
      for (let a = 0; a < kh; a++)
        for (let c = 0; c < kw; c++) out[((o * ci + i) * kh + a) * kw + c] = w.data[((i * co + o) * kh + (kh - 1 - a)) * kw + (kw - 1 - c)]!;
  return { shape: [co, ci, kh, kw], data: out };
}

export function convTransposeToConv(g: Graph, weights: WeightMap = new Map()): Graph {
  const rw = new Rewriter(g);
  let changed = false;
  for (const n of g.nodes) {
    if (n.op !== 'convTranspose2d') {
      rw.keep(n);
      continue;
    }
    const [dy, w, bias] = n.inputs as [string, string, string | undefined];
    const [ci, co, kh, kw] = rw.shape(w) as [number, number, number, number];
    const pads = eligible(n, kh, kw);
    if (!pads) {
      rw.keep(n as Node);
      continue;
    }
    changed = true;
    const stem = `${n.outputs[0]}.w_flipped`;
    const known = knownTensor(rw.value(w), weights);
    let wf = known ? rw.constant(stem, [co, ci, kh, kw], flipTransposeKernel(known).data) : rw.add('transpose', [w], { perm: [1, 0, 2, 3] }, stem); // [O, I, KH, KW]
    if (!known && kh * kw > 1) {
      const flat = rw.add('reshape', [wf], { shape: [co * ci, kh * kw] }, stem);
      const rev = rw.add('matmul', [flat, rw.constant(`${stem}.reverse`, [kh * kw, kh * kw], reversalMatrix(kh * kw))], {}, stem);
      wf = rw.add('reshape', [rev], { shape: [co, ci, kh, kw] }, stem);
    }
    const ins = bias ? [dy, wf, bias] : [dy, wf];
    rw.add('conv2d', ins, convAttrs(1, pads), n.outputs[0]!, n.outputs[0]!, n.layer);
  }
  return changed ? rw.build() : g;
}
