/** Parameter and FLOP counting. */
import { flops, numel } from '../ir/ops.ts';
import type { Graph } from '../ir/types.ts';
import { paramsOf } from '../ir/graph.ts';
import { concreteShapeOf } from './specialize.ts';

export interface LayerFlops {
  readonly layer: string;
  readonly op: string;
  readonly flops: number;
  readonly outputShape: readonly number[];
}

/** Number of parameter elements (all parameters the graph reads, trainable or not). */
export function countParams(g: Graph, opts: { trainableOnly?: boolean } = {}): number {
  return paramsOf(g)
    .filter((p) => !opts.trainableOnly || p.trainable !== false)
    .reduce((s, p) => s + numel(p.shape as number[]), 0);
}

/** FLOPs per node of a specialised (concrete-shape) graph, grouped by layer name. */
export function flopsPerLayer(g: Graph): LayerFlops[] {
  const rows: LayerFlops[] = [];
  for (const n of g.nodes) {
    const ins = n.inputs.map((i) => concreteShapeOf(g, i));
    const outs = n.outputs.map((o) => concreteShapeOf(g, o));
    const f = flops(n.op, ins, outs, n.attrs as never);
    const layer = n.layer ?? n.id;
    const last = rows[rows.length - 1];
    // A layer may lower to several nodes (reflect pad + conv): report the op doing most of the work.
    if (last && last.layer === layer)
      rows[rows.length - 1] = { layer, op: f > last.flops ? n.op : last.op, flops: last.flops + f, outputShape: outs[0]! };
    else rows.push({ layer, op: n.op, flops: f, outputShape: outs[0]! });
  }
  return rows;
}
