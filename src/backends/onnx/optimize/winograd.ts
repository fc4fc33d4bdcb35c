/**
 * 3×3 stride-1 convolutions as Winograd F(4×4, 3×3) or F(2×2, 3×3) (Lavin & Gray, "Fast Algorithms
 * for Convolutional Neural Networks", CVPR 2016), written in standard ops. Described below for
 * F(4×4, 3×3) (m = 4, α = 6); F(2×2, 3×3) is the same with m = 2, α = 4 (WinogradTile).
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
 * - an output size divisible by 4 with at least `minPixels` pixels (default 32²): U holds 36/9 = 4×
 *   the kernel's weights while the time saved grows with the image, so the smallest maps (VGG-19's
 *   conv5_1 at 256², 16²) keep their direct convs. 32² brings in VGG-19's conv4 at 256²: the Gatys step
 *   took 537-695 ms against 662-792 ms at 64², peak RSS 548-566 against 481-489 MB, PyTorch's 611-628 MB
 *   (docs/benchmarks.md, "Winograd").
 * Even so the transformed tiles (2.25× the activations) and U lift peak memory, so the ONNX backend runs
 * this pass only when asked (BackendOptions.winograd); the Gatys engine asks for its CPU step, where it pays
 * (measurements in docs/benchmarks.md).
 */
import type { Graph, HostTensor, Node } from '../../../compiler/ir/types.ts';
import type { WeightMap } from '../../types.ts';
import { convAttrs, knownTensor, Rewriter } from './rewrite.ts';

type Matrix = readonly (readonly number[])[];

/** Kernel size r of every variant here. */
export const KERNEL = 3;

/**
 * One Winograd variant F(m×m, 3×3): an output tile of m×m from an input tile of α×α, α = m + 2,
 * with Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A.
 */
export interface WinogradTile {
  /** Output tile size m. */
  readonly m: number;
  /** Bᵀ [α, α]: the input transform, V = Bᵀ d B. */
  readonly BT: Matrix;
  /** G [α, r]: the kernel transform, U = G g Gᵀ. */
  readonly G: Matrix;
  /** Aᵀ [m, α]: the output transform, Y = Aᵀ M A. */
  readonly AT: Matrix;
}

/**
 * F(4×4, 3×3), interpolation points 0, ±1, ±2, ∞ (Lavin & Gray): 36 products per 16 outputs, 4× fewer
 * multiply-adds than the direct conv; U holds 36/9 = 4× the kernel's weights.
 */
export const F4X4: WinogradTile = {
  m: 4,
  BT: [
    [4, 0, -5, 0, 1, 0],
    [0, -4, -4, 1, 1, 0],
    [0, 4, -4, -1, 1, 0],
    [0, -2, -1, 2, 1, 0],
    [0, 2, -1, -2, 1, 0],
    [0, 4, 0, -5, 0, 1],
  ],
  G: [
    [1 / 4, 0, 0],
    [-1 / 6, -1 / 6, -1 / 6],
    [-1 / 6, 1 / 6, -1 / 6],
    [1 / 24, 1 / 12, 1 / 6],
    [1 / 24, -1 / 12, 1 / 6],
    [0, 0, 1],
  ],
  AT: [
    [1, 1, 1, 1, 1, 0],
    [0, 1, -1, 2, -2, 0],
    [0, 1, 1, 4, 4, 0],
    [0, 1, -1, 8, -8, 1],
  ],
};

/**
 * F(2×2, 3×3), points 0, ±1, ∞ (Lavin & Gray): 16 products per 4 outputs, 2.25× fewer multiply-adds;
 * U holds 16/9 ≈ 1.78× the kernel's weights — less than a conv and its gradient hold without it (w and
 * its rotated transpose, 2×) — and its transforms are exact in float32 (entries 0, ±1, ±½).
 */
export const F2X2: WinogradTile = {
  m: 2,
  BT: [
    [1, 0, -1, 0],
    [0, 1, 1, 0],
    [0, -1, 1, 0],
    [0, 1, 0, -1],
  ],
  G: [
    [1, 0, 0],
    [1 / 2, 1 / 2, 1 / 2],
    [1 / 2, -1 / 2, 1 / 2],
    [0, 0, 1],
  ],
  AT: [
    [1, 1, 1, 0],
    [0, 1, -1, -1],
  ],
};

