/**
 * Human-readable renderings of an IR graph: a line-per-node text listing
 * (`stc graph`) and Graphviz DOT (`stc graph --dot`). Parameters and
 * constants are shown as node inputs by name, not as graph vertices.
 */
import { shapeToString } from './dim.ts';
import type { Graph, Node } from './types.ts';

function attrText(n: Node): string {
  const a = n.attrs as unknown as Record<string, unknown>;
  const parts = Object.entries(a).map(([k, v]) => `${k}=${typeof v === 'object' && v !== null ? compact(v) : String(v)}`);
  return parts.length ? ` {${parts.join(', ')}}` : '';
}

function compact(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map((x) => (typeof x === 'object' && x !== null ? compact(x) : String(x))).join(',')}]`;
  const o = v as Record<string, unknown>;
  if ('kind' in o && Object.keys(o).length <= 2 && typeof o['kind'] === 'string' && !('name' in o)) {
    const rest = Object.entries(o).filter(([k]) => k !== 'kind');
    if (rest.length === 0) return String(o['kind']);
    // a DimExpr or a Padding
    if ('pads' in o) return `${o['kind']}${compact(o['pads'])}`;
  }
  if ('kind' in o && ('a' in o || o['kind'] === 'var')) return shapeToString([o as never]).slice(1, -1);
  return JSON.stringify(v);
}

/** One line per input, node and output: `id: shape = op(inputs) {attrs}  # layer`. */
export function graphToText(g: Graph): string {
  const lines: string[] = [];
  for (const id of g.inputs) lines.push(`input ${id}: ${shapeToString(g.values.get(id)!.shape)}`);
  const params = [...g.values.values()].filter((v) => v.kind === 'param');
  if (params.length) lines.push(`# ${params.length} parameter tensors`);
  for (const n of g.nodes) {
    const outs = n.outputs.map((o) => `${o}: ${shapeToString(g.values.get(o)!.shape)}`).join(', ');
    const layer = n.layer ? `  # ${n.layer}` : '';
    lines.push(`${outs} = ${n.op}(${n.inputs.join(', ')})${attrText(n)}${layer}`);
  }
  for (const [name, id] of g.outputs) lines.push(`output ${name} = ${id}`);
  return lines.join('\n');
}

function q(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** Graphviz DOT: one box per operator (layer, op, output shape), edges along data flow. */
export function graphToDot(g: Graph, name = 'stc'): string {
  const lines = [`digraph ${q(name)} {`, '  rankdir=TB;', '  node [shape=box, fontname="Helvetica", fontsize=10];'];
  const producer = new Map<string, string>();
  for (const id of g.inputs) {
    lines.push(`  ${q(`in:${id}`)} [shape=ellipse, label=${q(`${id}\n${shapeToString(g.values.get(id)!.shape)}`)}];`);
    producer.set(id, `in:${id}`);
  }
  for (const n of g.nodes) {
    const shape = shapeToString(g.values.get(n.outputs[0]!)!.shape);
    lines.push(`  ${q(n.id)} [label=${q(`${n.layer ?? n.id}\n${n.op}\n${shape}`)}];`);
    for (const i of n.inputs) {
      const from = producer.get(i);
      if (from) lines.push(`  ${q(from)} -> ${q(n.id)};`);
    }
    for (const o of n.outputs) producer.set(o, n.id);
  }
  for (const [oname, id] of g.outputs) {
    lines.push(`  ${q(`out:${oname}`)} [shape=ellipse, label=${q(oname)}];`);
    const from = producer.get(id);
    if (from) lines.push(`  ${q(from)} -> ${q(`out:${oname}`)};`);
  }
  lines.push('}');
  return lines.join('\n');
}
