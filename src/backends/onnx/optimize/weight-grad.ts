/**
 * Conv weight gradients as per-tap matrix products.
 *
 * Autodiff writes dW of a conv (x [N, C, H, W], dy [N, O, HO, WO]) as one convolution over
 * transposed tensors — transpose(conv(transposeᵀ x, transposeᵀ dy)) with dy as a HO×WO kernel —
 * which ONNX Runtime runs as C small GEMMs of width KH·KW: a few GFLOP/s. For stride-1,
 * dilation-1, single-group convs this pass rewrites it as
 *
 *   dW[:, :, a, b] = Σ_n dy_n [O, HO·WO] · (xpad_n[:, a : a + HO, b : b + WO])ᵀ [HO·WO, C]
 *
 * one large matmul per kernel tap (KH·KW ≤ 9 taps, so the slices stay few), with xpad the
 * zero-padded input. Each tap's window is read as one contiguous slice of xpad flattened to
 * [N, C, Hp·Wp] — offset a·Wp + b, length HO·Wp — against dy widened to Wp columns with zeros, so
 * the columns a window wraps into meet zeros in dy: a flat slice copies whole rows at once, where a
 * row slice and then a column slice (the 2-D window) copied WO floats at a time (measured in
 * docs/benchmarks.md, item 3). The pattern matched is exactly what autodiff's weightGrad emits:
 * conv2d(transpose₁₀₂₃(x), transpose₁₀₂₃(dy)) with unit strides and dilations, optional
 * slices trimming KH', KW' to KH, KW, then transpose₁₀₂₃. With fewer output than input channels the
 * windows are taken of dy instead, the smaller side (shiftedDy).
 *
 * Kernels over MAX_TAPS taps (Johnson's 9×9 first and last convs) keep one conv, but when O < C
 * (the last conv: 32 → 3 channels) the roles swap: autodiff's conv is a GEMM with O rows over an
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
import { Rewriter, useCounts } from './rewrite.ts';

const SWAP01 = [1, 0, 2, 3];
const isSwap01 = (n: Node | undefined): n is Node & { op: 'transpose' } =>
  n?.op === 'transpose' && n.attrs.perm.length === 4 && n.attrs.perm.every((p, i) => p === SWAP01[i]);

/** Most taps rewritten; larger kernels keep autodiff's single conv. */
export const MAX_TAPS = 9;

interface Match {
  readonly x: string;
  readonly dy: string;
  readonly pads: readonly [number, number, number, number];
}

function match(final: Node, prod: ReadonlyMap<string, Node>, uses: ReadonlyMap<string, number>): Match | undefined {
  if (!isSwap01(final)) return undefined;
  let cur = prod.get(final.inputs[0]!);
  while (cur?.op === 'slice' && (cur.attrs.axis === 2 || cur.attrs.axis === 3) && cur.attrs.start === 0 && uses.get(cur.outputs[0]!) === 1) {
    cur = prod.get(cur.inputs[0]!);
  }
  if (cur?.op !== 'conv2d' || uses.get(cur.outputs[0]!) !== 1) return undefined;
  const a = cur.attrs;
  if (a.group !== 1 || a.padding.kind !== 'explicit' || a.strides.some((s) => s !== 1) || a.dilations.some((d) => d !== 1) || cur.inputs.length !== 2) return undefined;
  const tx = prod.get(cur.inputs[0]!);
  const tdy = prod.get(cur.inputs[1]!);
  if (!isSwap01(tx) || !isSwap01(tdy)) return undefined;
  return { x: tx.inputs[0]!, dy: tdy.inputs[0]!, pads: a.padding.pads };
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
    if (kh! * kw! > MAX_TAPS && !(o < c && swappedPads(shapeOf(g, m.x), shapeOf(g, m.dy), m.pads, kh!, kw!))) continue;
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
  const flipped = rw.add('conv2d', [dyT, xT], { strides: [1, 1], dilations: [1, 1], padding: { kind: 'explicit', pads }, group: 1 }, stem); // [O, C, KH, KW]
  const flat = rw.add('reshape', [flipped], { shape: [o * c, kh * kw] }, stem);
  const rev = rw.add('matmul', [flat, rw.constant(`${stem}.reverse`, [kh * kw, kh * kw], reversalMatrix(kh * kw))], {}, stem);
  rw.add('reshape', [rev], { shape: [o, c, kh, kw] }, stem, out, n.layer);
}

/** Padded x flattened to [N, C, Hp·Wp] (with `extraRows` more zero rows below), and dy widened to the grid's Wp columns. */
interface FlatGrid {
  readonly xFlat: string;
  readonly dyWide: string;
  readonly hp: number;
  readonly wp: number;
}

