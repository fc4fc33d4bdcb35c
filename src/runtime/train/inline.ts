/**
 * Graph inlining: copy one IR graph's nodes into a builder, wiring its inputs
 * to existing values. Node outputs are renamed under a prefix; parameters and
 * constants keep their ids and are added once, so two inlinings of the same
 * loss network share its (frozen) weights.
 */
import type { GraphBuilder } from '../../compiler/ir/builder.ts';
import type { Graph, Node } from '../../compiler/ir/types.ts';

export interface Inlined {
  /** Sub-graph value id -> id in the builder. */
  readonly map: ReadonlyMap<string, string>;
  /** Id in the builder of a sub-graph tap or output by name. */
  tap(name: string): string;
}

/**
 * `prefix` renames node outputs and constants; `paramPrefix` renames parameters (default: none), so a
 * loss network's `conv1.weight` cannot collide with a transformation network's.
 */
export function inlineGraph(b: GraphBuilder, sub: Graph, inputs: ReadonlyMap<string, string>, prefix: string, paramPrefix = ''): Inlined {
  const map = new Map<string, string>();
  for (const id of sub.inputs) {
    const to = inputs.get(id);
    if (to === undefined) throw new Error(`inlineGraph: input ${id} of the inlined graph is not wired`);
    map.set(id, to);
  }
  for (const [id, v] of sub.values) {
    if (v.kind === 'param') {
      const to = `${paramPrefix}${id}`;
      if (!b.has(to)) b.param(to, v.shape as number[], v.init ?? { kind: 'zeros' }, v.trainable ?? true);
      else if (b.value(to).kind !== 'param') throw new Error(`inlineGraph: parameter ${to} collides with a non-parameter value`);
      map.set(id, to);
    } else if (v.kind === 'const') {
      if (!v.data) throw new Error(`IR invariant: constant ${id} has no data`);
      map.set(id, b.constant(`${prefix}${id}`, v.shape as number[], v.data, v.dtype));
    }
  }
  for (const n of sub.nodes) {
    const ins = n.inputs.map((i) => {
      const m = map.get(i);
      if (m === undefined) throw new Error(`inlineGraph: node ${n.id} reads ${i} before it is defined`);
      return m;
    });
    const outs = b.addMulti(n.op, ins, n.attrs as never, opts(n), `${prefix}${n.outputs[0]}`);
    n.outputs.forEach((o, i) => map.set(o, outs[i]!));
  }
  return {
    map,
    tap(name) {
      const id = sub.taps.get(name) ?? sub.outputs.get(name);
      if (id === undefined) throw new Error(`inlineGraph: no tap or output ${name}`);
      return map.get(id)!;
    },
  };
}

function opts(n: Node): { layer?: string; span?: Node['span'] } {
  return { ...(n.layer !== undefined && { layer: n.layer }), ...(n.span && { span: n.span }) };
}
