/**
 * Conv weight gradients as per-tap matrix products.
 *
 * Autodiff writes dW of a conv (x [N, C, H, W], dy [N, O, HO, WO]) as one convolution over
 * transposed tensors — transpose(conv(transposeᵀ x, transposeᵀ dy)) with dy as a HO×WO kernel —
 * which ONNX Runtime runs as C small GEMMs of width KH·KW: a few GFLOP/s. For dilation-1,
 * single-group convs (stride 1 first; strided below) this pass rewrites it as
 *
 *   dW[:, :, a, b] = Σ_n dy_n [O, HO·WO] · (xpad_n[:, a : a + HO, b : b + WO])ᵀ [HO·WO, C]
 *
 * one large matmul per kernel tap (KH·KW ≤ 9 taps, so the slices stay few), with xpad the
 * zero-padded input. Each tap's window is read as one contiguous slice of xpad flattened to
 * [N, C, Hp·Wp] — offset a·Wp + b, length HO·Wp — against dy widened to Wp columns with zeros, so
 * the columns a window wraps into meet zeros in dy: a flat slice copies whole rows at once, where a
 * row slice and then a column slice (the 2-D window) copied WO floats at a time (measured in
 * docs/benchmarks.md, item 3). The pattern matched is exactly what autodiff's weightGrad emits:
 * conv2d(transpose₁₀₂₃(x), transpose₁₀₂₃(dy)) with unit strides, optional slices trimming KH', KW'
 * to KH, KW, then transpose₁₀₂₃. With fewer output than input channels the windows are taken of dy
 * instead, the smaller side (shiftedDy).
 *
 * A forward stride s is autodiff's conv dilation s: dy is a dilated HO×WO kernel, and the conv
 * computes KH' = Hp − s·(HO − 1) rows of taps where KH are kept (4×4 for 3×3 at stride 2: 16/9 of the
 * work), at a few tens of GFLOP/s. There the taps read xpad[:, :, s·y + a, s·x + b]; xpad is split once
 * into its sh·sw phases (space-to-depth: a reshape and a transpose), phase (p, q) holding
 * xpad[:, :, sh·y + p, sw·x + q], and tap (a, b) is the stride-1 window at (⌊a/sh⌋, ⌊b/sw⌋) of phase
 * (a mod sh, b mod sw), flattened and sliced as above:
 *
 *   dW[:, :, a, b] = Σ_n dy_n [O, HO·WO] · (xpad_n[:, a : a + s·HO : s, b : b + s·WO : s])ᵀ
 *
 * Kernels over MAX_TAPS taps (Johnson's 9×9 first and last convs) keep one conv, but at stride 1
 * when O < C (the last conv: 32 → 3 channels) the roles swap: autodiff's conv is a GEMM with O rows over an
 * im2col of x repeated for each of the C channels, 3 rows at a few GFLOP/s. Instead dy is the
 * image and x the kernel:
 *
 *   out[o, c, i, j] = Σ_{n,u,v} dyq[n, o, i + u, j + v] · x[n, c, u, v],   dW[o, c, a, b] = out[o, c, KH−1−a, KW−1−b]
 *
 * with dyq = dy zero-padded by (KH−1−t, KW−1−l) before and (H−HO+t, W−WO+l) after: a conv over
 * transpose₁₀₂₃(dy) with kernel transpose₁₀₂₃(x), whose GEMM has C rows and whose im2col is repeated
 * O times, not C. It writes [O, C, KH, KW] directly; the spatial flip is one matmul with the
 * reversal matrix over the KH·KW taps (exact: one product per output).
 */
import type { Graph, Node } from '../../../compiler/ir/types.ts';
import { producers } from '../../../compiler/ir/graph.ts';
import { reversalMatrix } from './conv-transpose.ts';
import { convAttrs, Rewriter, useCounts } from './rewrite.ts';

const SWAP01 = [1, 0, 2, 3];
const isSwap01 = (n: Node | undefined): n is Node & { op: 'transpose' } =>
  n?.op === 'transpose' && n.attrs.perm.length === 4 && n.attrs.perm.every((p, i) => p === SWAP01[i]);

/** The stride-phase split's permutation, [N, C, Hq, sh, Wq, sw] → [N, sh, sw, C, Hq, Wq] (peephole/space-to-depth.ts matches it). */
export const PHASE_SPLIT: readonly number[] = [0, 3, 5, 1, 2, 4];

