/**
 * Loss and gradients through tfjs's own autodiff (tf.valueAndGrads over the
 * interpreted forward graph): an implementation of reverse mode independent of
 * the compiler's, used to cross-check it, and the tfjs path for Gatys and training.
 */
import { selectOutputs } from '../../compiler/passes/prune.ts';
import type { Graph, HostTensor } from '../../compiler/ir/types.ts';
import type { WeightMap } from '../types.ts';
import { bindSizes, constantData, fromHost, runSteps, toHost } from './execute.ts';
import { planGraph } from './plan.ts';
import { createOps, type Tensor, type Tf } from './runtime.js';
import { ensureTfjsBackend, loadTfjs } from './select.ts';

export interface TfjsValueAndGrads {
  /** The loss (a single-element output). */
  readonly value: number;
  /** d loss / d v for each requested value, in the IR layout and shape of v. */
  readonly grads: Record<string, HostTensor>;
  /** The tfjs backend that computed them. */
  readonly backend: string;
}

function isMissingKernel(e: unknown): boolean {
  return e instanceof Error && /kernel .* not registered/i.test(e.message);
}

/**
 * Evaluate output `loss` of `graph` and its gradient with respect to each value id in `wrt`
 * (graph inputs or parameters). Values the loss does not depend on get zero gradients.
 * The wasm backend lacks some gradient kernels (Conv2DBackpropFilter, for weight gradients);
 * then the computation is rerun on the cpu backend and the previous backend restored.
 */
export async function tfjsValueAndGrads(
  graph: Graph,
  weights: WeightMap,
  feeds: Readonly<Record<string, HostTensor>>,
  loss: string,
  wrt: readonly string[],
): Promise<TfjsValueAndGrads> {
  const g = selectOutputs(graph, [loss]);
  const plan = planGraph(g);
  const tf = await loadTfjs();
  await ensureTfjsBackend();
  for (const id of wrt) {
    const v = graph.values.get(id);
    if (!v || (v.kind !== 'input' && v.kind !== 'param')) throw new Error(`tfjsValueAndGrads: ${id} is not a graph input or parameter`);
  }
  const env = bindSizes(plan.inputs, Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, v.shape])));
  const used = new Set([...plan.inputs, ...plan.constants].map((t) => t.id));

  const compute = async (tfx: Tf): Promise<TfjsValueAndGrads> => {
    // Unfused convs: a fused conv's gradient computes filter gradients even for constant filters (runtime.js).
    const ops = createOps(tfx, { fusedConv: false });
    const result = tfx.tidy(() => {
      const base = new Map<string, Tensor>();
      for (const c of plan.constants) base.set(c.id, fromHost(tfx, constantData(g, c, weights)));
      for (const i of plan.inputs) base.set(i.id, fromHost(tfx, feeds[i.id]!));
      const live = wrt.filter((id) => used.has(id));
      const f = (...xs: Tensor[]): Tensor => {
        const values = new Map(base);
        live.forEach((id, k) => values.set(id, xs[k]!));
        runSteps(ops, plan.prep, values, {});
        runSteps(ops, plan.body, values, env);
        const out = values.get(plan.outputs[0]!.value)!;
        if (out.size !== 1) throw new Error(`tfjsValueAndGrads: output ${loss} has ${out.size} elements; a loss must have one`);
        return tfx.reshape(out, []);
      };
      const { value, grads } = tfx.valueAndGrads(f)(live.map((id) => base.get(id)!));
      const byId: Record<string, Tensor> = {};
      live.forEach((id, k) => (byId[id] = grads[k]!));
      return { value, grads: byId };
    });
    try {
      const grads: Record<string, HostTensor> = {};
      for (const id of wrt) {
        const t = result.grads[id];
        if (t) grads[id] = await toHost(t);
        else {
          const shape = (feeds[id]?.shape ?? weights.get(id)?.shape ?? []).slice();
          grads[id] = { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) };
        }
      }
      return { value: (await result.value.data())[0]!, grads, backend: tfx.getBackend() };
    } finally {
      result.value.dispose();
      for (const t of Object.values(result.grads)) t.dispose();
    }
  };

  return withCpuFallback(tf, compute);
}

/**
 * Run `compute` on the active tfjs backend; if that backend lacks a kernel (wasm has no
 * Conv2DBackpropFilter), run it again on the cpu backend and restore the previous one.
 */
export async function withCpuFallback<T>(tf: Tf, compute: (tf: Tf) => Promise<T>): Promise<T> {
  try {
    return await compute(tf);
  } catch (e) {
    if (!isMissingKernel(e) || tf.getBackend() === 'cpu') throw e;
    const previous = tf.getBackend();
    await tf.setBackend('cpu');
    try {
      return await compute(tf);
    } finally {
      await tf.setBackend(previous);
    }
  }
}
