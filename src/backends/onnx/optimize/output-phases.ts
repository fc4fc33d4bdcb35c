/**
 * Convolutions with few output channels and a large kernel as a strided convolution over the output's
 * polyphase components, then a depth-to-space shuffle.
 *
 * Johnson's last layer (32 → 3 channels, 9×9) is a GEMM with 3 rows over an im2col of 32·81 rows per
 * output pixel: ONNX Runtime runs it at a fraction of its conv peak, bound by the im2col it streams
 * (158-176 ms per 512² image, against 57-66 ms rewritten: docs/benchmarks.md, item 9). Output pixel (s·i + p, s·j + q) of a stride-1 conv with kernel K reads
 * input rows s·i + p + a, a < K, so phase (p, q) of the output is a stride-s conv with the kernel
 * shifted by (p, q) inside a (K + s − 1)² window, and all s² phases together are one stride-s conv
 * with s²·O output channels:
 *
 *     w'[(p·s + q)·O + o, c, a', b'] = w[o, c, a' − p, b' − q]   (zero outside the K×K kernel)
 *     y = depthToSpace_s(conv_s(x, w'))                          (DCR order, as the IR's depthToSpace)
 *
 * Its GEMM has s²·O rows over an im2col of (K + s − 1)² taps at 1/s² of the pixels: ((K + s − 1)/K)²
 * more multiply-adds (1.78× for K = 9, s = 4), s² fewer im2col columns. With the same pads the strided
 * conv covers exactly the output (HO + K − 1 padded rows = (HO/s − 1)·s + K + s − 1). The kernel is
 * built in IR (one zero pad per phase and a concat), folded once for bound weights by `constantFold`
 * and recomputed per step (a few thousand floats) where the weights are trained.
 */
import type { Graph, Node, NodeOf } from '../../../compiler/ir/types.ts';
import { Rewriter } from './rewrite.ts';

/** At most this many output channels (s²·O GEMM rows: 64 at s = 4); wider convs already give the GEMM enough rows. */
export const MAX_OUT_CHANNELS = 4;
/**
 * At least this many kernel taps. Smaller kernels are left alone: the extra multiply-adds grow as ((K + s − 1)/K)²
 * (3×3: 1.78× at s = 2, 4× at s = 4), and only Johnson's 9×9 layer was measured.
 */
export const MIN_TAPS = 25;

/** The phase stride for an output of ho × wo: 4 where it divides both, else 2, else none. */
export function phaseStride(ho: number, wo: number): number | undefined {
  return [4, 2].find((s) => ho % s === 0 && wo % s === 0);
}

/** The phase stride convOutputPhases would give this conv, or undefined where it leaves the conv alone. */
export function outputPhaseStride(n: NodeOf<'conv2d'>, shape: (id: string) => number[]): number | undefined {
  const a = n.attrs;
  if (a.group !== 1 || a.strides.some((s) => s !== 1) || a.dilations.some((d) => d !== 1) || a.padding.kind !== 'explicit') return undefined;
  const [o, , kh, kw] = shape(n.inputs[1]!) as [number, number, number, number];
  if (o > MAX_OUT_CHANNELS || kh * kw < MIN_TAPS) return undefined;
  const [, , ho, wo] = shape(n.outputs[0]!) as [number, number, number, number];
  return phaseStride(ho, wo);
}

/**
 * The stride-s conv's kernel w' [s²·O, C, K + s − 1, K + s − 1] (and its bias, the original repeated s² times), as IR
 * on `rw` (one zero pad per phase and a concat).
 */
export function phaseKernel(rw: Rewriter, w: string, bias: string | undefined, s: number, stem: string): string[] {
  const shifted: string[] = [];
  for (let p = 0; p < s; p++)
    for (let q = 0; q < s; q++) shifted.push(rw.add('pad', [w], { mode: 'constant', pads: [p, q, s - 1 - p, s - 1 - q], value: 0 }, stem));
  const ins = [rw.add('concat', shifted, { axis: 0 }, stem)];
  if (bias) ins.push(rw.add('concat', Array.from({ length: s * s }, () => bias), { axis: 0 }, stem));
  return ins;
}

export function convOutputPhases(g: Graph): Graph {
  const rw = new Rewriter(g);
  const shape = (id: string): number[] => rw.shape(id);
  const strides = new Map<Node, number>();
  for (const n of g.nodes) {
    if (n.op !== 'conv2d') continue;
    const s = outputPhaseStride(n, shape);
    if (s !== undefined) strides.set(n, s);
  }
  if (strides.size === 0) return g;
  for (const n of g.nodes) {
    const s = strides.get(n);
    if (s === undefined || n.op !== 'conv2d') {
      rw.keep(n);
      continue;
    }
    const [x, w, bias] = n.inputs as [string, string, string | undefined];
    const out = n.outputs[0]!;
    const stem = `${out}.phases`;
    const ins = [x, ...phaseKernel(rw, w, bias, s, stem)];
    const phases = rw.add('conv2d', ins, { ...n.attrs, strides: [s, s] }, stem, undefined, n.layer); // [N, s²·O, HO/s, WO/s]
    rw.add('depthToSpace', [phases], { block: s }, stem, out, n.layer);
  }
  return rw.build();
}
