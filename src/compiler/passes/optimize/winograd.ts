/**
 * 3×3 stride-1 convolutions as Winograd F(4×4, 3×3) (Lavin & Gray, "Fast Algorithms for
 * Convolutional Neural Networks", CVPR 2016), written in standard ops.
 *
 * Each 4×4 output tile is computed from a 6×6 input tile d (stride 4) as
 *
 *     Y = Aᵀ [ Σ_c (G g_{k,c} Gᵀ) ⊙ (Bᵀ d_c B) ] A,
 *
 * i.e. 36 independent products over the channels instead of 144 (16 outputs × 9 taps) — a 4×
 * reduction in multiply-adds. With the tiles laid out as matrices the 36 products are one batched
 * GEMM, which is where ONNX Runtime's MLAS is at its best:
 *
 *   x [N, Ci, H, W]
 *     → reshape [N·Ci, 1, H, W] → conv with the 36 fixed kernels Bᵀ⊗Bᵀ (6×6, stride 4, the
 *       original pads) → [N·Ci, 36, h, w]                                    (input transform)
 *     → [N, 36, Ci, h·w]                                                       (transpose)
 *   U = (G⊗G) g as [36, Co, Ci]                (weight transform; computed once for known weights)
 *   M = U · V                                   [N, 36, Co, h·w]               (the batched GEMM)
 *   O = (Aᵀ⊗Aᵀ) · M as [N, 16, Co·h·w]          (output transform, a [16, 36] matmul)
 *     → [N, 16·Co, h, w] → depth-to-space by 4 → [N, Co, 4h, 4w] (+ bias).
 *
 * The transform matrices are those of Lavin & Gray for the interpolation points 0, ±1, ±2, ∞.
 * The result equals the direct convolution in exact arithmetic; in float32 the relative error is
 * about 1e-5 of the output's magnitude (the transforms' entries reach 8 and 1/24), which the tests
 * bound.
 *
 * Applied where it pays in time, at a bounded cost in memory:
 * - both channel counts at least `minChannels` (default 128): below it the memory-bound transforms
 *   cost more than the GEMM saves;
 * - an output size divisible by 4 with at least `minPixels` pixels (default 64²): U holds 36/9 = 4×
 *   the kernel's weights while the time saved grows with the image, so small feature maps (VGG's
 *   conv4/conv5 at 256²) keep their direct convs.
 * Even so the transformed tiles (2.25× the activations) and U lift peak memory, so the ONNX backend runs
 * this pass only when asked (BackendOptions.winograd); the Gatys engine asks for its CPU step, where it pays
 * (measurements in docs/benchmarks.md).
 */
import type { Graph, HostTensor, Node } from '../../ir/types.ts';
import type { WeightMap } from '../../../backends/types.ts';
import { knownTensor, Rewriter } from './rewrite.ts';

/** Output tile size m, kernel size r and input tile size α = m + r − 1 of F(4×4, 3×3). */
export const TILE = 4;
export const KERNEL = 3;
export const ALPHA = TILE + KERNEL - 1;

/** Bᵀ [α, α]: the input transform, V = Bᵀ d B. */
export const BT: readonly (readonly number[])[] = [
  [4, 0, -5, 0, 1, 0],
  [0, -4, -4, 1, 1, 0],
  [0, 4, -4, -1, 1, 0],
  [0, -2, -1, 2, 1, 0],
  [0, 2, -1, -2, 1, 0],
  [0, 4, 0, -5, 0, 1],
];

/** G [α, r]: the kernel transform, U = G g Gᵀ. */
export const G: readonly (readonly number[])[] = [
  [1 / 4, 0, 0],
  [-1 / 6, -1 / 6, -1 / 6],
  [-1 / 6, 1 / 6, -1 / 6],
  [1 / 24, 1 / 12, 1 / 6],
  [1 / 24, -1 / 12, 1 / 6],
  [0, 0, 1],
];

/** Aᵀ [m, α]: the output transform, Y = Aᵀ M A. */
export const AT: readonly (readonly number[])[] = [
  [1, 1, 1, 1, 1, 0],
  [0, 1, -1, 2, -2, 0],
  [0, 1, 1, 4, 4, 0],
  [0, 1, -1, 8, -8, 1],
];

/**
 * M ⊗ M for an [r, c] matrix M, laid out [r², c²]: entry ((p, q), (i, j)) = M[p][i]·M[q][j]. Each
 * transform below is one of these, applied to a 2-D tile by acting on both of its axes.
 */