/** α = m + r − 1, the input tile size. */
export const alphaOf = (f: WinogradTile): number => f.m + KERNEL - 1;

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
 * stride-m conv over an α×α window gives (Bᵀ d B)[i][j] (a conv is a correlation: Σ k[a][b] d[a][b]).
 * `reversed` reads the window backwards (Bᵀ J, J the reversal), for true convolutions (see below).
 */
export function inputTransformKernels(f: WinogradTile = F4X4, reversed = false): Float32Array {
  return kronSquare(reversed ? reverseColumns(f.BT) : f.BT);
}

/** The kernel transform as a [r², α²] matrix: (g as [·, 9]) · it = (G g Gᵀ) as [·, α²]. */
export function weightTransformMatrix(f: WinogradTile = F4X4): Float32Array {
  return kronSquare(transpose(f.G));
}

/** The output transform as an [m², α²] matrix: row (p, q) holds Aᵀ[p][i]·Aᵀ[q][j] (`reversed`: J Aᵀ, rows backwards). */
export function outputTransformMatrix(f: WinogradTile = F4X4, reversed = false): Float32Array {
  return kronSquare(reversed ? reverseRows(f.AT) : f.AT);
}

/**
 * U = G g Gᵀ for every [d0, d1] kernel of a known weight, as [α², d0, d1] float32, computed here in
 * float64 per kernel (the IR route through constant folding would hold float64 copies of every
 * intermediate of every layer at once: gigabytes for VGG-19).
 */
export function transformKernels(w: HostTensor, f: WinogradTile = F4X4): Float32Array {
  const [d0, d1] = w.shape as [number, number];
  const a = alphaOf(f);
  const pairs = d0 * d1;
  const u = new Float32Array(a * a * pairs);
  // U[ij, k] = Σ_pq G[i, p] G[j, q] g_k[p, q], written row by row (contiguous in k): this runs once per model
  // load, mostly before V8 has optimised it, and the per-kernel form (36 scattered writes per kernel) took about
  // 0.25 s for Johnson-IN's ten residual convs.
  const wd = w.data;
  const m = new Float64Array(KERNEL * KERNEL);
  for (let i = 0; i < a; i++)
    for (let j = 0; j < a; j++) {
      for (let p = 0; p < KERNEL; p++) for (let q = 0; q < KERNEL; q++) m[p * KERNEL + q] = f.G[i]![p]! * f.G[j]![q]!;
      const [m0, m1, m2, m3, m4, m5, m6, m7, m8] = m;
      const row = (i * a + j) * pairs;
      for (let k = 0, b = 0; k < pairs; k++, b += 9)
        u[row + k] = m0! * wd[b]! + m1! * wd[b + 1]! + m2! * wd[b + 2]! + m3! * wd[b + 3]! + m4! * wd[b + 4]! + m5! * wd[b + 5]! + m6! * wd[b + 6]! + m7! * wd[b + 7]! + m8! * wd[b + 8]!;
    }
  return u;
}

export interface WinogradOptions {
  /** F(4×4, 3×3) only for convs with at least this many input and output channels (default 128). */
  readonly minChannels?: number;
  /** ... and at least this many output pixels per image (default 32·32). */
  readonly minPixels?: number;
  /**
   * F(2×2, 3×3) for the convs F(4×4) leaves (too few pixels, or sides not divisible by 4) that have at
   * least this many input and output channels (default Infinity: none). On the VGG-19 Gatys step at 256²
   * with F(4×4) from 32², 256 (then only conv5_1 at 16²) gave 700-714 ms against 537-695 ms without it
   * (docs/benchmarks.md, "Winograd"): no gain, so it is opt-in.
   */
  readonly f2MinChannels?: number;
}

/** Every value the Winograd rewrite creates has this in its id (so a backend can tell the rewrite ran). */
export const WINOGRAD_STEM = '.winograd';

/** Prefix of the ids of the pass's fixed transform constants. */
const CONSTANT_PREFIX = 'winograd.';

/** How many convs a graph runs as Winograd: each starts with its input transform, a conv with the pass's fixed kernels. */
export function winogradConvCount(g: Graph): number {
  return g.nodes.filter((n) => n.op === 'conv2d' && n.inputs[1]!.startsWith(CONSTANT_PREFIX)).length;
}

export const DEFAULT_MIN_CHANNELS = 128;
export const DEFAULT_MIN_PIXELS = 32 * 32;
export const DEFAULT_F2_MIN_CHANNELS = Infinity;

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
  readonly tile: WinogradTile;
}

