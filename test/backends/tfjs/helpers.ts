/** Building one-op graphs and running them on the tfjs backend. */
import { GraphBuilder } from '../../../src/compiler/ir/builder.ts';
import type { Graph, HostTensor, OpAttrs, OpKind } from '../../../src/compiler/ir/types.ts';
import { TfjsBackend } from '../../../src/backends/tfjs/index.ts';
import type { T64 } from './naive.ts';

export function host(t: T64): HostTensor {
  return { shape: t.shape, data: Float32Array.from(t.data) };
}

export interface OneOp {
  graph: Graph;
  weights: Map<string, HostTensor>;
  feeds: Record<string, HostTensor>;
}

/** A graph `y = op(x..., params...)`: tensors named x* are inputs, the rest parameters. */
export function oneOp<K extends OpKind>(op: K, tensors: Record<string, T64>, attrs: OpAttrs[K]): OneOp {
  const b = new GraphBuilder();
  const weights = new Map<string, HostTensor>();
  const feeds: Record<string, HostTensor> = {};
  const ids = Object.entries(tensors).map(([name, t]) => {
    if (name.startsWith('x')) {
      feeds[name] = host(t);
      return b.input(name, t.shape);
    }
    weights.set(name, host(t));
    return b.param(name, t.shape, { kind: 'zeros' });
  });
  b.output('y', b.add(op, ids, attrs));
  return { graph: b.build(), weights, feeds };
}

export async function runTfjs(m: OneOp): Promise<Record<string, HostTensor>> {
  const model = await new TfjsBackend().compile(m.graph, m.weights);
  try {
    return await model.run(m.feeds);
  } finally {
    await model.dispose();
  }
}
