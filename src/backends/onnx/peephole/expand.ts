/**
 * An Expand read only by elementwise ops whose other operand already has the expanded shape is a copy the
 * broadcast makes anyway: autodiff expands a loss's scalar gradient to the shape of what was summed, then
 * multiplies. The readers take the unexpanded tensor (the Expand goes when nothing else reads it).
 */
import type { ProtoGraph } from './graph.ts';

const BROADCASTING = new Set(['Add', 'Sub', 'Mul', 'Div']);

const sameShape = (a: readonly number[] | undefined, b: readonly number[]): boolean => a !== undefined && a.length === b.length && a.every((d, i) => d === b[i]);

/** Whether `small` broadcasts to `big` without changing it (numpy rules). */
function broadcastsInto(small: readonly number[], big: readonly number[]): boolean {
  if (small.length > big.length) return false;
  const off = big.length - small.length;
  return small.every((d, i) => d === 1 || d === big[off + i]);
}

export function dropBroadcastExpands(g: ProtoGraph): boolean {
  for (const n of g.nodes) {
    if (n.opType !== 'Expand') continue;
    const [src, shapeName] = n.input as [string, string];
    const target = g.ints(shapeName ?? '');
    const srcShape = g.shape(src);
    const out = n.output![0]!;
    if (!target || !srcShape || !broadcastsInto(srcShape, target) || g.outputs.has(out)) continue;
    let changed = false;
    for (const c of g.consumers(out)) {
      const ins = c.input!;
      if (!BROADCASTING.has(c.opType ?? '') || ins.length !== 2 || ins[0] === ins[1]) continue;
      const other = ins[0] === out ? ins[1]! : ins[0]!;
      if (!sameShape(g.shape(other), target)) continue;
      c.input = ins.map((i) => (i === out ? src : i));
      changed = true;
    }
    if (changed) {
      g.reindex();
      return true;
    }
  }
  return false;
}
