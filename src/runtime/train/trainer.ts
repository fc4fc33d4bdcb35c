/**
 * The training loop: data → compiled step → checkpoints, log, validation images, progress.
 *
 * Run folder layout (`outDir`):
 *   checkpoints/step-XXXXXXXX.safetensors   parameters + Adam state + step + data RNG state + config
 *   log.jsonl                               one line per step: step, loss, content, style, tv, ms (a run of
 *                                           several steps, step.ts's defaultStepsPerRun, logs their mean time)
 *   validation/step-XXXXXXXX.png            the validation image rendered every `validateEvery` steps
 *
 * Resume (`resume: true`) loads the newest complete checkpoint and continues exactly: same
 * parameters, moments, step count and data position, so k + k steps equal 2k uninterrupted
 * steps bit for bit (on the same machine and thread count). A run whose parameters or Adam moments turn
 * non-finite, or whose loss climbs to several times its normal level (health.ts), stops with a UserError
 * before any checkpoint of the diverged state is written. The library never prints:
 * everything observable goes through `TrainCallbacks`.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Graph, HostTensor, Value } from '../../compiler/ir/types.ts';
import type { AdamHyper } from '../../compiler/passes/adam-update.ts';
import type { BackendOptions, WeightMap } from '../../backends/types.ts';
import { OnnxBackend } from '../../backends/onnx/index.ts';
import type { ObjectiveSpec } from '../../compiler/objective/types.ts';
import { UserError } from '../../util/errors.ts';
import { removeStaleTemps } from '../../util/stale-temps.ts';
import type { RgbImage } from '../image-types.ts';
import { DataLoader, type LoaderState, type SkipEvent } from '../data/loader.ts';
import { loadLatestCheckpoint, saveCheckpoint, type JsonObject, type JsonValue } from '../checkpoint/checkpoint.ts';
import { writeRgb8 } from '../apply/io.ts';
import { buildLossGraph, buildTrainGraph, lossNetWeights, styleTargetGraph, type TrainGraph } from './train-graph.ts';
import { initParams } from './init.ts';
import { paramsOf } from '../../compiler/ir/graph.ts';
import { OnnxTrainStep, freshOptimState, type LossTerms, type OptimState, type TrainStep } from './step.ts';
import { TfjsTrainStep } from './tfjs-step.ts';
import { ResidentTrainStep } from './resident-step.ts';
import { appendLog, appendNote, readLog, truncateLog } from './log.ts';
import { type RunLock, lockRunFolder } from './run-lock.ts';
import { LossSpikeDetector, firstNonFinite, type SpikeRule } from './health.ts';
import { Validator } from './validate.ts';

/** Everything that defines a run; saved in every checkpoint. */
export interface TrainConfig {
  /** The loss: the same ObjectiveSpec `stc stylize` compiles (`johnsonObjective` for Johnson's). */
  readonly objective: ObjectiveSpec;
  readonly size: number;
  readonly batch: number;
  readonly steps: number;
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly seed: number;
  /** Checkpoint every this many steps (and at the end). */
  readonly checkpointEvery: number;
  /** Render the validation image every this many steps (and at the end); 0 = never. */
  readonly validateEvery: number;
  /** Checkpoints kept. */
  readonly keep: number;
  /** Free-form provenance (spec path, network name, loss net...) used by `stc export`. */
  readonly source?: JsonObject;
}

export const DEFAULT_TRAIN: Omit<TrainConfig, 'objective' | 'source'> = {
  size: 256,
  batch: 4,
  steps: 40000,
  lr: 1e-3,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-8,
  seed: 0,
  checkpointEvery: 500,
  validateEvery: 500,
  keep: 3,
};

export interface TrainInputs {
  readonly transformer: Graph;
  readonly lossNet: Graph;
  /** The loss network's (frozen) weights. */
  readonly lossWeights: WeightMap;
  /** Starting transformer weights; default: seeded initialisation from each parameter's ParamInit. */
  readonly initialParams?: ReadonlyMap<string, HostTensor>;
  readonly styleImage: RgbImage;
  readonly dataFiles: readonly string[];
  readonly validationImage?: RgbImage;
  readonly outDir: string;
  readonly resume?: boolean;
  readonly backend?: BackendOptions;
  /**
   * Where the step runs: 'onnx' (default; compiler autodiff and in-graph Adam in onnxruntime) or
   * 'tfjs' (tfjs's own autodiff, the same Adam on the host). Checkpoints are interchangeable.
   * Style targets and validation renders use ONNX Runtime either way.
   */
  readonly stepBackend?: 'onnx' | 'tfjs';
  /** Decodes in flight (default: one batch more than the step takes per run). */
  readonly prefetch?: number;
  /** Changes a resume applied to the saved configuration (resume-config.ts), written to the log as notes. */
  readonly resumeNotes?: readonly string[];
  /** The run folder's lock, when the caller took it early (the CLI); else train() takes and releases it. */
  readonly lock?: RunLock;
  /** The loss-spike rule (health.ts); default DEFAULT_SPIKE_RULE. */
  readonly spikeRule?: SpikeRule;
}