/** The variant for a 3×3 stride-1 correlation of x padded by `pads`, if any: F(4×4) first, then F(2×2). */
function tileFor(x: readonly number[], pads: Pads, cin: number, cout: number, o: Required<WinogradOptions>): WinogradTile | undefined {
  if (pads.some((p) => p < 0)) return undefined;
  const ho = x[2]! + pads[0] + pads[2] - (KERNEL - 1);
  const wo = x[3]! + pads[1] + pads[3] - (KERNEL - 1);
  if (ho <= 0 || wo <= 0) return undefined;
  const channels = Math.min(cin, cout);
  if (channels >= o.minChannels && ho % 4 === 0 && wo % 4 === 0 && ho * wo >= o.minPixels) return F4X4;
  if (channels >= o.f2MinChannels && ho % 2 === 0 && wo % 2 === 0) return F2X2;
  return undefined;
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
  let pads: Pads;
  let channels: { cin: number; cout: number; transposed: boolean };
  if (n.op === 'conv2d') {
    // Stride-1 "SAME" for an odd kernel is symmetric.
    pads = a.padding.kind === 'same' ? ([1, 1, 1, 1] as const) : a.padding.pads;
    channels = { cin: ws[1]!, cout: ws[0]!, transposed: false };
  } else {
    // ConvTranspose(dy, w, pads p), stride 1 = correlation of dy, padded by K − 1 − p, with the
    // rotated kernel (autodiff's input gradient of a conv; see conv-transpose.ts).
    if (n.attrs.outputPadding[0] !== 0 || n.attrs.outputPadding[1] !== 0 || a.padding.kind !== 'explicit') return undefined;
    pads = a.padding.pads.map((p) => KERNEL - 1 - p) as unknown as Pads;
    channels = { cin: ws[0]!, cout: ws[1]!, transposed: true };
  }
  const tile = tileFor(xs, pads, channels.cin, channels.cout, o);
  return tile && { x, w, ...(bias && { bias }), pads, ...channels, tile };
}

/**
 * Rewrite every eligible 3×3 stride-1 conv as F(4×4, 3×3) or F(2×2, 3×3): forward convs, and the
 * stride-1 transposed convs autodiff writes for their input gradients (so this runs before
 * convTransposeToConv).
 *
 * A transposed conv with weight w [I, O, 3, 3] correlates with w rotated by 180° — a true
 * convolution with w[i, o] — and a true convolution of a tile is the Winograd correlation of the
 * reversed tile, reversed: conv(d, g) = J_m Aᵀ[(G g Gᵀ) ⊙ (Bᵀ J_α d J_α B)] A J_m. So it reuses the very
 * same transformed kernel U = G w Gᵀ [α², I, O] as the forward conv of w, with the input and output
 * transforms read backwards and the channel contraction on U's other axis: Mᵀ = Vᵀ·U, [α², T, O].
 * For a known weight (a constant, or a frozen parameter in `weights`) U is computed here, once; for a
 * trained one it is written in IR (a matmul with the [9, α²] matrix G⊗G), a few small ops per step.
 * One U per weight and variant serves the forward conv and its gradient, so a Gatys step holds 4×
 * (F(4×4)) or 1.78× (F(2×2)) the rewritten layers' weights where the direct convs held 2× (w and its
 * rotated transpose).
 */