/** Most taps rewritten; larger kernels keep autodiff's single conv. */
export const MAX_TAPS = 9;

interface Match {
  readonly x: string;
  readonly dy: string;
  readonly pads: readonly [number, number, number, number];
  /** The forward conv's strides (autodiff's conv dilations). */
  readonly strides: readonly [number, number];
}

function match(final: Node, prod: ReadonlyMap<string, Node>, uses: ReadonlyMap<string, number>): Match | undefined {
  if (!isSwap01(final)) return undefined;
  let cur = prod.get(final.inputs[0]!);
  while (cur?.op === 'slice' && (cur.attrs.axis === 2 || cur.attrs.axis === 3) && cur.attrs.start === 0 && uses.get(cur.outputs[0]!) === 1) {
    cur = prod.get(cur.inputs[0]!);
  }
  if (cur?.op !== 'conv2d' || uses.get(cur.outputs[0]!) !== 1) return undefined;
  const a = cur.attrs;
  // A forward stride s is autodiff's conv dilation s (dy read as a dilated kernel); its conv strides are the forward dilations.
  if (a.group !== 1 || a.padding.kind !== 'explicit' || a.strides.some((s) => s !== 1) || cur.inputs.length !== 2) return undefined;
  const tx = prod.get(cur.inputs[0]!);
  const tdy = prod.get(cur.inputs[1]!);
  if (!isSwap01(tx) || !isSwap01(tdy)) return undefined;
  return { x: tx.inputs[0]!, dy: tdy.inputs[0]!, pads: a.padding.pads, strides: [a.dilations[0], a.dilations[1]] };
}

export function weightGradToMatmul(g: Graph): Graph {
  const prod = producers(g);
  const uses = useCounts(g);
  const matches = new Map<Node, Match>();
  for (const n of g.nodes) {
    const m = match(n, prod, uses);
    if (!m) continue;
    const [o, c, kh, kw] = g.values.get(n.outputs[0]!)!.shape as number[];
    if (o === undefined || c === undefined) continue;
    const unit = m.strides[0] === 1 && m.strides[1] === 1;
    if (kh! * kw! > MAX_TAPS && !(unit && o < c && swappedPads(shapeOf(g, m.x), shapeOf(g, m.dy), m.pads, kh!, kw!))) continue;
    matches.set(n, m);
  }
  if (matches.size === 0) return g;
  const rw = new Rewriter(g);
  for (const n of g.nodes) {
    const m = matches.get(n);
    if (!m) {
      // The inner conv and slices are dropped by build()'s dead-code pass once nothing reads them.
      rw.keep(n);
      continue;
    }
    const [o, c, kh, kw] = rw.shape(n.outputs[0]!) as [number, number, number, number];
    if (kh * kw > MAX_TAPS) swapped(rw, n, m);
    else if (o < c) shiftedDy(rw, n, m);
    else shiftedX(rw, n, m);
  }
  return rw.build();
}

const shapeOf = (g: Graph, id: string): readonly number[] => g.values.get(id)!.shape as number[];

/** dy's zero padding for the swapped formulation (x [N, C, H, W], dy [N, O, HO, WO]), or undefined where it would be negative. */
function swappedPads(x: readonly number[], dy: readonly number[], xPads: Match['pads'], kh: number, kw: number): readonly [number, number, number, number] | undefined {
  const [t, l] = xPads;
  const pads = [kh - 1 - t, kw - 1 - l, x[2]! - dy[2]! + t, x[3]! - dy[3]! + l] as const;
  return pads.every((p) => p >= 0) ? pads : undefined;
}

/** dW as one conv with dy as the image and x as the kernel, then the spatial flip (see the header). */
function swapped(rw: Rewriter, n: Node, m: Match): void {
  const out = n.outputs[0]!;
  const [o, c, kh, kw] = rw.shape(out) as [number, number, number, number];
  const stem = `${out}.swapped`;
  const pads = swappedPads(rw.shape(m.x), rw.shape(m.dy), m.pads, kh, kw)!;
  const dyT = rw.add('transpose', [m.dy], { perm: SWAP01 }, stem); // [O, N, HO, WO]
  const xT = rw.add('transpose', [m.x], { perm: SWAP01 }, stem); // [C, N, H, W]
  const flipped = rw.add('conv2d', [dyT, xT], convAttrs(1, pads), stem); // [O, C, KH, KW]
  const flat = rw.add('reshape', [flipped], { shape: [o * c, kh * kw] }, stem);
  const rev = rw.add('matmul', [flat, rw.constant(`${stem}.reverse`, [kh * kw, kh * kw], reversalMatrix(kh * kw))], {}, stem);
  rw.add('reshape', [rev], { shape: [o, c, kh, kw] }, stem, out, n.layer);
}

