/**
 * A small graph rewriter for the optimisation passes: walks the nodes in order and lets a pass keep a
 * node, drop it, or replace it with new nodes appended at the same position. A replacement's last
 * node can write to the original output id (`into`), so consumers need no renaming and the
 * topological order holds.
 */
import { inferShapes } from '../../../compiler/ir/ops.ts';
import type { Conv2dAttrs, DType, Graph, HostTensor, Node, OpAttrs, OpKind, Value } from '../../../compiler/ir/types.ts';
import type { WeightMap } from '../../types.ts';
import { pruneDead } from '../../../compiler/passes/prune.ts';

export class Rewriter {
  readonly values: Map<string, Value>;
  private readonly nodes: Node[] = [];
  private counter = 0;

  constructor(private readonly g: Graph) {
    this.values = new Map(g.values);
  }

  value(id: string): Value {
    const v = this.values.get(id);
    if (!v) throw new Error(`optimize: unknown value ${id}`);
    return v;
  }

  /** Concrete shape (the passes run on specialised graphs). */
  shape(id: string): number[] {
    return this.value(id).shape.map((d) => {
      if (typeof d !== 'number') throw new Error(`optimize: ${id} has a symbolic shape; specialise first`);
      return d;
    });
  }

  fresh(stem: string): string {
    let id: string;
    do id = `${stem}~opt${++this.counter}`;
    while (this.values.has(id));
    return id;
  }

  keep(n: Node): void {
    this.nodes.push(n);
  }

  constant(stem: string, shape: readonly number[], data: Float32Array, dtype: DType = 'float32'): string {
    const id = this.fresh(stem);
    this.values.set(id, { id, shape, dtype, kind: 'const', data });
    return id;
  }

  /** Append a node; its output is `into` (an existing value id being redefined) or a fresh id. */
  add<K extends OpKind>(op: K, inputs: readonly string[], attrs: OpAttrs[K], stem: string, into?: string, layer?: string): string {
    const [shape] = inferShapes(op, inputs.map((i) => this.value(i).shape), attrs);
    const out = into ?? this.fresh(stem);
    this.values.set(out, { id: out, shape: shape!, dtype: 'float32', kind: 'node' });
    this.nodes.push({ id: `${out}#node`, op, inputs: [...inputs], outputs: [out], attrs, ...(layer !== undefined && { layer }) } as Node);
    return out;
  }

  /** The rewritten graph, with values nothing reads any more removed. */
  build(): Graph {
    return pruneDead({ ...this.g, values: this.values, nodes: this.nodes });
  }
}

/** A value's data when the passes may treat it as known: a float32 constant, or a parameter bound in `weights` (frozen). */
export function knownTensor(v: Value, weights: WeightMap): HostTensor | undefined {
  if (v.kind === 'const' && v.data && v.dtype === 'float32') return { shape: v.shape as number[], data: v.data };
  if (v.kind === 'param') return weights.get(v.id);
  return undefined;
}

/** Map from value id to the number of nodes (and graph outputs) reading it. */
export function useCounts(g: Graph): Map<string, number> {
  const m = new Map<string, number>();
  for (const n of g.nodes) for (const i of n.inputs) m.set(i, (m.get(i) ?? 0) + 1);
  for (const id of g.outputs.values()) m.set(id, (m.get(id) ?? 0) + 1);
  return m;
}

/** A single-group, undilated conv's attributes: `stride` on both axes, explicit `pads` [top, left, bottom, right]. */
export function convAttrs(stride = 1, pads: readonly [number, number, number, number] = [0, 0, 0, 0]): Conv2dAttrs {
  return { strides: [stride, stride], dilations: [1, 1], padding: { kind: 'explicit', pads }, group: 1 };
}