function kronSquare(m: readonly (readonly number[])[]): Float32Array {
  const r = m.length;
  const c = m[0]!.length;
  const t = new Float32Array(r * r * c * c);
  for (let p = 0; p < r; p++)
    for (let q = 0; q < r; q++)
      for (let i = 0; i < c; i++) for (let j = 0; j < c; j++) t[(p * r + q) * c * c + i * c + j] = m[p]![i]! * m[q]![j]!;
  return t;
}

const reverseRows = (m: readonly (readonly number[])[]): number[][] => m.map((row) => [...row]).reverse();
const reverseColumns = (m: readonly (readonly number[])[]): number[][] => m.map((row) => [...row].reverse());
const transpose = (m: readonly (readonly number[])[]): number[][] => m[0]!.map((_, j) => m.map((row) => row[j]!));

/**
 * The input transform as α² conv kernels [α², 1, α, α]: kernel (i, j) holds Bᵀ[i][a]·Bᵀ[j][b], so a
 * stride-m conv over a 6×6 window gives (Bᵀ d B)[i][j] (a conv is a correlation: Σ k[a][b] d[a][b]).
 * `reversed` reads the window backwards (Bᵀ J, J the reversal), for true convolutions (see below).
 */
export function inputTransformKernels(reversed = false): Float32Array {
  return kronSquare(reversed ? reverseColumns(BT) : BT);
}

/** The kernel transform as a [r², α²] matrix: (g as [·, 9]) · it = (G g Gᵀ) as [·, 36]. */
export function weightTransformMatrix(): Float32Array {
  return kronSquare(transpose(G));
}

/** The output transform as an [m², α²] matrix: row (p, q) holds Aᵀ[p][i]·Aᵀ[q][j] (`reversed`: J Aᵀ, rows backwards). */
export function outputTransformMatrix(reversed = false): Float32Array {
  return kronSquare(reversed ? reverseRows(AT) : AT);
}

/**
 * U = G g Gᵀ for every [d0, d1] kernel of a known weight, as [36, d0, d1] float32, computed here in
 * float64 per kernel (the IR route through constant folding would hold float64 copies of every
 * intermediate of every layer at once: gigabytes for VGG-19).
 */
export function transformKernels(w: HostTensor): Float32Array {
  const [d0, d1] = w.shape as [number, number];
  const pairs = d0 * d1;
  const u = new Float32Array(ALPHA * ALPHA * pairs);
  const t = new Float64Array(ALPHA * KERNEL);
  for (let k = 0; k < pairs; k++) {
    const g = k * KERNEL * KERNEL;
    for (let i = 0; i < ALPHA; i++)
      for (let q = 0; q < KERNEL; q++) {
        let s = 0;
        for (let p = 0; p < KERNEL; p++) s += G[i]![p]! * w.data[g + p * KERNEL + q]!;
        t[i * KERNEL + q] = s;
      }
    for (let i = 0; i < ALPHA; i++)
      for (let j = 0; j < ALPHA; j++) {
        let s = 0;
        for (let q = 0; q < KERNEL; q++) s += t[i * KERNEL + q]! * G[j]![q]!;
        u[(i * ALPHA + j) * pairs + k] = s;
      }
  }
  return u;
}

export interface WinogradOptions {
  /** Rewrite only convs with at least this many input and output channels (default 128). */
  readonly minChannels?: number;
  /** ... and at least this many output pixels per image (default 64·64). */
  readonly minPixels?: number;
}

export const DEFAULT_MIN_CHANNELS = 128;
export const DEFAULT_MIN_PIXELS = 64 * 64;

type Pads = readonly [number, number, number, number];

/** A conv to rewrite, as a correlation of `x` (padded by `pads`) with kernels read from `w`. */
interface Site {
  readonly x: string;
  readonly w: string;
  readonly bias?: string;
  readonly pads: Pads;
  /** Channels of x and of the output. */
  readonly cin: number;
  readonly cout: number;
  /** A transposed conv: the kernel is w's [I, O] block rotated by 180°, i.e. a true convolution. */
  readonly transposed: boolean;
}