function flatGrid(rw: Rewriter, m: Match, c: number, extraRows: number, stem: string): FlatGrid {
  const [t, l, b, r] = m.pads;
  const [nb, , , wo] = rw.shape(m.dy) as [number, number, number, number];
  const xp = m.pads.some((p) => p > 0) || extraRows ? rw.add('pad', [m.x], { mode: 'constant', pads: [t, l, b + extraRows, r], value: 0 }, stem) : m.x;
  const [, , hp, wp] = rw.shape(xp) as [number, number, number, number];
  const xFlat = rw.add('reshape', [xp], { shape: [nb, c, hp * wp] }, stem);
  // dy on the padded grid's width (zeros in the wp − wo extra columns).
  const dyWide = wp > wo ? rw.add('pad', [m.dy], { mode: 'constant', pads: [0, 0, 0, wp - wo], value: 0 }, stem) : m.dy;
  return { xFlat, dyWide, hp, wp };
}

/**
 * dW from one product per tap: `operands(i, j)` gives [N, O, L] and [N, C, L] for tap (i, j); each pair is
 * multiplied (the second transposed), summed over N and stacked into [O, C, KH, KW], written to n's output.
 */
function stackTaps(rw: Rewriter, n: Node, stem: string, operands: (i: number, j: number) => readonly [string, string]): void {
  const out = n.outputs[0]!;
  const [o, c, kh, kw] = rw.shape(out) as [number, number, number, number];
  const taps: string[] = [];
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++) {
      const [dyPart, xPart] = operands(i, j);
      let p = rw.add('matmul', [dyPart, rw.add('transpose', [xPart], { perm: [0, 2, 1] }, stem)], {}, stem); // [N, O, C]
      p = rw.shape(p)[0]! > 1 ? rw.add('reduceSum', [p], { axes: [0], keepDims: false }, stem) : p;
      taps.push(rw.add('reshape', [p], { shape: [o, c, 1] }, stem));
    }
  const stacked = taps.length === 1 ? taps[0]! : rw.add('concat', taps, { axis: 2 }, stem);
  rw.add('reshape', [stacked], { shape: [o, c, kh, kw] }, stem, out, n.layer);
}

/** The per-tap matmuls with x's windows: one contiguous slice of the flat padded x per tap (see the header). */
function shiftedX(rw: Rewriter, n: Node, m: Match): void {
  const out = n.outputs[0]!;
  const [o, c, , kw] = rw.shape(out) as [number, number, number, number];
  const [nb, , ho] = rw.shape(m.dy) as [number, number, number, number];
  const stem = `${out}.taps`;
  // One extra zero row below when there are column taps: the last taps' flat windows run kw − 1 past the grid.
  const { xFlat, dyWide, hp, wp } = flatGrid(rw, m, c, kw > 1 ? 1 : 0, stem);
  const dyFlat = rw.add('reshape', [dyWide], { shape: [nb, o, ho * wp] }, stem); // [N, O, HO·Wp]
  const len = ho * wp;
  // Tap (i, j) reads xp[:, :, y + i, x + j] = xFlat[:, :, (i·Wp + j) + y·Wp + x]: one contiguous window.
  stackTaps(rw, n, stem, (i, j) => {
    const off = i * wp + j;
    return [dyFlat, off === 0 && len === hp * wp ? xFlat : rw.add('slice', [xFlat], { axis: 2, start: off, end: off + len }, stem)];
  });
}

/**
 * The per-tap matmuls with dy shifted instead of x, for O < C (Johnson's decoder: 64 → 32, 128 → 64 channels):
 * each tap copies O·Hp·Wp floats of dy rather than C·HO·Wp of x. dy, widened to Wp columns and flattened, is
 * padded once in front by the largest tap offset; tap (a, b) at offset off = a·Wp + b is the window of it that
 * puts dy[y, x] at flat position off + y·Wp + x of the padded input's grid, multiplied with all of xp:
 *
 *   dW[:, :, a, b] = Σ_n window_off(dy)_n [O, Hp·Wp] · xp_n [C, Hp·Wp]ᵀ
 *
 * A window runs past the grid only over dy's widened zero columns (Wp − WO ≥ KW − 1), so nothing is lost.
 */
function shiftedDy(rw: Rewriter, n: Node, m: Match): void {
  const out = n.outputs[0]!;
  const [o, c, kh, kw] = rw.shape(out) as [number, number, number, number];
  const [nb, , ho] = rw.shape(m.dy) as [number, number, number, number];
  const stem = `${out}.taps`;
  const { xFlat, dyWide, hp, wp } = flatGrid(rw, m, c, 0, stem);
  const grid = hp * wp;
  const front = (kh - 1) * wp + (kw - 1);
  // [N, O, 1, front + Hp·Wp]: dy's flat rows after `front` zeros, zeros to the end of the grid.
  const dyRow = rw.add('reshape', [dyWide], { shape: [nb, o, 1, ho * wp] }, stem);
  const dyBig = rw.add('pad', [dyRow], { mode: 'constant', pads: [0, front, 0, grid - ho * wp], value: 0 }, stem);
  stackTaps(rw, n, stem, (i, j) => {
    const start = front - (i * wp + j);
    return [rw.add('reshape', [rw.add('slice', [dyBig], { axis: 3, start, end: start + grid }, stem)], { shape: [nb, o, grid] }, stem), xFlat];
  });
}