export interface StepEvent {
  readonly step: number;
  readonly steps: number;
  readonly terms: LossTerms;
  readonly stepMs: number;
  /** Mean step time over this session (excludes compilation). */
  readonly meanStepMs: number;
  readonly etaMs: number;
}

export interface TrainCallbacks {
  readonly onCompiled?: (e: { readonly ms: number; readonly params: number; readonly tensors: number }) => void;
  readonly onResume?: (e: { readonly step: number; readonly path: string; readonly unreadable: number }) => void;
  readonly onStep?: (e: StepEvent) => void;
  readonly onSkip?: (e: SkipEvent) => void;
  readonly onCheckpoint?: (e: { readonly step: number; readonly path: string }) => void;
  readonly onValidation?: (e: { readonly step: number; readonly path: string }) => void;
}

export interface TrainResult {
  readonly state: OptimState;
  readonly checkpoint: string;
  readonly skipped: number;
}

export const CHECKPOINT_DIR = 'checkpoints';
export const LOG_FILE = 'log.jsonl';
export const VALIDATION_DIR = 'validation';

const pad = (n: number): string => String(n).padStart(8, '0');

export async function train(cfg: TrainConfig, inp: TrainInputs, cb: TrainCallbacks = {}): Promise<TrainResult> {
  if (inp.lock) return trainLocked(cfg, inp, cb);
  await mkdir(inp.outDir, { recursive: true });
  const lock = await lockRunFolder(inp.outDir);
  try {
    return await trainLocked(cfg, inp, cb);
  } finally {
    await lock.release();
  }
}

