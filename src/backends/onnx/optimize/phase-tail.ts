/**
 * The last upsampling kept in phase space: Johnson's tail (resize-conv → instance norm → ReLU → pad → 9×9 output
 * conv) without ever interleaving the upsampling conv's phases into the full-resolution image.
 *
 * After `resizeConvToDepthToSpace` the last upsampling is a low-resolution conv y [N, 4·C, h, w] with phase outputs
 * in channel-major order (channel 4c + 2a + b holds full-resolution pixel (2i + a, 2j + b) of channel c) and a 6-D
 * Transpose that interleaves them; `convOutputPhases` then runs the 9×9 conv over the interleaved image as a stride-s
 * conv (kernel K' = K + s − 1) and a small depth-to-space. The interleave is undone right after it is done, and it was
 * the largest Transpose of the network (32 channels × 1024² at 1024²). Here:
 *
 * - instance norm per original channel c over its 4 phases: Reshape [N, C, 4h, w] → InstanceNormalization →
 *   Reshape back (free reshapes, the same statistics over the same numbers);
 * - ReLU on the phase tensor;
 * - the stride-s conv over the (padded) interleaved image Z reads, for output phase row i, padded rows
 *   s·i … s·i + K' − 1, i.e. image rows s·i − P … (pad P). Where these are all inside the image (every output
 *   phase row but the P/s at each border, when s divides P), full-resolution row 2ρ + a is row ρ of phase a, so the
 *   same conv is a stride-s/2 conv with no padding over the phase tensor with a re-indexed kernel of (K'/2)²
 *   taps on 4·C channels (the same multiply-adds):
 *
 *       w''[o, 4c + 2a + b, R, S] = w'[o, c, 2R + a, 2S + b]
 *
 * - the border output rows and columns (P/s of each) are computed by the original pad and stride-s conv on
 *   thin strips of the image (the phase tensor's first and last P rows and columns, interleaved: 2P
 *   full-resolution rows, which hold every row a reflect, edge or constant pad of P reads) and concatenated
 *   around the interior. A reflect pad of the interleaved image is no pad of the phase tensor (phase 0 reflects,
 *   phase 1 repeats its edge row), which is why the borders go through the image.
 *
 * The result is the same conv output up to float32 rounding (a different summation order). The large tensor is
 * never shuffled and never padded: at 1024² that is the 128 MB interleave and the 136 MB padded copy. Applied where
 * every intermediate feeds only the next node (inference graphs; a training graph's backward reads them).
 */
import type { Graph, Node, NodeOf, PadMode } from '../../../compiler/ir/types.ts';
import { consumers } from '../../../compiler/ir/graph.ts';
import { convAttrs, Rewriter } from './rewrite.ts';
import { outputPhaseStride, phaseKernel } from './output-phases.ts';
import { PHASE_INTERLEAVE, interleavePhases } from './resize-conv.ts';


interface Match {
  /** The phase conv's output [N, 4·C, h, w], channel 4c + 2a + b. */
  readonly phases: string;
  /** The shuffle, norm, ReLU and pad nodes that the rewrite replaces (the conv too). */
  readonly replaced: readonly Node[];
  readonly norm: NodeOf<'instanceNorm'>;
  readonly pad: NodeOf<'pad'>;
  readonly conv: NodeOf<'conv2d'>;
  /** Output phase stride of the conv (convOutputPhases'). */
  readonly s: number;
  /** Pad on every side. */
  readonly p: number;
}

type Lookup = (id: string, op: Node['op']) => Node | undefined;

function match(conv: NodeOf<'conv2d'>, from: Lookup, shape: (id: string) => number[]): Match | undefined {
  const s = outputPhaseStride(conv, shape);
  const [, , k, kw] = shape(conv.inputs[1]!) as [number, number, number, number];
  if (s === undefined || conv.attrs.padding.kind !== 'explicit' || conv.attrs.padding.pads.some((v) => v !== 0) || k !== kw) return undefined;
  const pad = from(conv.inputs[0]!, 'pad') as NodeOf<'pad'> | undefined;
  const p = pad?.attrs.pads[0] ?? 0;
  // A "same" conv whose pad is a whole number of output phases, so the interior starts at phase-tensor row 0.
  if (!pad || pad.attrs.pads.some((v) => v !== p) || 2 * p !== k - 1 || p % s !== 0) return undefined;
  const relu = from(pad.inputs[0]!, 'relu');
  const norm = relu && (from(relu.inputs[0]!, 'instanceNorm') as NodeOf<'instanceNorm'> | undefined);
  const merge = norm && from(norm.inputs[0]!, 'reshape');
  const perm = merge && from(merge.inputs[0]!, 'transpose');
  const split = perm && from(perm.inputs[0]!, 'reshape');
  if (!relu || !norm || !merge || !perm || !split || perm.op !== 'transpose' || perm.attrs.perm.join() !== PHASE_INTERLEAVE.join()) return undefined;
  const phases = split.inputs[0]!;
  const [n, c4, h, w] = shape(phases) as [number, number, number, number];
  const [n6, c, two, two2, h6, w6] = shape(split.outputs[0]!);
  if (shape(phases).length !== 4 || n6 !== n || c! * 4 !== c4 || two !== 2 || two2 !== 2 || h6 !== h || w6 !== w) return undefined;
  // The interior conv needs at least one output row and column: 2h ≥ K' (= 2p + s).
  if (2 * Math.min(h, w) < 2 * p + s) return undefined;
  return { phases, replaced: [split, perm, merge, norm, relu, pad, conv], norm, pad, conv, s, p };
}

