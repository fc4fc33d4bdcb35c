/**
 * Running the compiled training step in onnxruntime-node: one session.run per
 * step. Parameters and Adam moments live on the host between steps; each run
 * feeds them and takes the updated tensors from the outputs.
 *
 * Buffer reuse: ORT writes the updated parameters and moments into buffers the
 * step owns (OnnxModel.runInto), ping-pong style: the run that reads set A writes
 * set B, and the next run, reading B, writes A again. Only buffers the step itself
 * wrote and the state has since let go of are reused, so tensors a caller put in
 * the state (initial parameters, a loaded checkpoint) are never written; tensors a
 * run put in the state are valid until the next run (see OptimState).
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
import type { BackendOptions, WeightMap } from '../../backends/types.ts';
import { OnnxBackend, type OnnxModel } from '../../backends/onnx/index.ts';
import { CONTENT_INPUT, LOSS_OUTPUT, styleTargetFeeds, type TrainGraph } from './train-graph.ts';

/**
 * The optimisation state a checkpoint saves. A step updates it in place by replacing the maps'
 * entries. Lifetime: a tensor read from the state after a step is valid until the next step runs;
 * the ONNX step then reuses its buffer for a later update. Copy to keep (cloneOptimState): a
 * second map over the same tensors (`new Map(state.params)`) is not a copy.
 */
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

/** A deep copy: new maps over new buffers, unaffected by later steps on `s`. */
export function cloneOptimState(s: OptimState): OptimState {
  const copy = (m: ReadonlyMap<string, HostTensor>): Map<string, HostTensor> => new Map([...m].map(([k, t]) => [k, { shape: [...t.shape], data: t.data.slice() }]));
  return { step: s.step, params: copy(s.params), m: copy(s.m), v: copy(s.v) };
}

/** One optimiser step of a compiled training loss on some backend; the trainer drives any of them. */
export interface TrainStep {
  /**
   * One optimiser step on `batch` [B, 3, S, S]; updates `state` in place and returns the loss terms (before the update).
   * Tensors read from `state` are valid until the next run (see OptimState).
   */
  run(state: OptimState, batch: HostTensor): Promise<LossTerms>;
  /**
   * A step that keeps the state on the device (resident-step.ts) leaves `state`'s tensors behind after `run`
   * (`state.step` still advances) and copies them back here; a step without it updates `state` on every run.
   */
  sync?(state: OptimState): Promise<void>;
  dispose(): Promise<void>;
}

export interface OnnxStepOptions {
  /** Write the updated parameters and moments into reused buffers (default true); false: ORT allocates fresh outputs every step. */
  readonly reuseBuffers?: boolean;
}

/** One updated tensor of a run: the state map it goes to, its key there, and its output name. */
interface Update {
  readonly map: Map<string, HostTensor>;
  readonly id: string;
  readonly output: string;
}

/** One updated tensor (an output such as `new:conv1.weight`): the buffer the last run wrote, and the one before it. */
interface Slot {
  /** Written by the last run and handed to the state. */
  current: HostTensor;
  /** Written by the run before and since replaced in the state by `current`: free to overwrite. */
  spare: HostTensor | undefined;
}

export class OnnxTrainStep implements TrainStep {
  /** By output name. */
  private readonly slots = new Map<string, Slot>();

  private constructor(
    private readonly model: OnnxModel,
    private readonly params: readonly Value[],
    private readonly termOutputs: readonly string[],
    private readonly fixedFeeds: Record<string, HostTensor>,
    private readonly hyper: AdamHyper,
    private readonly reuseBuffers: boolean,
  ) {}

  /**
   * Compile the step graph. `frozen` binds the loss network's weights (initializers);
   * `styleTargets` are the style-image targets by key (`style:relu1_2`; fed every step, computed once).
   */
  static async create(
    tg: TrainGraph,
    frozen: WeightMap,
    styleTargets: ReadonlyMap<string, HostTensor>,
    hyper: AdamHyper,
    opts: BackendOptions = {},
    stepOpts: OnnxStepOptions = {},
  ): Promise<OnnxTrainStep> {
    const fixed = styleTargetFeeds(tg.styleTargetShapes, styleTargets);
    const model = await new OnnxBackend().compile(tg.graph, frozen, opts);
    return new OnnxTrainStep(model, tg.params, tg.termOutputs, fixed, hyper, stepOpts.reuseBuffers ?? true);
  }

  /**
   * One optimiser step on `batch` [B, 3, S, S]; updates `state` in place and returns the loss terms (before the update).
   * The tensors it puts in `state` stay valid until the next run (on any state); copy to keep them.
   */
  async run(state: OptimState, batch: HostTensor): Promise<LossTerms> {
    const t = state.step + 1;
    const { alpha, r } = adamScalars(this.hyper, t);
    const feeds: Record<string, HostTensor> = {
      ...this.fixedFeeds,
      [CONTENT_INPUT]: batch,
      [ADAM_ALPHA]: { shape: [1], data: Float32Array.of(alpha) },
      [ADAM_R]: { shape: [1], data: Float32Array.of(r) },
    };
    const updates: Update[] = [];
    for (const p of this.params) {
      feeds[p.id] = state.params.get(p.id)!;
      feeds[mName(p.id)] = state.m.get(p.id)!;
      feeds[vName(p.id)] = state.v.get(p.id)!;
      updates.push({ map: state.params, id: p.id, output: newParamName(p.id) });
      updates.push({ map: state.m, id: p.id, output: newMName(p.id) });
      updates.push({ map: state.v, id: p.id, output: newVName(p.id) });
    }
    const out = this.reuseBuffers ? await this.model.runInto(feeds, this.targets(updates, feeds)) : await this.model.run(feeds);
    for (const u of updates) {
      const next = out[u.output]!;
      if (this.reuseBuffers) this.retire(u.output, u.map.get(u.id)!, next);
      u.map.set(u.id, next);
    }
    state.step = t;
    const terms: Record<string, number> = { [LOSS_OUTPUT]: out[LOSS_OUTPUT]!.data[0]! };
    for (const name of this.termOutputs) terms[name.replace('loss:', '')] = out[name]!.data[0]!;
    return terms;
  }

  /**
   * The buffers this run writes: each slot's spare, unless it is missing (first runs), has another
   * shape, or is fed to this run (someone put it back in a state); then a new one.
   */
  private targets(updates: readonly Update[], feeds: Readonly<Record<string, HostTensor>>): Record<string, HostTensor> {
    const fed = new Set(Object.values(feeds).map((f) => f.data));
    const targets: Record<string, HostTensor> = {};
    for (const u of updates) {
      const input = u.map.get(u.id)!;
      const spare = this.slots.get(u.output)?.spare;
      const usable = spare !== undefined && !fed.has(spare.data) && sameShape(spare.shape, input.shape);
      targets[u.output] = usable ? spare : { shape: [...input.shape], data: new Float32Array(input.data.length) };
    }
    return targets;
  }

  /**
   * After a run replaced `input` by `next` in the state: `next` becomes the slot's current buffer,
   * and `input` its spare if this step wrote it (it was the slot's current one). A tensor the step
   * did not write belongs to someone else and is never reused; neither is the slot's previous
   * current buffer when the state held something else (it may still live in another state).
   */
  private retire(output: string, input: HostTensor, next: HostTensor): void {
    const slot = this.slots.get(output);
    const spare = slot !== undefined && slot.current.data === input.data ? input : undefined;
    this.slots.set(output, { current: next, spare });
  }

  async dispose(): Promise<void> {
    this.slots.clear();
    await this.model.dispose();
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
