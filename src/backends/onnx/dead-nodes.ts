/**
 * Dead-node elimination on an ONNX node list: the nodes that some graph output depends on, found by a walk
 * from the outputs back over each tensor's producer, so it is right for any node order (one backward pass over
 * the list is right only in topological order) and takes one pass, not one per layer of dead nodes. The kept
 * nodes stay in their original order. Used by the GPU's peephole rewrites (ProtoGraph.removeDead) and by int8
 * quantisation (quantize.ts).
 */
import type { GraphProto, NodeProto } from './proto.ts';

/** The tensors a node reads: its inputs and, for control flow (If, Loop, Scan), whatever its subgraphs read. */
function reads(n: NodeProto): string[] {
  const subgraphs: GraphProto[] = (n.attribute ?? []).flatMap((a) => [...(a.g ? [a.g] : []), ...(a.graphs ?? [])]);
  const inner = subgraphs.flatMap((g) => [...(g.node ?? []).flatMap(reads), ...(g.output ?? []).map((o) => o.name ?? '')]);
  return [...(n.input ?? []), ...inner].filter((name) => name !== '');
}

/** `nodes` without those no graph output (named in `outputs`) depends on, in their original order. */
export function liveNodes(nodes: readonly NodeProto[], outputs: Iterable<string>): NodeProto[] {
  const producer = new Map<string, NodeProto>();
  for (const n of nodes) for (const o of n.output ?? []) if (o) producer.set(o, n);
  const live = new Set<NodeProto>();
  const pending = [...outputs];
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    const n = producer.get(name);
    if (!n || live.has(n)) continue;
    live.add(n);
    pending.push(...reads(n));
  }
  return nodes.filter((n) => live.has(n));
}
