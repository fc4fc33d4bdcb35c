/**
 * Running the compiled training step in onnxruntime-node: one session.run per
 * step. Parameters and Adam moments live on the host between steps; each run
 * feeds them and takes the updated tensors from the outputs (ORT returns fresh
 * buffers, so no copy is made on our side).
 */
import type { HostTensor, Value } from '../../compiler/ir/types.ts';
import {
  ADAM_ALPHA,
  ADAM_R,
  adamScalars,
  mName,
  newMName,
  newParamName,
  newVName,
  vName,
  type AdamHyper,
} from '../../compiler/passes/adam-update.ts';
import type { BackendOptions, CompiledModel, WeightMap } from '../../backends/types.ts';
import { OnnxBackend } from '../../backends/onnx/index.ts';
import { CONTENT_INPUT, LOSS_OUTPUT, TERM_OUTPUTS, styleTargetInput, type TrainGraph } from './train-graph.ts';

/** The optimisation state a checkpoint saves. */
export interface OptimState {
  /** Steps completed. */
  step: number;
  params: Map<string, HostTensor>;
  m: Map<string, HostTensor>;
  v: Map<string, HostTensor>;
}

export type LossTerms = Readonly<Record<string, number>>;

export function freshOptimState(params: ReadonlyMap<string, HostTensor>): OptimState {
  const zeros = (t: HostTensor): HostTensor => ({ shape: t.shape, data: new Float32Array(t.data.length) });
  return {
    step: 0,
    params: new Map(params),
    m: new Map([...params].map(([k, t]) => [k, zeros(t)])),
    v: new Map([...params].map(([k, t]) => [k, zeros(t)])),
  };
}

/** One optimiser step of a compiled training loss on some backend; the trainer drives any of them. */
export interface TrainStep {
  /** One optimiser step on `batch` [B, 3, S, S]; updates `state` in place and returns the loss terms (before the update). */
  run(state: OptimState, batch: HostTensor): Promise<LossTerms>;
  dispose(): Promise<void>;
}

export class OnnxTrainStep implements TrainStep {
  private constructor(
    private readonly model: CompiledModel,
    private readonly params: readonly Value[],
    private readonly fixedFeeds: Record<string, HostTensor>,
    private readonly hyper: AdamHyper,
  ) {}

  /**
   * Compile the step graph. `frozen` binds the loss network's weights (initializers);
   * `styleTargets` are the style Grams by tap (fed every step, computed once).
   */
  static async create(tg: TrainGraph, frozen: WeightMap, styleTargets: ReadonlyMap<string, HostTensor>, hyper: AdamHyper, opts: BackendOptions = {}): Promise<OnnxTrainStep> {
    const fixed: Record<string, HostTensor> = {};
    for (const [tap, shape] of tg.styleTargetShapes) {
      const t = styleTargets.get(tap);
      if (!t) throw new Error(`no style target for tap ${tap}`);
      if (t.data.length !== shape.reduce((a, b) => a * b, 1)) throw new Error(`style target ${tap} has shape [${t.shape}], expected [${shape}]`);
      fixed[styleTargetInput(tap)] = { shape, data: t.data };
    }
    const model = await new OnnxBackend().compile(tg.graph, frozen, opts);
    return new OnnxTrainStep(model, tg.params, fixed, hyper);
  }

  /** One optimiser step on `batch` [B, 3, S, S]; updates `state` in place and returns the loss terms (before the update). */
  async run(state: OptimState, batch: HostTensor): Promise<LossTerms> {
    const t = state.step + 1;
    const { alpha, r } = adamScalars(this.hyper, t);
    const feeds: Record<string, HostTensor> = {
      ...this.fixedFeeds,
      [CONTENT_INPUT]: batch,
      [ADAM_ALPHA]: { shape: [1], data: Float32Array.of(alpha) },
      [ADAM_R]: { shape: [1], data: Float32Array.of(r) },
    };
    for (const p of this.params) {
      feeds[p.id] = state.params.get(p.id)!;
      feeds[mName(p.id)] = state.m.get(p.id)!;
      feeds[vName(p.id)] = state.v.get(p.id)!;
    }
    const out = await this.model.run(feeds);
    for (const p of this.params) {
      state.params.set(p.id, out[newParamName(p.id)]!);
      state.m.set(p.id, out[newMName(p.id)]!);
      state.v.set(p.id, out[newVName(p.id)]!);
    }
    state.step = t;
    const terms: Record<string, number> = { [LOSS_OUTPUT]: out[LOSS_OUTPUT]!.data[0]! };
    for (const name of TERM_OUTPUTS) terms[name.replace('loss:', '')] = out[name]!.data[0]!;
    return terms;
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}
