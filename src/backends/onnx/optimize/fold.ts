/**
 * Constant folding: every node whose inputs are all known — constants, and parameters whose
 * weights are bound (frozen: their values are fixed for the model's lifetime) — is evaluated once
 * by the float64 reference interpreter and replaced by a float32 constant. Folding stops where it
 * would grow the model: a node whose output is more than `maxGrowth` times its largest known
 * input (e.g. an `expand` of a scalar to an image) stays a node.
 */
import type { Graph, HostTensor, Value } from '../../../compiler/ir/types.ts';
import type { WeightMap } from '../../types.ts';
import { runReference } from '../../reference/index.ts';
import { knownTensor, Rewriter } from './rewrite.ts';

export interface FoldOptions {
  /** Largest output/input element ratio folded (default 4). */
  readonly maxGrowth?: number;
}

const numel = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

export function constantFold(g: Graph, weights: WeightMap, opts: FoldOptions = {}): Graph {
  const maxGrowth = opts.maxGrowth ?? 4;
  const rw = new Rewriter(g);
  const known = new Map<string, HostTensor>();
  const valueOf = (v: Value): HostTensor | undefined => known.get(v.id) ?? knownTensor(v, weights);
  let changed = false;
  for (const n of g.nodes) {
    const ins = n.inputs.map((i) => valueOf(rw.value(i)));
    if (n.outputs.length !== 1 || ins.some((t) => t === undefined)) {
      rw.keep(n);
      continue;
    }
    const out = n.outputs[0]!;
    const outShape = rw.shape(out);
    const largest = Math.max(1, ...ins.map((t) => numel(t!.shape)));
    if (numel(outShape) > maxGrowth * largest) {
      rw.keep(n);
      continue;
    }
    const mini: Graph = {
      values: new Map([...n.inputs.map((i) => [i, { ...rw.value(i), kind: 'param' as const }] as const), [out, rw.value(out)]]),
      nodes: [n],
      inputs: [],
      outputs: new Map([['out', out]]),
      taps: new Map(),
    };
    const res = runReference(mini, new Map(n.inputs.map((i, k) => [i, ins[k]!])), {}).out!;
    const data = Float32Array.from(res.data);
    known.set(out, { shape: outShape, data });
    rw.values.set(out, { id: out, shape: outShape, dtype: 'float32', kind: 'const', data });
    changed = true;
  }
  return changed ? rw.build() : g;
}
