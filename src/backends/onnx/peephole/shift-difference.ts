/**
 * Differences of neighbouring pixels, x[i+1] − x[i] along H or W (total variation, Mahendran & Vedaldi 2015;
 * the objective's tvLoss), and their gradients:
 *
 * - differenceAsConv: Sub(Slice(x, 1:n), Slice(x, 0:n−1)) is one depthwise Conv of x with the kernel (−1, 1)
 *   along the axis (3 nodes → 1; exact: each output is −x[i] + x[i+1], one rounding as the Sub's).
 * - differenceGradientAsConvTranspose: the gradient autodiff gives for it, Pad(g, 1 before) + Pad(−g, 1 after)
 *   (the Slices' gradients), is the transposed conv of g with that kernel. The two Pads are leaves of a sum of
 *   Adds (with the other terms of the image gradient): they become one ConvTranspose leaf and the sum is
 *   rebuilt as a chain over the remaining leaves (Neg, 2 Pads and an Add → 1 node). The sum's order changes
 *   (float rounding only).
 */
import type { NodeProto } from '../proto.ts';
import { floatTensor } from '../proto.ts';
import { addTree, rebuildAddTree } from './add-tree.ts';
import { newNode, type ProtoGraph } from './graph.ts';

const INT = 2;

/** [x, start, end, axis] of a unit-step Slice of a 4-D tensor of known shape along H or W (axis 2 or 3). */
function slice4(g: ProtoGraph, name: string): { x: string; start: number; end: number; axis: 2 | 3; n: number; shape: readonly number[] } | undefined {
  const s = g.producer(name, 'Slice');
  if (!s || (s.input!.length > 4 && !(g.ints(s.input![4]!) ?? [0]).every((v) => v === 1))) return undefined;
  const [x, st, en, ax] = s.input as [string, string, string, string | undefined];
  const shape = g.shape(x);
  const one = (name: string | undefined): number | undefined => {
    const v = name ? g.ints(name) : undefined;
    return v?.length === 1 ? v[0] : undefined;
  };
  const [start, end, axisRaw] = [one(st), one(en), one(ax)];
  if (!shape || shape.length !== 4 || start === undefined || end === undefined || axisRaw === undefined) return undefined;
  const axis = axisRaw < 0 ? axisRaw + 4 : axisRaw;
  if (axis !== 2 && axis !== 3) return undefined;
  const n = shape[axis]!;
  const clamp = (v: number): number => Math.min(v < 0 ? v + n : v, n);
  return { x, start: clamp(start), end: clamp(end), axis, n, shape };
}

/** The depthwise kernel (−1, 1) along `axis` for `c` channels, scaled by `k`. */
function differenceKernel(g: ProtoGraph, c: number, axis: 2 | 3, k: number): string {
  const name = g.fresh('difference_kernel');
  const data = new Float32Array(2 * c);
  for (let ch = 0; ch < c; ch++) data.set([-k, k], 2 * ch);
  g.addInitializer(floatTensor(name, axis === 2 ? [c, 1, 2, 1] : [c, 1, 1, 2], data));
  return name;
}

const convAttrs = (c: number, axis: 2 | 3) => [
  { name: 'group', type: INT, i: c },
  { name: 'kernel_shape', type: 7, ints: axis === 2 ? [2, 1] : [1, 2] },
];

export function differenceAsConv(g: ProtoGraph): boolean {
  for (const n of g.nodes) {
    if (n.opType !== 'Sub') continue;
    const [a, b] = n.input as [string, string];
    const hi = slice4(g, a);
    const lo = slice4(g, b);
    if (!hi || !lo || hi.x !== lo.x || hi.axis !== lo.axis || !g.singleUse(a) || !g.singleUse(b)) continue;
    if (hi.start !== 1 || hi.end !== hi.n || lo.start !== 0 || lo.end !== lo.n - 1) continue;
    const c = hi.shape[1]!;
    g.replaceNode(n, newNode(g, 'Conv', [hi.x, differenceKernel(g, c, hi.axis, 1)], n.output!, convAttrs(c, hi.axis)));
    return true;
  }
  return false;
}

/** [g, axis, side] of Pad(g, 1 before or after along H or W) with zeros; side 'before' pads the start. */
function unitPad(g: ProtoGraph, name: string): { src: string; axis: 2 | 3; side: 'before' | 'after' } | undefined {
  const p = g.producer(name, 'Pad');
  if (!p) return undefined;
  const mode = p.attribute?.find((at) => at.name === 'mode')?.s;
  if (mode && new TextDecoder().decode(mode) !== 'constant') return undefined;
  if (p.input!.length > 2 && p.input![2] && g.scalar(p.input![2]) !== 0) return undefined;
  if (p.input!.length > 3 && p.input![3]) return undefined;
  const pads = g.ints(p.input![1]!);
  if (!pads || pads.length !== 8) return undefined;
  const nonZero = pads.flatMap((v, i) => (v === 0 ? [] : [[i, v] as const]));
  if (nonZero.length !== 1 || nonZero[0]![1] !== 1) return undefined;
  const i = nonZero[0]![0];
  const axis = i % 4;
  if (axis !== 2 && axis !== 3) return undefined;
  return { src: p.input![0]!, axis, side: i < 4 ? 'before' : 'after' };
}

/** Among a sum's leaves, a pair Pad(g, 1 before) and Pad(Neg(g), 1 after) along one axis. */
function findPair(g: ProtoGraph, leaves: readonly string[]): { before: string; after: string; src: string; neg: NodeProto; axis: 2 | 3 } | undefined {
  for (const before of leaves) {
    const pb = unitPad(g, before);
    if (pb?.side !== 'before' || !g.singleUse(before)) continue;
    for (const after of leaves) {
      const pa = unitPad(g, after);
      const neg = pa ? g.producer(pa.src, 'Neg') : undefined;
      if (pa?.side === 'after' && pa.axis === pb.axis && neg?.input![0] === pb.src && g.singleUse(after)) return { before, after, src: pb.src, neg, axis: pb.axis };
    }
  }
  return undefined;
}

export function differenceGradientAsConvTranspose(g: ProtoGraph): boolean {
  for (const root of g.nodes) {
    const tree = addTree(g, root);
    if (!tree) continue;
    const pair = findPair(g, tree.leaves);
    const shape = pair && g.shape(pair.src);
    if (!pair || !shape || shape.length !== 4) continue;
    const c = shape[1]!;
    const out = g.fresh('difference_grad');
    const convT = newNode(g, 'ConvTranspose', [pair.src, differenceKernel(g, c, pair.axis, 1)], [out], convAttrs(c, pair.axis));
    const leaves = [...tree.leaves.filter((l) => l !== pair.before && l !== pair.after), out];
    rebuildAddTree(g, tree, leaves, [convT]);
    return true;
  }
  return false;
}