export function winogradConvs(g: Graph, opts: WinogradOptions = {}, weights: WeightMap = new Map()): Graph {
  const o: Required<WinogradOptions> = {
    minChannels: opts.minChannels ?? DEFAULT_MIN_CHANNELS,
    minPixels: opts.minPixels ?? DEFAULT_MIN_PIXELS,
    f2MinChannels: opts.f2MinChannels ?? DEFAULT_F2_MIN_CHANNELS,
  };
  const rw = new Rewriter(g);
  const shape = (id: string): number[] => rw.shape(id);
  const consts = new Map<string, string>();
  const constant = (name: string, f: WinogradTile, dims: readonly number[], data: () => Float32Array): string => {
    const key = `${name}${f.m}`;
    let id = consts.get(key);
    if (!id) consts.set(key, (id = rw.constant(`${CONSTANT_PREFIX}${key}`, dims, data())));
    return id;
  };
  /** U = G w Gᵀ as [α², w's axis 0, w's axis 1], one per weight and variant. */
  const transformed = new Map<string, string>();
  const transform = (w: string, f: WinogradTile): string => {
    const a2 = alphaOf(f) ** 2;
    const key = `${w}/${f.m}`;
    let u = transformed.get(key);
    if (u) return u;
    const [d0, d1] = shape(w) as [number, number];
    const stem = f === F4X4 ? `${w}${WINOGRAD_STEM}` : `${w}${WINOGRAD_STEM}${f.m}`;
    const known = knownTensor(rw.value(w), weights);
    if (known) u = rw.constant(stem, [a2, d0, d1], transformKernels(known, f));
    else {
      const flat = rw.add('reshape', [w], { shape: [d0 * d1, KERNEL * KERNEL] }, stem);
      const taps = rw.add('matmul', [flat, constant('GgG', f, [KERNEL * KERNEL, a2], () => weightTransformMatrix(f))], {}, stem);
      u = rw.add('transpose', [rw.add('reshape', [taps], { shape: [d0, d1, a2] }, stem)], { perm: [2, 0, 1] }, stem);
    }
    transformed.set(key, u);
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
    const f = s.tile;
    const alpha = alphaOf(f);
    const a2 = alpha * alpha;
    const m2 = f.m * f.m;
    const [nb, , hi, wi] = shape(s.x) as [number, number, number, number];
    const h = (hi + s.pads[0] + s.pads[2] - 2) / f.m;
    const wt = (wi + s.pads[1] + s.pads[3] - 2) / f.m;
    const t = h * wt;
    const { cin, cout, transposed: rev } = s;
    const out = n.outputs[0]!;
    const stem = `${out}${WINOGRAD_STEM}`;
    const u = transform(s.w, f);
    // Input transform: every channel as its own image through the α² fixed kernels -> [N·Cin, α², h, w].
    const planes = rw.add('reshape', [s.x], { shape: [nb * cin, 1, hi, wi] }, stem);
    const kernels = rev
      ? constant('JBtBJ', f, [a2, 1, alpha, alpha], () => inputTransformKernels(f, true))
      : constant('BtB', f, [a2, 1, alpha, alpha], () => inputTransformKernels(f));
    const tiled = rw.add('conv2d', [planes, kernels], convAttrs(f.m, s.pads), stem);
    const byPlane = rw.add('reshape', [tiled], { shape: nb === 1 ? [cin, a2, t] : [nb, cin, a2, t] }, stem);
    const lead = nb === 1 ? [] : [nb];
    const ax = lead.length; // first axis after the batch
    let m: string; // [(N,) α², ·, ·] products
    let phases: string; // [(N,) m², Cout, T]
    const outT = rev ? constant('JAtA', f, [m2, a2], () => outputTransformMatrix(f, true)) : constant('AtA', f, [m2, a2], () => outputTransformMatrix(f));
    if (!rev) {
      // V [(N,) α², Cin, T]; M = U · V [(N,) α², Cout, T]; O = AᵀA · M.
      const v = rw.add('transpose', [byPlane], { perm: [...lead.map((_, i) => i), ax + 1, ax, ax + 2] }, stem);
      m = rw.add('matmul', [u, v], {}, stem, undefined, n.layer);
      const o2 = rw.add('matmul', [outT, rw.add('reshape', [m], { shape: [...lead, a2, cout * t] }, stem)], {}, stem);
      phases = o2;
    } else {
      // Vᵀ [(N,) α², T, Cin]; Mᵀ = Vᵀ · U [(N,) α², T, Cout]; O = AᵀA · Mᵀ, then [m², T, Cout] -> [m², Cout, T].
      const vt = rw.add('transpose', [byPlane], { perm: [...lead.map((_, i) => i), ax + 1, ax + 2, ax] }, stem);
      m = rw.add('matmul', [vt, u], {}, stem, undefined, n.layer);
      const o2 = rw.add('matmul', [outT, rw.add('reshape', [m], { shape: [...lead, a2, t * cout] }, stem)], {}, stem);
      phases = rw.add('transpose', [rw.add('reshape', [o2], { shape: [...lead, m2, t, cout] }, stem)], { perm: [...lead.map((_, i) => i), ax, ax + 2, ax + 1] }, stem);
    }
    const grid = rw.add('reshape', [phases], { shape: [nb, m2 * cout, h, wt] }, stem);
    if (s.bias) {
      const y = rw.add('depthToSpace', [grid], { block: f.m }, stem);
      rw.add('add', [y, rw.add('reshape', [s.bias], { shape: [1, cout, 1, 1] }, stem)], {}, out, out, n.layer);
    } else rw.add('depthToSpace', [grid], { block: f.m }, out, out, n.layer);
  }
  return changed ? rw.build() : g;
}
