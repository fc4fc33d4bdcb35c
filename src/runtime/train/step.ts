/**
 * Running the compiled training step in onnxruntime-node. On the CPU, one or several steps per
 * session.run (defaultStepsPerRun), the step graph compiled as the body of an ONNX Loop (backends/onnx/step-loop.ts);
 * on a GPU, the step graph itself, one step per run: the GPU graphs are lowered and tested for ORT's GPU providers
 * without control flow, and a GPU training run keeps its state on the device (resident-step.ts), which saves the
 * copies the Loop saves.
 * Parameters and Adam moments live on the host between runs; each run feeds them and takes
 * the tensors of its last step from the outputs.
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
import { OnnxBackend, finalName, initialName, stackedName, type OnnxModel } from '../../backends/onnx/index.ts';
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
   * Steps that run several optimiser steps at once: `batches.length` steps (at most `stepsPerRun`), one per batch
   * in order, exactly as that many `run`s would; returns each step's loss terms. A step without it runs one at a time.
   */
  runSteps?(state: OptimState, batches: readonly HostTensor[]): Promise<LossTerms[]>;
  /** How many steps `runSteps` takes at most. */
  readonly stepsPerRun?: number;
  /**
   * A step that keeps the state on the device (resident-step.ts) leaves `state`'s tensors behind after `run`
   * (`state.step` still advances) and copies them back here; a step without it updates `state` on every run.
   */
  sync?(state: OptimState): Promise<void>;
  dispose(): Promise<void>;
}

/**
 * Steps per session run on the CPU, for a step on `batch × height × width` pixels. A run converts the state's feeds
 * and copies its outputs into fresh JS memory once however many steps it runs (backends/onnx/step-loop.ts): a cost
 * fixed by the network's size, while a step's work grows with its pixels. So short steps run several to a run and
 * long ones one: docs/benchmarks.md (item 12) measured batch 2 at 128² faster with 4 and 8 steps per run, and
 * batch 4 at 256² no faster, with more peak memory (ORT's arena holds the carried state between iterations).
 * More steps per run also means progress and the log arrive in bursts of that many.
 */
export function defaultStepsPerRun(batchPixels: number): number {
  return batchPixels <= SHORT_STEP_PIXELS ? SHORT_STEPS_PER_RUN : 1;
}

/** Batch pixels (batch × height × width) up to which a step counts as short: batch 4 at 128², batch 1 at 256². */
export const SHORT_STEP_PIXELS = 65536;
export const SHORT_STEPS_PER_RUN = 8;

export interface OnnxStepOptions {
  /** Write the updated parameters and moments into reused buffers (default true); false: ORT allocates fresh outputs every run. */
  readonly reuseBuffers?: boolean;
  /** Steps a run takes at most (default: defaultStepsPerRun of the step's batch). */
  readonly stepsPerRun?: number;
}

