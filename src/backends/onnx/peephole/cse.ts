/**
 * Common subexpressions: a node with the op type, inputs, attributes and number of outputs of an earlier one computes
 * the same tensors (ONNX's standard ops are pure). Autodiff emits such twins: the vector-Jacobian product of x·x is
 * g·x + x·g, whose two products are one node here.
 */
import { attributesKey, type NodeProto } from '../proto.ts';
import type { ProtoGraph } from './graph.ts';

function key(n: NodeProto): string {
  // The output count too: a MaxPool that also writes Indices (the CPU's max-pool gradient recomputes the forward pool
  // with them) has the op type, inputs and attributes of the forward pool, but a second output the other lacks.
  return `${n.opType}\u0000${(n.input ?? []).join('\u0001')}\u0000${attributesKey(n)}\u0000${(n.output ?? []).length}`;
}

export function commonSubexpressions(g: ProtoGraph): boolean {
  const seen = new Map<string, NodeProto>();
  for (const n of g.nodes) {
    const k = key(n);
    const first = seen.get(k);
    if (!first) {
      seen.set(k, n);
      continue;
    }
    const pairs = (n.output ?? []).map((o, i) => [o, first.output![i]!] as const);
    if (!pairs.every(([from, to]) => g.canRedirect(from, to) && !g.outputs.has(to))) continue;
    for (const [from, to] of pairs) g.redirect(from, to);
    return true;
  }
  return false;
}
