/**
 * A Slice of a Slice on other axes as one Slice: ONNX Runtime copies at each Slice, so a chain of single-axis
 * slices (the IR's slice is single-axis; resize-conv.ts' split phase taps cut channels, rows and columns) would
 * copy the tensor once per axis. Exact: slicing disjoint axes commutes and composes.
 */
import type { NodeProto } from '../proto.ts';
import { newNode, type ProtoGraph } from './graph.ts';

interface Cut {
  readonly starts: number[];
  readonly ends: number[];
  readonly axes: number[];
}

/** A Slice's constant starts, ends and non-negative axes with unit steps, or undefined. */
function cutOf(g: ProtoGraph, n: NodeProto): Cut | undefined {
  const [, s, e, ax, steps] = n.input ?? [];
  const starts = s ? g.ints(s) : undefined;
  const ends = e ? g.ints(e) : undefined;
  const axes = ax ? g.ints(ax) : undefined;
  if (!starts || !ends || !axes || axes.some((a) => a < 0) || new Set(axes).size !== axes.length) return undefined;
  // INT64_MAX ends do not survive a float64 round trip; such slices stay as they are.
  if ([...starts, ...ends].some((v) => !Number.isSafeInteger(v))) return undefined;
  if (steps && !(g.ints(steps) ?? [0]).every((v) => v === 1)) return undefined;
  return { starts, ends, axes };
}

export function mergeSliceChains(g: ProtoGraph): boolean {
  for (const outer of g.nodes) {
    if (outer.opType !== 'Slice') continue;
    const inner = g.producer(outer.input![0]!, 'Slice');
    if (!inner || !g.singleUse(inner.output![0]!)) continue;
    const [a, b] = [cutOf(g, inner), cutOf(g, outer)];
    if (!a || !b || a.axes.some((x) => b.axes.includes(x))) continue;
    const ins = [inner.input![0]!, g.addInts([...a.starts, ...b.starts]), g.addInts([...a.ends, ...b.ends]), g.addInts([...a.axes, ...b.axes])];
    g.replaceNode(outer, newNode(g, 'Slice', ins, outer.output!));
    return true;
  }
  return false;
}
