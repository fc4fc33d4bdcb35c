/**
 * Tap pruning and dead-code elimination: keep only the nodes that the requested
 * outputs depend on. A loss network asked only for relu3_1 never computes past it.
 */
import type { Graph } from '../ir/types.ts';

/**
 * Make `outputs` (each an existing output or tap name, or an explicit name -> value map)
 * the graph's outputs and drop every node, parameter and constant they do not need.
 */
export function selectOutputs(g: Graph, outputs: ReadonlyMap<string, string> | readonly string[]): Graph {
  const selected = new Map<string, string>();
  if (Array.isArray(outputs)) {
    for (const name of outputs as readonly string[]) {
      const id = g.outputs.get(name) ?? g.taps.get(name);
      if (id === undefined) throw new Error(`selectOutputs: no output or tap named ${name}`);
      selected.set(name, id);
    }
  } else for (const [k, v] of outputs as ReadonlyMap<string, string>) selected.set(k, v);
  return pruneDead({ ...g, outputs: selected });
}

/** Remove nodes whose outputs are not needed by the graph outputs. Taps that survive stay. */
export function pruneDead(g: Graph): Graph {
  const live = new Set<string>(g.outputs.values());
  const keep: boolean[] = new Array(g.nodes.length).fill(false);
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i]!;
    if (n.outputs.some((o) => live.has(o))) {
      keep[i] = true;
      for (const inp of n.inputs) live.add(inp);
    }
  }
  const nodes = g.nodes.filter((_, i) => keep[i]);
  const values = new Map([...g.values].filter(([id, v]) => v.kind === 'input' || live.has(id)));
  // Node outputs of kept multi-output nodes stay defined even when unused.
  for (const n of nodes) for (const o of n.outputs) values.set(o, g.values.get(o)!);
  const taps = new Map([...g.taps].filter(([, id]) => values.has(id)));
  return { values, nodes, inputs: g.inputs, outputs: g.outputs, taps };
}