/** One updated tensor of a run: the state map it goes to, its key there, and its output name (the loop's final value). */
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
    /** Whether the model is the step graph in a Loop (stacked per-step tensors, initial and final state) or the step graph itself. */
    private readonly looped: boolean,
    readonly stepsPerRun: number,
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
    const carried: [string, string][] = [];
    for (const p of tg.params) carried.push([p.id, newParamName(p.id)], [mName(p.id), newMName(p.id)], [vName(p.id), newVName(p.id)]);
    const loop = { carried, perStepInputs: [CONTENT_INPUT, ADAM_ALPHA, ADAM_R], perStepOutputs: [LOSS_OUTPUT, ...tg.termOutputs] };
    const looped = opts.device !== 'gpu';
    const model = looped ? await new OnnxBackend().compileStepLoop(tg.graph, frozen, loop, opts) : await new OnnxBackend().compile(tg.graph, frozen, opts);
    const [n, , h, w] = tg.graph.values.get(CONTENT_INPUT)?.shape ?? [];
    const k = looped ? (stepOpts.stepsPerRun ?? defaultStepsPerRun(Number(n) * Number(h) * Number(w))) : 1;
    if (!Number.isInteger(k) || k < 1) throw new Error(`OnnxTrainStep: stepsPerRun must be a positive integer, got ${k}`);
    if (!looped && (stepOpts.stepsPerRun ?? 1) !== 1) throw new Error('OnnxTrainStep: several steps per run need the CPU (a GPU step runs one)');
    return new OnnxTrainStep(model, tg.params, tg.termOutputs, fixed, hyper, stepOpts.reuseBuffers ?? true, looped, k);
  }

  /**
   * One optimiser step on `batch` [B, 3, S, S]; updates `state` in place and returns the loss terms (before the update).
   * The tensors it puts in `state` stay valid until the next run (on any state); copy to keep them.
   */
  async run(state: OptimState, batch: HostTensor): Promise<LossTerms> {
    return (await this.runSteps(state, [batch]))[0]!;
  }

  /** `batches.length` steps (1 to stepsPerRun) in one session run; each step's loss terms, before its update. */
  async runSteps(state: OptimState, batches: readonly HostTensor[]): Promise<LossTerms[]> {
    const k = batches.length;
    if (k < 1 || k > this.stepsPerRun) throw new Error(`OnnxTrainStep: ${k} steps in one run, expected 1 to ${this.stepsPerRun}`);
    const alphas = new Float32Array(k);
    const rs = new Float32Array(k);
    for (let i = 0; i < k; i++) {
      const { alpha, r } = adamScalars(this.hyper, state.step + 1 + i);
      alphas[i] = alpha;
      rs[i] = r;
    }
    // The looped model's names (step-loop.ts), or the step graph's own.
    const [stacked, initial, final] = this.looped ? [stackedName, initialName, finalName] : [same, same, same];
    const feeds: Record<string, HostTensor> = {
      ...this.fixedFeeds,
      [stacked(CONTENT_INPUT)]: this.looped ? stack(batches) : batches[0]!,
      [stacked(ADAM_ALPHA)]: { shape: this.looped ? [k, 1] : [1], data: alphas },
      [stacked(ADAM_R)]: { shape: this.looped ? [k, 1] : [1], data: rs },
    };
    const updates: Update[] = [];
    for (const p of this.params) {
      feeds[initial(p.id)] = state.params.get(p.id)!;
      feeds[initial(mName(p.id))] = state.m.get(p.id)!;
      feeds[initial(vName(p.id))] = state.v.get(p.id)!;
      updates.push({ map: state.params, id: p.id, output: final(newParamName(p.id)) });
      updates.push({ map: state.m, id: p.id, output: final(newMName(p.id)) });
      updates.push({ map: state.v, id: p.id, output: final(newVName(p.id)) });
    }
    const out = this.reuseBuffers ? await this.model.runInto(feeds, this.targets(updates, feeds)) : await this.model.run(feeds);
    for (const u of updates) {
      const next = out[u.output]!;
      if (this.reuseBuffers) this.retire(u.output, u.map.get(u.id)!, next);
      u.map.set(u.id, next);
    }
    state.step += k;
    return Array.from({ length: k }, (_, i) => {
      const terms: Record<string, number> = { [LOSS_OUTPUT]: out[stacked(LOSS_OUTPUT)]!.data[i]! };
      for (const name of this.termOutputs) terms[name.replace('loss:', '')] = out[stacked(name)]!.data[i]!;
      return terms;
    });
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

const same = (name: string): string => name;

/** Equal-shaped tensors stacked along a new first axis. */
function stack(ts: readonly HostTensor[]): HostTensor {
  const first = ts[0]!;
  if (ts.length === 1) return { shape: [1, ...first.shape], data: first.data };
  const n = first.data.length;
  const data = new Float32Array(n * ts.length);
  ts.forEach((t, i) => {
    if (!sameShape(t.shape, first.shape)) throw new Error(`OnnxTrainStep: batch ${i} has shape [${t.shape}], batch 0 [${first.shape}]`);
    data.set(t.data, i * n);
  });
  return { shape: [ts.length, ...first.shape], data };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
