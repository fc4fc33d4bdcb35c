/** Read-only queries over an IR graph. */
import type { Graph, Node, Value } from './types.ts';

/** Map from value id to the node producing it. */
export function producers(g: Graph): Map<string, Node> {
  const m = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) m.set(o, n);
  return m;
}

/** Map from value id to the nodes consuming it. */
export function consumers(g: Graph): Map<string, Node[]> {
  const m = new Map<string, Node[]>();
  for (const n of g.nodes)
    for (const i of n.inputs) {
      const list = m.get(i);
      if (list) list.push(n);
      else m.set(i, [n]);
    }
  return m;
}

/** Parameter values, in order of first use. */
export function paramsOf(g: Graph): Value[] {
  const seen = new Set<string>();
  const out: Value[] = [];
  for (const n of g.nodes)
    for (const i of n.inputs) {
      const v = g.values.get(i);
      if (v?.kind === 'param' && !seen.has(i)) {
        seen.add(i);
        out.push(v);
      }
    }
  return out;
}

/** Check structural invariants: topological order, defined inputs, single producers. Throws on violation. */
export function validateGraph(g: Graph): void {
  const defined = new Set<string>();
  for (const [id, v] of g.values) if (v.kind !== 'node') defined.add(id);
  for (const n of g.nodes) {
    for (const i of n.inputs) if (!defined.has(i)) throw new Error(`IR invariant: node ${n.id} reads ${i} before it is defined`);
    for (const o of n.outputs) {
      if (defined.has(o)) throw new Error(`IR invariant: value ${o} is defined twice`);
      defined.add(o);
    }
  }
  for (const [name, id] of g.outputs) if (!defined.has(id)) throw new Error(`IR invariant: output ${name} refers to undefined ${id}`);
}
