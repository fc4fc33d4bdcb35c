/**
 * Resize-convolutions as low-resolution convolutions plus a depth-to-space shuffle.
 *
 * Johnson's decoder (and the "resize-convolution" of Odena et al., Distill 2016) upsamples by 2 with
 * nearest neighbour, pads by 1 and applies a 3×3 conv. Each output pixel (2i+a, 2j+b) then reads
 * only the low-resolution pixels x[i-1..i+1, j-1..j+1], so the whole layer equals one 3×3 conv on x
 * (padded by 1) with 4·C_out output channels — one per phase (a, b) — followed by interleaving the
 * phases (depth-to-space). Phase a reads high-resolution row 2i+a−1+r (r = 0, 1, 2 the kernel row),
 * which is low-resolution row i + ⌊(a−1+r)/2⌋, i.e. offset ROW_TAP[a][r] in the padded window:
 *
 *     w'[4o + 2a + b, c, R, S] = Σ_{r: ROW_TAP[a][r] = R} Σ_{s: ROW_TAP[b][s] = S} w[o, c, r, s].
 *
 * The border is exact too: a reflect or edge pad of the upsampled image by 1 repeats x's edge rows
 * (reflecting row −1 of the upsampled image gives row 1 = x row 0), so it becomes an edge pad of x
 * by 1; a constant pad stays a constant pad. Multiply-adds are the same (each of the 4 phases does a
 * 9-tap conv at 1/4 of the pixels, with taps that land on the same pixel merged into one weight),
 * but the 4× upsampled tensor and its padded copy are never materialised: at 1024² in Johnson-IN's
 * last decoder layer that is 2 × 256 MB.
 *
 * Applied when the upsample and the pad each feed only the next node (in a training graph the
 * backward pass reads the upsampled tensor, so it stays). The weight transform is written in IR
 * (a matmul with the 9×36 tap-merging matrix), folded once for bound weights by `constantFold`.
 *
 * Each phase kernel has only 2×2 non-zero taps (rows a, a+1 and columns b, b+1 of the 3×3 window), so with
 * `splitTaps` the layer is computed with 4/9 of those multiply-adds (the "sub-pixel" decomposition of Shi et al.,
 * CVPR 2016): one 2×2 conv over the same padded x with the four phases' kernels stacked phase-major gives
 * [N, 4·C_out, h+1, w+1], phase (a, b) of which is the phase conv's output shifted by (a, b); four slices
 * (channels, rows a…a+h−1, columns b…b+w−1, one ONNX Slice each after the peephole's merge) and a concat
 * rebuild exactly the [N, 4·C_out, h, w] phase tensor above, so every later rewrite sees the same tensor.
 */
import type { Graph, Node, NodeOf, PadMode } from '../../../compiler/ir/types.ts';
import { consumers } from '../../../compiler/ir/graph.ts';
import { convAttrs, Rewriter } from './rewrite.ts';

/** ROW_TAP[phase][kernel row] = row offset in the padded low-resolution window. */
export const ROW_TAP: readonly (readonly number[])[] = [
  [0, 1, 1],
  [1, 1, 2],
];

/**
 * The [9, 36] matrix mapping a 3×3 kernel's taps (r·3+s) to the four phase kernels' taps
 * ((2a+b)·9 + R·3 + S): entry 1 where R = ROW_TAP[a][r] and S = ROW_TAP[b][s].
 */
export function phaseMatrix(): Float32Array {
  const m = new Float32Array(9 * 36);
  for (let r = 0; r < 3; r++)
    for (let s = 0; s < 3; s++)
      for (let a = 0; a < 2; a++)
        for (let b = 0; b < 2; b++) m[(r * 3 + s) * 36 + (2 * a + b) * 9 + ROW_TAP[a]![r]! * 3 + ROW_TAP[b]![s]!] = 1;
  return m;
}

/**
 * The [9, 16] matrix mapping a 3×3 kernel's taps (r·3+s) to the four phases' 2×2 kernels' taps
 * ((2a+b)·4 + R·2 + S): entry 1 where R = ROW_TAP[a][r] − a and S = ROW_TAP[b][s] − b (each phase's window
 * starts a rows and b columns into the 3×3 one).
 */
export function phaseTapMatrix(): Float32Array {
  const m = new Float32Array(9 * 16);
  for (let r = 0; r < 3; r++)
    for (let s = 0; s < 3; s++)
      for (let a = 0; a < 2; a++)
        for (let b = 0; b < 2; b++) m[(r * 3 + s) * 16 + (2 * a + b) * 4 + (ROW_TAP[a]![r]! - a) * 2 + ROW_TAP[b]![s]! - b] = 1;
  return m;
}