/** Finds each matching tail; every replaced intermediate must feed only the next node and be no graph output. */
function findTails(g: Graph, shape: (id: string) => number[]): Match[] {
  const byOutput = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) byOutput.set(o, n);
  const uses = consumers(g);
  const outs = new Set(g.outputs.values());
  const from: Lookup = (id, op) => {
    const n = byOutput.get(id);
    return n?.op === op && (uses.get(id) ?? []).length === 1 && !outs.has(id) ? n : undefined;
  };
  const found: Match[] = [];
  for (const n of g.nodes) {
    const m = n.op === 'conv2d' ? match(n, from, shape) : undefined;
    if (m) found.push(m);
  }
  return found;
}

/** w' [O', C, K', K'] → w'' [O', 4·C, K'/2, K'/2] with w''[o, 4c + 2a + b, R, S] = w'[o, c, 2R + a, 2S + b]. */
function phaseSpaceKernel(rw: Rewriter, w: string, stem: string): string {
  const [o, c, k] = rw.shape(w) as [number, number, number];
  const split = rw.add('reshape', [w], { shape: [o, c, k / 2, 2, k / 2, 2] }, stem);
  return rw.add('reshape', [rw.add('transpose', [split], { perm: [0, 1, 3, 5, 2, 4] }, stem)], { shape: [o, 4 * c, k / 2, k / 2] }, stem);
}

interface Strip {
  readonly axis: 2 | 3;
  readonly start: number;
  readonly end: number;
  /** The pad of the interleaved strip (top, left, bottom, right). */
  readonly pads: readonly [number, number, number, number];
}

/** The four border strips of the output phases: top and bottom span every column, left and right the interior rows. */
function strips(p: number, h: number, w: number): Record<'top' | 'bottom' | 'left' | 'right', Strip> {
  return {
    top: { axis: 2, start: 0, end: p, pads: [p, p, 0, p] },
    bottom: { axis: 2, start: h - p, end: h, pads: [0, p, p, p] },
    left: { axis: 3, start: 0, end: p, pads: [0, p, 0, 0] },
    right: { axis: 3, start: w - p, end: w, pads: [0, 0, 0, p] },
  };
}

function rewriteTail(rw: Rewriter, m: Match): void {
  const out = m.conv.outputs[0]!;
  const stem = `${out}.phaseTail`;
  const layer = m.conv.layer;
  const [n, c4, h, w] = rw.shape(m.phases) as [number, number, number, number];
  const c = c4 / 4;
  const [, scale, shift] = m.norm.inputs as [string, string, string];
  const grouped = rw.add('reshape', [m.phases], { shape: [n, c, 4 * h, w] }, stem);
  const normed = rw.add('instanceNorm', [grouped, scale, shift], m.norm.attrs, stem, undefined, m.norm.layer);
  const act = rw.add('relu', [rw.add('reshape', [normed], { shape: [n, c4, h, w] }, stem)], {}, stem);
  const [wt, bias] = [m.conv.inputs[1]!, m.conv.inputs[2]];
  const [kernel, phaseBias] = phaseKernel(rw, wt, bias, m.s, stem) as [string, string | undefined];
  const withBias = (ins: string[]): string[] => (phaseBias ? [...ins, phaseBias] : ins);
  const interior = rw.add('conv2d', withBias([act, phaseSpaceKernel(rw, kernel, stem)]), convAttrs(m.s / 2), stem, undefined, layer);
  const mode: PadMode = m.pad.attrs.mode;
  const border = (st: Strip): string => {
    const slice = rw.add('slice', [act], { axis: st.axis, start: st.start, end: st.end }, stem);
    const [, , sh, sw] = rw.shape(slice) as [number, number, number, number];
    const image = interleavePhases(rw, slice, [n, c, sh, sw], stem);
    const padded = rw.add('pad', [image], { mode, pads: st.pads, value: m.pad.attrs.value }, stem);
    return rw.add('conv2d', withBias([padded, kernel]), convAttrs(m.s), stem, undefined, layer);
  };
  const b = strips(m.p, h, w);
  const middle = rw.add('concat', [border(b.left), interior, border(b.right)], { axis: 3 }, stem);
  const all = rw.add('concat', [border(b.top), middle, border(b.bottom)], { axis: 2 }, stem);
  rw.add('depthToSpace', [all], { block: m.s }, stem, out, layer);
}

export function upsampleTailInPhases(g: Graph): Graph {
  const rw = new Rewriter(g);
  const found = findTails(g, (id) => rw.shape(id));
  if (found.length === 0) return g;
  const at = new Map<Node, Match>(found.map((m) => [m.conv, m]));
  const skipped = new Set<Node>(found.flatMap((m) => m.replaced));
  for (const n of g.nodes) {
    const m = at.get(n);
    if (m) rewriteTail(rw, m);
    else if (!skipped.has(n)) rw.keep(n);
  }
  return rw.build();
}
