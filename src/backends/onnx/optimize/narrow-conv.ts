/**
 * Convolutions with few output channels and a small kernel (VGG's image gradient: the input gradient of
 * conv1_1, 64 → 3 channels, 3×3) as one matmul over the channels and a sum of shifted taps.
 *
 * ONNX Runtime runs such a conv as a GEMM with O = 3 rows over an im2col of C·K² rows per pixel (576 at
 * 64 channels: 151 MB at 256²), so it is bound by the im2col it writes and reads: 10.9 ms at 21 GFLOP/s in
 * the VGG-19 Gatys step at 256², 2.4-2.7 ms rewritten (docs/benchmarks.md, "The VGG-19 Gatys step at 256²: ReLU masks at
 * the pooled size, the image gradient as a matmul"). Written instead as
 *
 *     z = (w as [K²·O, C]) · (x as [N, C, H·W])                  one GEMM, K²·O rows, no im2col
 *     y[n, o, i, j] = Σ_{a,b} pad(z)[n, (a·K + b)·O + o, i + a, j + b]   K² shifted windows, summed
 *
 * with the conv's pads applied to z (zeros outside the image, as in the conv). Same multiply-adds, exact up to
 * float32 summation order. Kernels of MIN_TAPS taps or more are output-phases.ts's (a strided conv over the
 * output's phases); this pass takes the smaller ones, where K² windows of O channels are cheap to add.
 */
import type { Graph, NodeOf } from '../../../compiler/ir/types.ts';
import { MAX_OUT_CHANNELS, MIN_TAPS } from './output-phases.ts';
import { Rewriter } from './rewrite.ts';

/**
 * At least this many input channels: the im2col the conv would stream grows with C·K², and the GEMM's inner
 * dimension is C (VGG's image gradient has 64).
 */
export const MIN_IN_CHANNELS = 16;

function eligible(n: NodeOf<'conv2d'>, shape: (id: string) => number[]): boolean {
  const a = n.attrs;
  if (a.group !== 1 || a.strides.some((s) => s !== 1) || a.dilations.some((d) => d !== 1) || a.padding.kind !== 'explicit') return false;
  if (a.padding.pads.some((p) => p < 0)) return false;
  const [o, c, kh, kw] = shape(n.inputs[1]!) as [number, number, number, number];
  // A 1×1 conv has no im2col to save: ORT runs it as a GEMM already.
  return o <= MAX_OUT_CHANNELS && kh * kw > 1 && kh * kw < MIN_TAPS && c >= MIN_IN_CHANNELS;
}

export function narrowConvAsMatmul(g: Graph): Graph {
  const rw = new Rewriter(g);
  const shape = (id: string): number[] => rw.shape(id);
  const sites = new Set(g.nodes.filter((n): n is NodeOf<'conv2d'> => n.op === 'conv2d' && eligible(n, shape)));
  if (sites.size === 0) return g;
  for (const n of g.nodes) {
    if (!sites.has(n as NodeOf<'conv2d'>) || n.op !== 'conv2d') {
      rw.keep(n);
      continue;
    }
    const [x, w, bias] = n.inputs as [string, string, string | undefined];
    const out = n.outputs[0]!;
    const stem = `${out}.taps`;
    const [nb, c, h, wd] = shape(x) as [number, number, number, number];
    const [o, , kh, kw] = shape(w) as [number, number, number, number];
    const [, , ho, wo] = shape(out) as [number, number, number, number];
    const pads = n.attrs.padding.kind === 'explicit' ? n.attrs.padding.pads : ([0, 0, 0, 0] as const);
    // [K, K, O, C] -> [K²·O, C]: row (a·K + b)·O + o holds w[o, :, a, b] (folded once for bound weights).
    const taps = rw.add('reshape', [rw.add('transpose', [w], { perm: [2, 3, 0, 1] }, stem)], { shape: [kh * kw * o, c] }, stem);
    const z = rw.add('matmul', [taps, rw.add('reshape', [x], { shape: [nb, c, h * wd] }, stem)], {}, stem, undefined, n.layer);
    // z padded as the conv pads x, plus one row at the bottom, then flattened per channel: tap (a, b)'s window is
    // one contiguous run of HO rows of Wp columns from offset a·Wp + b (the extra row holds the last window's b
    // overhang); its last Wp − WO columns wrap into the next row and are cut once, after the sum.
    const [pt, pl, pb, pr] = pads;
    const wp = wd + pl + pr;
    const hp = h + pt + pb + 1;
    const planes = rw.add('reshape', [z], { shape: [nb, kh * kw * o, h, wd] }, stem);
    const padded = rw.add('pad', [planes], { mode: 'constant', pads: [pt, pl, pb + 1, pr], value: 0 }, stem);
    const flat = rw.add('reshape', [padded], { shape: [nb, kh * kw * o, hp * wp] }, stem);
    let sum: string | undefined;
    for (let a = 0; a < kh; a++)
      for (let b = 0; b < kw; b++) {
        const k = (a * kw + b) * o;
        const tap = rw.add('slice', [flat], { axis: 1, start: k, end: k + o }, stem);
        const window = rw.add('slice', [tap], { axis: 2, start: a * wp + b, end: a * wp + b + ho * wp }, stem);
        sum = sum === undefined ? window : rw.add('add', [sum, window], {}, stem);
      }
    const rows = rw.add('reshape', [sum!], { shape: [nb, o, ho, wp] }, stem);
    const y = rw.add('slice', [rows], { axis: 3, start: 0, end: wo }, stem, bias ? undefined : out, bias ? undefined : n.layer);
    if (bias) rw.add('add', [y, rw.add('reshape', [bias], { shape: [1, o, 1, 1] }, stem)], {}, stem, out, n.layer);
  }
  return rw.build();
}