export interface ResizeConvOptions {
  /** Each phase on its own 2×2 taps (4/9 of the multiply-adds) instead of one 3×3 conv with zero taps. */
  readonly splitTaps?: boolean;
}

interface Match {
  readonly up: NodeOf<'upsampleNearest'>;
  /** The pad node between upsample and conv, if any (else the conv pads with zeros itself). */
  readonly pad?: NodeOf<'pad'>;
  readonly conv: NodeOf<'conv2d'>;
  /** The pad of x that replaces the upsampled image's pad. */
  readonly mode: PadMode;
  readonly value: number;
}

const isOnes = (p: readonly number[]): boolean => p.every((v) => v === 1);
const isZeros = (p: readonly number[]): boolean => p.every((v) => v === 0);

function match(conv: NodeOf<'conv2d'>, byOutput: ReadonlyMap<string, Node>, uses: ReadonlyMap<string, readonly Node[]>, shape: (id: string) => number[]): Match | undefined {
  const a = conv.attrs;
  if (a.group !== 1 || a.strides.some((s) => s !== 1) || a.dilations.some((d) => d !== 1) || a.padding.kind !== 'explicit') return undefined;
  const [, , kh, kw] = shape(conv.inputs[1]!);
  if (kh !== 3 || kw !== 3) return undefined;
  const only = (id: string): boolean => (uses.get(id) ?? []).length === 1;
  let src = byOutput.get(conv.inputs[0]!);
  let pad: NodeOf<'pad'> | undefined;
  let mode: PadMode = 'constant';
  let value = 0;
  if (src?.op === 'pad') {
    if (!isZeros(a.padding.pads) || !isOnes(src.attrs.pads) || !only(src.outputs[0]!)) return undefined;
    pad = src;
    mode = src.attrs.mode === 'constant' ? 'constant' : 'edge';
    value = src.attrs.value;
    src = byOutput.get(src.inputs[0]!);
  } else if (!isOnes(a.padding.pads)) return undefined;
  if (src?.op !== 'upsampleNearest' || src.attrs.scale[0] !== 2 || src.attrs.scale[1] !== 2 || !only(src.outputs[0]!)) return undefined;
  return { up: src, ...(pad && { pad }), conv, mode, value };
}

export function resizeConvToDepthToSpace(g: Graph, opts: ResizeConvOptions = {}): Graph {
  const byOutput = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) byOutput.set(o, n);
  const uses = consumers(g);
  const rw = new Rewriter(g);
  const matches = new Map<Node, Match>();
  const outs = new Set(g.outputs.values());
  for (const n of g.nodes) {
    if (n.op !== 'conv2d') continue;
    const m = match(n, byOutput, uses, (id) => rw.shape(id));
    // The upsample and pad must not also be graph outputs.
    if (m && !outs.has(m.up.outputs[0]!) && !(m.pad && outs.has(m.pad.outputs[0]!))) matches.set(n, m);
  }
  if (matches.size === 0) return g;
  const skipped = new Set<Node>([...matches.values()].flatMap((m) => (m.pad ? [m.up, m.pad] : [m.up])));
  for (const n of g.nodes) {
    if (skipped.has(n)) continue;
    const m = matches.get(n);
    if (!m) {
      rw.keep(n);
      continue;
    }
    const x = m.up.inputs[0]!;
    const [nb, , h, wd] = rw.shape(x) as [number, number, number, number];
    const co = rw.shape(m.conv.inputs[1]!)[0]!;
    const out = m.conv.outputs[0]!;
    const stem = `${out}.phases`;
    const y = (opts.splitTaps ? splitTapPhases : mergedTapPhases)(rw, m, stem);
    // Depth-to-space: [N, Co·4, H, W] -> [N, Co, 2, 2, H, W] -> [N, Co, H, 2, W, 2] -> [N, Co, 2H, 2W], written so that
    // later rewrites (phase-tail.ts, the int8 channels-last shuffle) recognise it; the CPU peephole then runs it as one
    // DepthToSpace in CRD mode (peephole/depth-to-space.ts). (Phase-major kernels with a DCR DepthToSpace, c3d764f, held
    // more memory at 1024² than the CRD form: docs/benchmarks.md, "The phase interleave as DepthToSpace".)
    interleavePhases(rw, y, [nb, co, h, wd], stem, out, m.conv.layer);
  }
  return rw.build();
}

