/**
 * The emitter names a graph output whose IR value has another id with an Identity node (`new/<param>` of the
 * Adam update, `loss`, …). ONNX Runtime removes them itself, but stc's node count (the GPU's dispatch budget,
 * bench/node-counts.ts) should not carry them: here each such Identity is removed by giving its input, when a
 * node produces it and nothing else is named so, the output's name.
 */
import type { ModelProto, NodeProto } from './proto.ts';

export function elideOutputIdentities(model: ModelProto): ModelProto {
  const g = model.graph;
  if (!g?.node) return model;
  const outputs = new Set((g.output ?? []).map((o) => o.name ?? ''));
  const produced = new Set(g.node.flatMap((n) => n.output ?? []));
  const rename = new Map<string, string>();
  const kept: NodeProto[] = [];
  for (const n of g.node) {
    const x = n.input?.[0];
    const y = n.output?.[0];
    if (n.opType === 'Identity' && x !== undefined && y !== undefined && outputs.has(y) && produced.has(x) && !outputs.has(x) && !rename.has(x)) rename.set(x, y);
    else kept.push(n);
  }
  if (rename.size === 0) return model;
  const to = (name: string): string => rename.get(name) ?? name;
  const node = kept.map((n) => ({ ...n, input: (n.input ?? []).map(to), output: (n.output ?? []).map(to) }));
  const valueInfo = (g.valueInfo ?? []).filter((v) => !rename.has(v.name ?? ''));
  return { ...model, graph: { ...g, node, valueInfo } };
}