/**
 * Padded x split into its sh·sw phases (space-to-depth; one phase for stride 1), each phase image flattened:
 * `phase(p, q)` is [N, C, Hq·Wq] with phase[y, x] = xp[sh·y + p, sw·x + q], so tap (a, b) reads the stride-1
 * window at (⌊a/sh⌋, ⌊b/sw⌋) of phase (a mod sh, b mod sw). xp is zero-padded to whole phases, plus
 * `extraRows` phase rows below; dy is widened to the phases' Wq columns with zeros. The phases are
 * [N, sh·sw·C, Hq·Wq], phase-major (ONNX's SpaceToDepth order, which the CPU peephole
 * space-to-depth.ts substitutes for the reshape-transpose-reshape, which ORT's 6-D Transpose runs element by element).
 */
interface PhaseGrid {
  /** Phase (p, q) as [N, C, Hq·Wq]: a fresh slice each call, so that a tap's window slice of it merges with it into one ONNX Slice. */
  readonly phase: (p: number, q: number) => string;
  readonly dyWide: string;
  readonly hq: number;
  readonly wq: number;
}

function phaseGrid(rw: Rewriter, m: Match, c: number, extraRows: number, stem: string): PhaseGrid {
  const [t, l, b, r] = m.pads;
  const [sh, sw] = m.strides;
  const [nb, , h, w] = rw.shape(m.x) as [number, number, number, number];
  const wo = rw.shape(m.dy)[3]!;
  const hq = Math.ceil((h + t + b) / sh) + extraRows;
  const wq = Math.ceil((w + l + r) / sw);
  const pads = [t, l, hq * sh - h - t, wq * sw - w - l] as const;
  const xp = pads.some((p) => p > 0) ? rw.add('pad', [m.x], { mode: 'constant', pads, value: 0 }, stem) : m.x;
  const dyWide = wq > wo ? rw.add('pad', [m.dy], { mode: 'constant', pads: [0, 0, 0, wq - wo], value: 0 }, stem) : m.dy;
  if (sh === 1 && sw === 1) {
    const xFlat = rw.add('reshape', [xp], { shape: [nb, c, hq * wq] }, stem);
    return { phase: () => xFlat, dyWide, hq, wq };
  }
  // [N, C, Hq, sh, Wq, sw] -> [N, sh, sw, C, Hq, Wq]: phase (p, q) is channel block p·sw + q of C channels.
  const split = rw.add('reshape', [xp], { shape: [nb, c, hq, sh, wq, sw] }, stem);
  const phases = rw.add('transpose', [split], { perm: PHASE_SPLIT }, stem);
  const flat = rw.add('reshape', [phases], { shape: [nb, sh * sw * c, hq * wq] }, stem);
  const phase = (p: number, q: number): string => rw.add('slice', [flat], { axis: 1, start: (p * sw + q) * c, end: (p * sw + q + 1) * c }, stem);
  return { phase, dyWide, hq, wq };
}

/** Tap (a, b) of a stride-(sh, sw) kernel: its phase (p, q) and its offset (i, j) in that phase. */
const tapOf = (a: number, b: number, [sh, sw]: Match['strides']) => ({ p: a % sh, q: b % sw, i: Math.floor(a / sh), j: Math.floor(b / sw) });

/**
 * dW from one product per tap: `operands(a, b)` gives [N, O, L] and [N, C, L] for tap (a, b); each pair is
 * multiplied (the second transposed), summed over N and stacked into [O, C, KH, KW], written to n's output.
 */
function stackTaps(rw: Rewriter, n: Node, stem: string, operands: (a: number, b: number) => readonly [string, string]): void {
  const out = n.outputs[0]!;
  const [o, c, kh, kw] = rw.shape(out) as [number, number, number, number];
  const taps: string[] = [];
  for (let a = 0; a < kh; a++)
    for (let b = 0; b < kw; b++) {
      const [dyPart, xPart] = operands(a, b);
      let p = rw.add('matmul', [dyPart, rw.add('transpose', [xPart], { perm: [0, 2, 1] }, stem)], {}, stem); // [N, O, C]
      p = rw.shape(p)[0]! > 1 ? rw.add('reduceSum', [p], { axes: [0], keepDims: false }, stem) : p;
      taps.push(rw.add('reshape', [p], { shape: [o, c, 1] }, stem));
    }
  const stacked = taps.length === 1 ? taps[0]! : rw.add('concat', taps, { axis: 2 }, stem);
  rw.add('reshape', [stacked], { shape: [o, c, kh, kw] }, stem, out, n.layer);
}