async function trainLocked(cfg: TrainConfig, inp: TrainInputs, cb: TrainCallbacks): Promise<TrainResult> {
  const ckptDir = join(inp.outDir, CHECKPOINT_DIR);
  const logPath = join(inp.outDir, LOG_FILE);
  await mkdir(ckptDir, { recursive: true });
  if (inp.validationImage && cfg.validateEvery > 0) await mkdir(join(inp.outDir, VALIDATION_DIR), { recursive: true });
  // The lock makes this run the folder's only writer: temporary files of killed earlier runs can go.
  for (const d of [inp.outDir, ckptDir, join(inp.outDir, VALIDATION_DIR)]) await removeStaleTemps(d);

  const t0 = performance.now();
  const graphOpts = { transformer: inp.transformer, lossNet: inp.lossNet, loss: cfg.objective, batch: cfg.batch, size: cfg.size };
  // tfjs differentiates the forward loss itself; ONNX runs the compiler's forward + backward + Adam graph.
  const tg =
    inp.stepBackend === 'tfjs' ? buildLossGraph(graphOpts) : buildTrainGraph({ ...graphOpts, adam: { beta1: cfg.beta1, beta2: cfg.beta2, epsilon: cfg.epsilon }, batchedAdam: inp.backend?.device === 'gpu' });
  const paramIds = tg.params.map((p) => p.id);

  // Non-trainable transformer parameters (batch-norm statistics) always come from the initial values.
  const init = new Map(inp.initialParams ?? initParams(paramsOf(inp.transformer), cfg.seed));
  const { state, loaderState, latest } = await startingState(inp, tg, init, ckptDir, logPath, cb);
  const frozen = new Map(lossNetWeights(inp.lossWeights));
  for (const p of tg.frozen) if (!frozen.has(p.id)) frozen.set(p.id, init.get(p.id) ?? missing(p.id));
  const step = await createStep(inp, tg, frozen, await styleTargets(cfg, inp), { lr: cfg.lr, beta1: cfg.beta1, beta2: cfg.beta2, epsilon: cfg.epsilon });
  const validator = inp.validationImage && cfg.validateEvery > 0 ? await Validator.create(inp.transformer, paramIds, inp.validationImage, inp.backend) : undefined;
  cb.onCompiled?.({ ms: performance.now() - t0, params: tg.params.reduce((s, p) => s + (p.shape as number[]).reduce((a, b) => a * b, 1), 0), tensors: tg.params.length });

  const loader = new DataLoader({
    files: inp.dataFiles,
    size: cfg.size,
    seed: cfg.seed,
    // A run takes up to stepsPerRun batches at once: keep them and one more decoding while it runs.
    prefetch: inp.prefetch ?? ((step.stepsPerRun ?? 1) + 1) * cfg.batch,
    ...(loaderState && { state: loaderState }),
    ...(cb.onSkip && { onSkip: cb.onSkip }),
  });

  const checkpoint = async (): Promise<string> => {
    await step.sync?.(state);
    if (step.sync) throwIfNonFinite();
    const meta: JsonObject = { config: cfg as unknown as JsonValue, loader: loader.state() as unknown as JsonValue };
    const path = await saveCheckpoint(ckptDir, { step: state.step, params: state.params, adamM: state.m, adamV: state.v, meta }, { keep: cfg.keep });
    cb.onCheckpoint?.({ step: state.step, path });
    return path;
  };
  const validate = async (): Promise<void> => {
    if (!validator) return;
    await step.sync?.(state);
    const path = join(inp.outDir, VALIDATION_DIR, `step-${pad(state.step)}.png`);
    await writeRgb8(path, await validator.render(state.params));
    cb.onValidation?.({ step: state.step, path });
  };

  let last = '';
  // The newest checkpoint on disk: what a diverged run's message points back to.
  let newest = latest ? `step ${latest.checkpoint.step} (${latest.path})` : 'none yet';
  const spikes = new LossSpikeDetector(inp.spikeRule);
  if (latest) spikes.seed((await readLog(logPath)).map((e) => e.loss!).filter((l) => Number.isFinite(l)));
  const diverged = (what: string, at = state.step): UserError =>
    new UserError(`training diverged at step ${at}: ${what}; the newest checkpoint is ${newest}; lower --lr (now ${cfg.lr}) or the loss weights`);
  const throwIfNonFinite = (): void => {
    const bad = firstNonFinite({ parameter: state.params, 'Adam moment m of': state.m, 'Adam moment v of': state.v });
    if (bad !== undefined) throw diverged(`${bad} is no longer finite`);
  };
  try {
    const startStep = state.step;
    const tStart = performance.now();
    while (state.step < cfg.steps) {
      const ts = performance.now();
      const first = state.step + 1;
      const batches: HostTensor[] = [];
      for (let i = stepsThisRun(state.step, cfg, step.stepsPerRun ?? 1); i > 0; i--) batches.push(await loader.nextBatch(cfg.batch));
      const runTerms = step.runSteps ? await step.runSteps(state, batches) : [await step.run(state, batches[0]!)];
      const stepMs = (performance.now() - ts) / runTerms.length;
      for (const [i, terms] of runTerms.entries()) {
        const at = first + i;
        if (!Number.isFinite(terms.loss!)) throw diverged(`the loss became ${terms.loss}`, at);
        await appendLog(logPath, { step: at, ...terms, ms: Math.round(stepMs * 10) / 10 });
        const spike = spikes.observe(at, terms.loss!);
        if (spike)
          throw diverged(
            `the median loss of the last steps, ${spike.median.toPrecision(3)}, is ${(spike.median / spike.reference).toFixed(1)}× its normal level ` +
              `${spike.reference.toPrecision(3)} since step ${spike.since}`,
            at,
          );
        // The run's steps share its time evenly, so the mean does not jump within a run of several.
        const meanStepMs = (ts - tStart + (i + 1) * stepMs) / (at - startStep);
        cb.onStep?.({ step: at, steps: cfg.steps, terms, stepMs, meanStepMs, etaMs: meanStepMs * (cfg.steps - at) });
      }
      // Checked every run, so no checkpoint ever holds a non-finite value (the loss shows it a step later); a
      // device-resident step's state is checked when it comes back, before each checkpoint.
      if (!step.sync) throwIfNonFinite();
      const end = state.step === cfg.steps;
      if (state.step % cfg.checkpointEvery === 0 || end) newest = `step ${state.step} (${(last = await checkpoint())})`;
      if (cfg.validateEvery > 0 && (state.step % cfg.validateEvery === 0 || end)) await validate();
    }
    if (!last) last = await checkpoint();
  } finally {
    await loader.close();
    await step.dispose();
    await validator?.dispose();
  }
  return { state, checkpoint: last, skipped: loader.skipped };
}

