/**
 * The in-process tfjs backend: lowers the graph to a plan once, converts the
 * weights once (the plan's prep steps), then runs the body per call.
 */
import type { Graph, HostTensor } from '../../compiler/ir/types.ts';
import type { Backend, BackendOptions, CompiledModel, WeightMap } from '../types.ts';
import { bindSizes, constantData, fromHost, runSteps, toHost } from './execute.ts';
import { planGraph } from './plan.ts';
import { createOps, type Tensor } from './runtime.js';
import { ensureTfjsBackend, loadTfjs } from './select.ts';

export class TfjsBackend implements Backend {
  readonly name = 'tfjs' as const;

  /**
   * `opts.threads` is not used: the backends available here are single-threaded (cpu, wasm
   * in Node); tfjs-node sizes its own thread pool.
   */
  async compile(g: Graph, weights: WeightMap, _opts?: BackendOptions): Promise<CompiledModel> {
    const plan = planGraph(g);
    const tf = await loadTfjs();
    await ensureTfjsBackend();
    const ops = createOps(tf);
    const folded = tf.tidy(() => {
      const values = new Map<string, Tensor>();
      for (const c of plan.constants) values.set(c.id, fromHost(tf, constantData(g, c, weights)));
      runSteps(ops, plan.prep, values, {});
      return Object.fromEntries(values);
    });
    const held = new Map(Object.entries(folded));
    let disposed = false;
    return {
      inputNames: plan.inputs.map((i) => i.id),
      outputNames: plan.outputs.map((o) => o.name),
      async run(feeds: Readonly<Record<string, HostTensor>>): Promise<Record<string, HostTensor>> {
        if (disposed) throw new Error('tfjs: model used after dispose()');
        const env = bindSizes(plan.inputs, Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, v.shape])));
        const outs = tf.tidy(() => {
          const values = new Map(held);
          for (const i of plan.inputs) values.set(i.id, fromHost(tf, feeds[i.id]!));
          runSteps(ops, plan.body, values, env);
          return plan.outputs.map((o) => values.get(o.value)!);
        });
        try {
          const result: Record<string, HostTensor> = {};
          for (let k = 0; k < outs.length; k++) result[plan.outputs[k]!.name] = await toHost(outs[k]!);
          return result;
        } finally {
          for (const t of outs) if (![...held.values()].includes(t)) t.dispose();
        }
      },
      async dispose(): Promise<void> {
        if (disposed) return;
        disposed = true;
        for (const t of held.values()) t.dispose();
      },
    };
  }
}