/**
 * The per-tap matmuls with x's windows: one contiguous slice of a flat phase of the padded x per tap (see the
 * header). A tap's window at (i, j) starts at i·Wq + j and runs HO·Wq; the columns it wraps into meet dy's zero
 * columns (Wq ≥ WO + ⌊(KW − 1)/sw⌋), and one extra phase row below covers the last windows' overrun.
 */
function shiftedX(rw: Rewriter, n: Node, m: Match): void {
  const out = n.outputs[0]!;
  const [, c, , kw] = rw.shape(out) as [number, number, number, number];
  const [nb, o, ho] = rw.shape(m.dy) as [number, number, number, number];
  const stem = `${out}.taps`;
  const columnTaps = kw > m.strides[1];
  const { phase, dyWide, hq, wq } = phaseGrid(rw, m, c, columnTaps ? 1 : 0, stem);
  const dyFlat = rw.add('reshape', [dyWide], { shape: [nb, o, ho * wq] }, stem); // [N, O, HO·Wq]
  const len = ho * wq;
  stackTaps(rw, n, stem, (a, b) => {
    const { p, q, i, j } = tapOf(a, b, m.strides);
    const off = i * wq + j;
    const flat = phase(p, q);
    return [dyFlat, off === 0 && len === hq * wq ? flat : rw.add('slice', [flat], { axis: 2, start: off, end: off + len }, stem)];
  });
}

/**
 * The per-tap matmuls with dy shifted instead of x, for O < C (Johnson's decoder: 64 → 32, 128 → 64 channels):
 * each tap copies O·Hq·Wq floats of dy rather than C·HO·Wq of x. dy, widened to Wq columns and flattened, is
 * padded once in front by the largest tap offset; tap (a, b), at offset off = i·Wq + j in phase (p, q), is the
 * window of it that puts dy[y, x] at flat position off + y·Wq + x of that phase's grid, multiplied with all of it:
 *
 *   dW[:, :, a, b] = Σ_n window_off(dy)_n [O, Hq·Wq] · phase_pq(xp)_n [C, Hq·Wq]ᵀ
 *
 * A window runs past the grid only over dy's widened zero columns (Wq − WO ≥ ⌊(KW − 1)/sw⌋), so nothing is lost.
 */
function shiftedDy(rw: Rewriter, n: Node, m: Match): void {
  const out = n.outputs[0]!;
  const [o, c, kh, kw] = rw.shape(out) as [number, number, number, number];
  const [nb, , ho] = rw.shape(m.dy) as [number, number, number, number];
  const stem = `${out}.taps`;
  const { phase, dyWide, hq, wq } = phaseGrid(rw, m, c, 0, stem);
  const grid = hq * wq;
  const last = tapOf(kh - 1, kw - 1, m.strides);
  const front = last.i * wq + last.j;
  // [N, O, 1, front + Hq·Wq]: dy's flat rows after `front` zeros, zeros to the end of the grid.
  const dyRow = rw.add('reshape', [dyWide], { shape: [nb, o, 1, ho * wq] }, stem);
  const dyBig = rw.add('pad', [dyRow], { mode: 'constant', pads: [0, front, 0, grid - ho * wq], value: 0 }, stem);
  // Each phase is read whole by its taps: sliced once.
  const phases = new Map<number, string>();
  const phaseOnce = (p: number, q: number): string => {
    const k = p * m.strides[1] + q;
    if (!phases.has(k)) phases.set(k, phase(p, q));
    return phases.get(k)!;
  };
  stackTaps(rw, n, stem, (a, b) => {
    const { p, q, i, j } = tapOf(a, b, m.strides);
    const start = front - (i * wq + j);
    return [rw.add('reshape', [rw.add('slice', [dyBig], { axis: 3, start, end: start + grid }, stem)], { shape: [nb, o, grid] }, stem), phaseOnce(p, q)];
  });
}