/** Whether a 3×3 stride-1 correlation of x padded by `pads` is wide enough, tiles by 4 and has enough output pixels. */
function tiles(x: readonly number[], pads: Pads, cin: number, cout: number, o: Required<WinogradOptions>): boolean {
  if (cin < o.minChannels || cout < o.minChannels || pads.some((p) => p < 0)) return false;
  const ho = x[2]! + pads[0] + pads[2] - (KERNEL - 1);
  const wo = x[3]! + pads[1] + pads[3] - (KERNEL - 1);
  return ho > 0 && wo > 0 && ho % TILE === 0 && wo % TILE === 0 && ho * wo >= o.minPixels;
}

const unit = (v: readonly [number, number]): boolean => v[0] === 1 && v[1] === 1;

function site(n: Node, shape: (id: string) => number[], o: Required<WinogradOptions>): Site | undefined {
  if (n.op !== 'conv2d' && n.op !== 'convTranspose2d') return undefined;
  const [x, w, bias] = n.inputs as [string, string, string | undefined];
  const a = n.attrs;
  if (a.group !== 1 || !unit(a.strides) || !unit(a.dilations)) return undefined;
  const ws = shape(w);
  if (ws[2] !== KERNEL || ws[3] !== KERNEL) return undefined;
  const xs = shape(x);
  if (n.op === 'conv2d') {
    // Stride-1 "SAME" for an odd kernel is symmetric.
    const pads = a.padding.kind === 'same' ? ([1, 1, 1, 1] as const) : a.padding.pads;
    const s: Site = { x, w, ...(bias && { bias }), pads, cin: ws[1]!, cout: ws[0]!, transposed: false };
    return tiles(xs, pads, s.cin, s.cout, o) ? s : undefined;
  }
  // ConvTranspose(dy, w, pads p), stride 1 = correlation of dy, padded by K − 1 − p, with the
  // rotated kernel (autodiff's input gradient of a conv; see conv-transpose.ts).
  if (n.attrs.outputPadding[0] !== 0 || n.attrs.outputPadding[1] !== 0 || a.padding.kind !== 'explicit') return undefined;
  const pads = a.padding.pads.map((p) => KERNEL - 1 - p) as unknown as Pads;
  const s: Site = { x, w, ...(bias && { bias }), pads, cin: ws[0]!, cout: ws[1]!, transposed: true };
  return tiles(xs, pads, s.cin, s.cout, o) ? s : undefined;
}

/**
 * Rewrite every eligible 3×3 stride-1 conv as F(4×4, 3×3): forward convs, and the stride-1
 * transposed convs autodiff writes for their input gradients (so this runs before
 * convTransposeToConv).
 *
 * A transposed conv with weight w [I, O, 3, 3] correlates with w rotated by 180° — a true
 * convolution with w[i, o] — and a true convolution of a tile is the Winograd correlation of the
 * reversed tile, reversed: conv(d, g) = J₄ Aᵀ[(G g Gᵀ) ⊙ (Bᵀ J₆ d J₆ B)] A J₄. So it reuses the very
 * same transformed kernel U = G w Gᵀ [36, I, O] as the forward conv of w, with the input and output
 * transforms read backwards and the channel contraction on U's other axis: Mᵀ = Vᵀ·U, [36, T, O].
 * For a known weight (a constant, or a frozen parameter in `weights`) U is computed here, once; for a
 * trained one it is written in IR (a matmul with the [9, 36] matrix G⊗G), a few small ops per step.
 * One U per weight serves the forward conv and its gradient, so a Gatys step holds 4× the loss
 * network's weights (U) where the direct convs held 2× (w and its rotated transpose).
 */