/** The conv's weights through a tap matrix [9, P·T] into [P·Co, Ci, k, k] (phase-major, or channel-major). */
function phaseKernels(rw: Rewriter, m: Match, stem: string, taps: { matrix: Float32Array; k: number; phaseMajor: boolean }): string[] {
  const [, w, bias] = m.conv.inputs as [string, string, string | undefined];
  const [co, ci] = rw.shape(w) as [number, number];
  const t = taps.k * taps.k;
  const merged = rw.add('matmul', [rw.add('reshape', [w], { shape: [co, ci, 9] }, stem), rw.constant(`${stem}.taps`, [9, 4 * t], taps.matrix)], {}, stem);
  const perPhase = rw.add('transpose', [rw.add('reshape', [merged], { shape: [co, ci, 4, t] }, stem)], { perm: taps.phaseMajor ? [2, 0, 1, 3] : [0, 2, 1, 3] }, stem);
  const out = [rw.add('reshape', [perPhase], { shape: [4 * co, ci, taps.k, taps.k] }, stem)];
  if (bias) {
    const [rows, cols] = taps.phaseMajor ? [[1, co], [4, co]] : [[co, 1], [co, 4]];
    out.push(rw.add('reshape', [rw.add('expand', [rw.add('reshape', [bias], { shape: rows }, stem)], { shape: cols }, stem)], { shape: [4 * co] }, stem));
  }
  return out;
}

/** The phase tensor [N, 4·Co, h, w] (channel 4o + 2a + b) as one 3×3 conv whose phase kernels hold zero taps. */
function mergedTapPhases(rw: Rewriter, m: Match, stem: string): string {
  const [wp, bp] = phaseKernels(rw, m, stem, { matrix: phaseMatrix(), k: 3, phaseMajor: false });
  const padded = rw.add('pad', [m.up.inputs[0]!], { mode: m.mode, pads: [1, 1, 1, 1], value: m.value }, stem);
  return rw.add('conv2d', bp ? [padded, wp!, bp] : [padded, wp!], convAttrs(), stem, undefined, m.conv.layer);
}

/** The same phase tensor from one 2×2 conv (phase-major outputs, one row and column larger) and four shifted slices. */
function splitTapPhases(rw: Rewriter, m: Match, stem: string): string {
  const [n, , h, w] = rw.shape(m.up.inputs[0]!) as [number, number, number, number];
  const [wp, bp] = phaseKernels(rw, m, stem, { matrix: phaseTapMatrix(), k: 2, phaseMajor: true });
  const co = rw.shape(wp!)[0]! / 4;
  const padded = rw.add('pad', [m.up.inputs[0]!], { mode: m.mode, pads: [1, 1, 1, 1], value: m.value }, stem);
  const shifted = rw.add('conv2d', bp ? [padded, wp!, bp] : [padded, wp!], convAttrs(), stem, undefined, m.conv.layer);
  const phases: string[] = [];
  for (let a = 0; a < 2; a++)
    for (let b = 0; b < 2; b++) {
      const p = 2 * a + b;
      const rows = rw.add('slice', [rw.add('slice', [shifted], { axis: 1, start: p * co, end: (p + 1) * co }, stem)], { axis: 2, start: a, end: a + h }, stem);
      const phase = rw.add('slice', [rows], { axis: 3, start: b, end: b + w }, stem);
      phases.push(rw.add('reshape', [phase], { shape: [n, co, 1, h, w] }, stem));
    }
  return rw.add('reshape', [rw.add('concat', phases, { axis: 2 }, stem)], { shape: [n, 4 * co, h, w] }, stem);
}

/**
 * The phase interleave's permutation, [N, C, a, b, H, W] → [N, C, H, a, W, b]: the shape of stc's shuffle that
 * later rewrites (phase-tail.ts, and the int8 model's channels-last-phases.ts) recognise.
 */
export const PHASE_INTERLEAVE: readonly number[] = [0, 1, 4, 2, 5, 3];

/** y [N, 4·C, H, W] (channel 4c + 2a + b) interleaved into [N, C, 2H, 2W]: Reshape, Transpose, Reshape. */
export function interleavePhases(rw: Rewriter, y: string, [n, c, h, w]: readonly number[], stem: string, into?: string, layer?: string): string {
  const split = rw.add('reshape', [y], { shape: [n!, c!, 2, 2, h!, w!] }, stem);
  const inter = rw.add('transpose', [split], { perm: PHASE_INTERLEAVE }, stem);
  return rw.add('reshape', [inter], { shape: [n!, c!, 2 * h!, 2 * w!] }, stem, into, layer);
}
