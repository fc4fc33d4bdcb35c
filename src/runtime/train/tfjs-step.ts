/**
 * The training step on TensorFlow.js: the forward loss graph (`buildLossGraph`: transformer,
 * frozen loss network, loss terms; no compiler autodiff, no in-graph optimiser) is interpreted
 * with the stc tfjs runtime inside `tf.valueAndGrads`, so the gradients of every trainable
 * parameter come from tfjs's own reverse mode. Adam then runs on the host with the exact float32
 * operations of the in-graph update (`adamStepHost`), so parameters, moments and step are
 * interchangeable with the ONNX step's checkpoints.
 *
 * The wasm backend lacks the conv weight-gradient kernel; as in `tfjsValueAndGrads`, the step
 * then runs on the cpu backend (and remembers that, so later steps go there directly).
 */
import type { HostTensor } from '../../compiler/ir/types.ts';
import type { AdamHyper } from '../../compiler/passes/adam-update.ts';
import type { WeightMap } from '../../backends/types.ts';
import { bindSizes, constantData, fromHost, runSteps, toHost } from '../../backends/tfjs/execute.ts';
import { withCpuFallback } from '../../backends/tfjs/grad.ts';
import { planGraph, type TfjsPlan } from '../../backends/tfjs/plan.ts';
import { createOps, type Tensor, type Tf } from '../../backends/tfjs/runtime.js';
import { ensureTfjsBackend, loadTfjs } from '../../backends/tfjs/select.ts';
import { adamStepHost } from './adam-host.ts';
import type { LossTerms, OptimState, TrainStep } from './step.ts';
import { CONTENT_INPUT, LOSS_OUTPUT, styleTargetFeeds, type LossGraph } from './train-graph.ts';

/** The loss, its weighted terms and the gradient of the loss for every trainable parameter. */
export interface LossAndGrads {
  readonly terms: LossTerms;
  readonly grads: ReadonlyMap<string, HostTensor>;
}

export class TfjsTrainStep implements TrainStep {
  private onCpu = false;

  private constructor(
    private readonly tf: Tf,
    private readonly lg: LossGraph,
    private readonly plan: TfjsPlan,
    private readonly frozen: WeightMap,
    private readonly fixedFeeds: Record<string, HostTensor>,
    private readonly hyper: AdamHyper,
  ) {}

  /**
   * `frozen` binds the loss network's weights (and any non-trainable transformer parameter);
   * `styleTargets` are the style-image targets by key, as for `OnnxTrainStep.create`.
   */
  static async create(lg: LossGraph, frozen: WeightMap, styleTargets: ReadonlyMap<string, HostTensor>, hyper: AdamHyper): Promise<TfjsTrainStep> {
    for (const name of [LOSS_OUTPUT, ...lg.termOutputs]) if (!lg.graph.outputs.has(name)) throw new Error(`TfjsTrainStep: the loss graph has no output ${name}`);
    const fixed = styleTargetFeeds(lg.styleTargetShapes, styleTargets);
    for (const p of lg.frozen) if (!frozen.has(p.id) && !p.data) throw new Error(`TfjsTrainStep: no value for the frozen parameter ${p.id}`);
    const tf = await loadTfjs();
    await ensureTfjsBackend();
    return new TfjsTrainStep(tf, lg, planGraph(lg.graph), frozen, fixed, hyper);
  }

  /** The loss terms and the parameter gradients at `params` for `batch`, without updating anything. */
  async lossAndGrads(params: ReadonlyMap<string, HostTensor>, batch: HostTensor): Promise<LossAndGrads> {
    const feeds: Record<string, HostTensor> = { ...this.fixedFeeds, [CONTENT_INPUT]: batch };
    const weights = new Map(this.frozen);
    for (const p of this.lg.params) {
      const t = params.get(p.id);
      if (!t) throw new Error(`TfjsTrainStep: no value for parameter ${p.id}`);
      weights.set(p.id, t);
    }
    if (this.onCpu) return this.onBackend('cpu', () => this.compute(this.tf, weights, feeds));
    return withCpuFallback(this.tf, async (tfx) => {
      if (tfx.getBackend() === 'cpu' && !this.onCpu) this.onCpu = true;
      return this.compute(tfx, weights, feeds);
    });
  }

  async run(state: OptimState, batch: HostTensor): Promise<LossTerms> {
    const { terms, grads } = await this.lossAndGrads(state.params, batch);
    const t = state.step + 1;
    for (const p of this.lg.params) {
      const next = adamStepHost({ param: state.params.get(p.id)!, m: state.m.get(p.id)!, v: state.v.get(p.id)! }, grads.get(p.id)!, this.hyper, t);
      state.params.set(p.id, next.param);
      state.m.set(p.id, next.m);
      state.v.set(p.id, next.v);
    }
    state.step = t;
    return terms;
  }

  async dispose(): Promise<void> {
    // Nothing is held between steps: every tensor lives inside one step's tidy.
  }

  private async onBackend<T>(name: string, f: () => Promise<T>): Promise<T> {
    const previous = this.tf.getBackend();
    if (previous === name) return f();
    await this.tf.setBackend(name);
    try {
      return await f();
    } finally {
      await this.tf.setBackend(previous);
    }
  }

  private async compute(tf: Tf, weights: WeightMap, feeds: Readonly<Record<string, HostTensor>>): Promise<LossAndGrads> {
    const { plan, lg } = this;
    const g = lg.graph;
    const ops = createOps(tf);
    const env = bindSizes(plan.inputs, Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, v.shape])));
    const used = new Set(plan.constants.map((c) => c.id));
    const live = lg.params.map((p) => p.id).filter((id) => used.has(id));
    const lossOut = plan.outputs.find((o) => o.name === LOSS_OUTPUT)!;
    const termOuts = plan.outputs.filter((o) => lg.termOutputs.includes(o.name));
    let kept: Tensor[] = [];
    const result = tf.tidy(() => {
      const base = new Map<string, Tensor>();
      for (const c of plan.constants) base.set(c.id, fromHost(tf, constantData(g, c, weights)));
      for (const i of plan.inputs) base.set(i.id, fromHost(tf, feeds[i.id]!));
      const f = (...xs: Tensor[]): Tensor => {
        const values = new Map(base);
        live.forEach((id, k) => values.set(id, xs[k]!));
        runSteps(ops, plan.prep, values, {});
        runSteps(ops, plan.body, values, env);
        // The weighted terms leave the gradient's forward scope alive; disposed below.
        kept = termOuts.map((o) => tf.keep(values.get(o.value)!));
        return tf.reshape(values.get(lossOut.value)!, []);
      };
      const { value, grads } = tf.valueAndGrads(f)(live.map((id) => base.get(id)!));
      return { value, grads };
    });
    try {
      const terms: Record<string, number> = { [LOSS_OUTPUT]: (await result.value.data())[0]! };
      for (let k = 0; k < termOuts.length; k++) terms[termOuts[k]!.name.replace('loss:', '')] = (await kept[k]!.data())[0]!;
      const grads = new Map<string, HostTensor>();
      for (const p of lg.params) {
        const k = live.indexOf(p.id);
        if (k >= 0) grads.set(p.id, await toHost(result.grads[k]!));
        else {
          const shape = p.shape as number[];
          grads.set(p.id, { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
        }
      }
      return { terms, grads };
    } finally {
      result.value.dispose();
      for (const t of result.grads) t.dispose();
      for (const t of kept) t.dispose();
    }
  }
}