export function winogradConvs(g: Graph, opts: WinogradOptions = {}, weights: WeightMap = new Map()): Graph {
  const o: Required<WinogradOptions> = { minChannels: opts.minChannels ?? DEFAULT_MIN_CHANNELS, minPixels: opts.minPixels ?? DEFAULT_MIN_PIXELS };
  const rw = new Rewriter(g);
  const shape = (id: string): number[] => rw.shape(id);
  const a2 = ALPHA * ALPHA;
  const m2 = TILE * TILE;
  const consts = new Map<string, string>();
  const constant = (name: string, dims: readonly number[], data: () => Float32Array): string => {
    let id = consts.get(name);
    if (!id) consts.set(name, (id = rw.constant(`winograd.${name}`, dims, data())));
    return id;
  };
  /** U = G w Gᵀ as [36, w's axis 0, w's axis 1], one per weight. */
  const transformed = new Map<string, string>();
  const transform = (w: string): string => {
    let u = transformed.get(w);
    if (u) return u;
    const [d0, d1] = shape(w) as [number, number];
    const stem = `${w}.winograd`;
    const known = knownTensor(rw.value(w), weights);
    if (known) u = rw.constant(stem, [a2, d0, d1], transformKernels(known));
    else {
      const flat = rw.add('reshape', [w], { shape: [d0 * d1, KERNEL * KERNEL] }, stem);
      const taps = rw.add('matmul', [flat, constant('GgG', [KERNEL * KERNEL, a2], weightTransformMatrix)], {}, stem);
      u = rw.add('transpose', [rw.add('reshape', [taps], { shape: [d0, d1, a2] }, stem)], { perm: [2, 0, 1] }, stem);
    }
    transformed.set(w, u);
    return u;
  };
  let changed = false;
  for (const n of g.nodes) {
    const s = site(n, shape, o);
    if (!s) {
      rw.keep(n);
      continue;
    }
    changed = true;
    const [nb, , hi, wi] = shape(s.x) as [number, number, number, number];
    const h = (hi + s.pads[0] + s.pads[2] - 2) / TILE;
    const wt = (wi + s.pads[1] + s.pads[3] - 2) / TILE;
    const t = h * wt;
    const { cin, cout, transposed: rev } = s;
    const out = n.outputs[0]!;
    const stem = `${out}.winograd`;
    const u = transform(s.w);
    // Input transform: every channel as its own image through the 36 fixed kernels -> [N·Cin, 36, h, w].
    const planes = rw.add('reshape', [s.x], { shape: [nb * cin, 1, hi, wi] }, stem);
    const kernels = rev ? constant('JBtBJ', [a2, 1, ALPHA, ALPHA], () => inputTransformKernels(true)) : constant('BtB', [a2, 1, ALPHA, ALPHA], () => inputTransformKernels());
    const tiled = rw.add('conv2d', [planes, kernels], { strides: [TILE, TILE], dilations: [1, 1], padding: { kind: 'explicit', pads: s.pads }, group: 1 }, stem);
    const byPlane = rw.add('reshape', [tiled], { shape: nb === 1 ? [cin, a2, t] : [nb, cin, a2, t] }, stem);
    const lead = nb === 1 ? [] : [nb];
    const ax = lead.length; // first axis after the batch
    let m: string; // [(N,) 36, ·, ·] products
    let phases: string; // [(N,) 16, Cout, T]
    const outT = rev ? constant('JAtA', [m2, a2], () => outputTransformMatrix(true)) : constant('AtA', [m2, a2], () => outputTransformMatrix());
    if (!rev) {
      // V [(N,) 36, Cin, T]; M = U · V [(N,) 36, Cout, T]; O = AᵀA · M.
      const v = rw.add('transpose', [byPlane], { perm: [...lead.map((_, i) => i), ax + 1, ax, ax + 2] }, stem);
      m = rw.add('matmul', [u, v], {}, stem, undefined, n.layer);
      const o2 = rw.add('matmul', [outT, rw.add('reshape', [m], { shape: [...lead, a2, cout * t] }, stem)], {}, stem);
      phases = o2;
    } else {
      // Vᵀ [(N,) 36, T, Cin]; Mᵀ = Vᵀ · U [(N,) 36, T, Cout]; O = AᵀA · Mᵀ, then [16, T, Cout] -> [16, Cout, T].
      const vt = rw.add('transpose', [byPlane], { perm: [...lead.map((_, i) => i), ax + 1, ax + 2, ax] }, stem);
      m = rw.add('matmul', [vt, u], {}, stem, undefined, n.layer);
      const o2 = rw.add('matmul', [outT, rw.add('reshape', [m], { shape: [...lead, a2, t * cout] }, stem)], {}, stem);
      phases = rw.add('transpose', [rw.add('reshape', [o2], { shape: [...lead, m2, t, cout] }, stem)], { perm: [...lead.map((_, i) => i), ax, ax + 2, ax + 1] }, stem);
    }
    const grid = rw.add('reshape', [phases], { shape: [nb, m2 * cout, h, wt] }, stem);
    if (s.bias) {
      const y = rw.add('depthToSpace', [grid], { block: TILE }, stem);
      rw.add('add', [y, rw.add('reshape', [s.bias], { shape: [1, cout, 1, 1] }, stem)], {}, out, out, n.layer);
    } else rw.add('depthToSpace', [grid], { block: TILE }, out, out, n.layer);
  }
  return changed ? rw.build() : g;
}