type Checkpointed = NonNullable<Awaited<ReturnType<typeof loadLatestCheckpoint>>>;

/**
 * The starting point: the newest checkpoint when resuming (the log cut back to its step, the resume's notes appended),
 * else the initial parameters (given weights or a seeded initialisation) with fresh moments and an empty log.
 */
async function startingState(
  inp: TrainInputs,
  tg: { readonly params: readonly Value[] },
  init: ReadonlyMap<string, HostTensor>,
  ckptDir: string,
  logPath: string,
  cb: TrainCallbacks,
): Promise<{ readonly state: OptimState; readonly loaderState?: LoaderState; readonly latest?: Checkpointed }> {
  const latest = inp.resume ? await loadLatestCheckpoint(ckptDir) : undefined;
  if (inp.resume && !latest) throw new UserError(`--resume: no readable checkpoint in ${ckptDir}`);
  if (latest) {
    const c = latest.checkpoint;
    for (const p of tg.params) if (!c.params.has(p.id) || !c.adamM.has(p.id) || !c.adamV.has(p.id)) throw new UserError(`${latest.path} lacks parameter ${p.id} of this network`);
    await truncateLog(logPath, c.step);
    for (const note of inp.resumeNotes ?? []) await appendNote(logPath, c.step, `resume: ${note}`);
    cb.onResume?.({ step: c.step, path: latest.path, unreadable: latest.unreadable.length });
    const state = { step: c.step, params: new Map(c.params), m: new Map(c.adamM), v: new Map(c.adamV) };
    return { state, loaderState: c.meta.loader as unknown as LoaderState, latest };
  }
  for (const p of tg.params) {
    const t = init.get(p.id);
    if (!t) throw new UserError(`no initial value for parameter ${p.id}`);
    if (t.data.length !== p.shape.reduce<number>((a, d) => a * (d as number), 1)) throw new UserError(`initial ${p.id} has shape [${t.shape}], expected [${p.shape}]`);
  }
  await truncateLog(logPath, 0);
  return { state: freshOptimState(new Map(tg.params.map((p) => [p.id, init.get(p.id)!]))) };
}

/** The style image's targets (Grams, means...) by key: computed once, on ONNX Runtime. */
async function styleTargets(cfg: TrainConfig, inp: TrainInputs): Promise<Map<string, HostTensor>> {
  const g = styleTargetGraph(inp.lossNet, cfg.objective, { H: inp.styleImage.height, W: inp.styleImage.width }, { H: cfg.size, W: cfg.size });
  const model = await new OnnxBackend().compile(g, inp.lossWeights, inp.backend);
  try {
    return new Map(Object.entries(await model.run({ [g.inputs[0]!]: { shape: [1, 3, inp.styleImage.height, inp.styleImage.width], data: inp.styleImage.data } })));
  } finally {
    await model.dispose();
  }
}

/** The step for the run's backend: tfjs, device-resident on the GPU (state stays there between steps), or ONNX on the CPU. */
async function createStep(inp: TrainInputs, tg: TrainGraph, frozen: WeightMap, targets: ReadonlyMap<string, HostTensor>, hyper: AdamHyper): Promise<TrainStep> {
  if (inp.stepBackend === 'tfjs') return TfjsTrainStep.create(tg, frozen, targets, hyper);
  return inp.backend?.device === 'gpu' ? ResidentTrainStep.create(tg, frozen, targets, hyper, inp.backend) : OnnxTrainStep.create(tg, frozen, targets, hyper, inp.backend);
}

/**
 * Steps the next run takes: up to `perRun`, stopping at the last step and at each checkpoint and validation
 * step, so that those land on a run's end and see its state.
 */
export function stepsThisRun(done: number, cfg: Pick<TrainConfig, 'steps' | 'checkpointEvery' | 'validateEvery'>, perRun: number): number {
  const toNext = (every: number): number => every - (done % every);
  let k = Math.min(perRun, cfg.steps - done, toNext(cfg.checkpointEvery));
  if (cfg.validateEvery > 0) k = Math.min(k, toNext(cfg.validateEvery));
  return k;
}

function missing(id: string): never {
  throw new UserError(`no value for the frozen parameter ${id}`);
}
