/**
 * Building each benchmark job for stc: compile bench/bench.style, specialise, bind seeded random
 * weights, and return a `step` closure that does exactly one job iteration on the chosen backend.
 * Inputs are seeded noise images in 0..255; Gatys targets are computed from two more noise images
 * by the engine's own target graphs (as `stc stylize` does); the training style Grams are those of
 * a noise style image. `onnx-int8` (inference only) is stc's static-QDQ int8 export
 * (src/backends/onnx/quantize.ts, default options) calibrated on two more noise images. `torch-onnx`
 * (inference only) is not stc: the same network exported by PyTorch's generic `torch.onnx.export`
 * (bench/torch_export.py), run by onnxruntime-node with stc's session options and threads.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSpec, pickNetwork } from '../src/cli/load-spec.ts';
import { selectAndSpecialize } from '../src/cli/commands/prepare.ts';
import type { Graph, HostTensor } from '../src/compiler/ir/types.ts';
import { flops } from '../src/compiler/ir/ops.ts';
import { concreteShapeOf } from '../src/compiler/passes/specialize.ts';
import { buildObjectiveGraphs, LOSS, type ObjectiveGraphs } from '../src/compiler/objective/build.ts';
import type { ObjectiveSpec } from '../src/compiler/objective/types.ts';
import { differentiate } from '../src/compiler/passes/autodiff/index.ts';
import { paramsOf } from '../src/compiler/ir/graph.ts';
import { selectOutputs } from '../src/compiler/passes/prune.ts';
import type { BackendOptions, CompiledModel, WeightMap } from '../src/backends/types.ts';
import type { QuantizeOptions } from '../src/backends/onnx/quantize.ts';
import { bindWeights } from '../src/weights/index.ts';
import { createGatysEngine } from '../src/runtime/gatys/engine.ts';
import { buildLossGraph, buildTrainGraph, lossNetWeights, styleTargetGraph, type JohnsonLossConfig } from '../src/runtime/train/train-graph.ts';
import { TfjsTrainStep } from '../src/runtime/train/tfjs-step.ts';
import { initParams } from '../src/runtime/train/init.ts';
import { OnnxTrainStep, freshOptimState, type TrainStep } from '../src/runtime/train/step.ts';

import { GATYS, TRAIN, type GatysNet, type Job } from './jobs.ts';

export const STC_BACKENDS = ['onnx', 'onnx-int8', 'tfjs', 'torch-onnx'] as const;
export type StcBackend = (typeof STC_BACKENDS)[number];
type FloatBackend = Exclude<StcBackend, 'onnx-int8' | 'torch-onnx'>;


export interface PreparedJob {
  /** One iteration; resolves when its results are on the host. */
  step(): Promise<void>;
  /**
   * Optimiser steps one iteration runs (default 1): the ONNX training job runs defaultStepsPerRun steps per session run,
   * as `stc train` does, and the bench reports time per step.
   */
  readonly stepsPerCall?: number;
  /** Conv/ConvTranspose/MatMul FLOPs of one step (an iteration over stepsPerCall), counted on the executed IR graph. */
  readonly flop: number;
  /** What the FLOP count and the step cover, for the notes. */
  readonly detail: string;
  /**
   * What one step computes, from fixed inputs and (for training) a fresh optimiser state, for comparing
   * devices (bench/gpu-conformance.ts): the output image, the loss and its image gradient, or the loss
   * terms and each parameter's gradient (from Adam's first moment). Not timed.
   */
  probe(): Promise<Record<string, Float32Array>>;
  dispose(): Promise<void>;
}

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const BENCH_SPEC = path.join(HERE, 'bench.style');

/** Seeded noise image in 0..255 (mulberry32), shape [n, 3, s, s]. */
export function noiseImage(n: number, s: number, seed: number): HostTensor {
  const data = new Float32Array(n * 3 * s * s);
  let a = seed >>> 0;
  for (let i = 0; i < data.length; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    data[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 255;
  }
  return { shape: [n, 3, s, s], data };
}

const COUNTED = new Set(['conv2d', 'convTranspose2d', 'matmul']);

/** Conv, transposed-conv and matmul FLOPs of a concrete-shape graph (the ops torch's flop counter counts). */
export function graphFlop(g: Graph): number {
  let total = 0;
  for (const n of g.nodes) {
    if (!COUNTED.has(n.op)) continue;
    total += flops(n.op, n.inputs.map((i) => concreteShapeOf(g, i)), n.outputs.map((o) => concreteShapeOf(g, o)), n.attrs as never);
  }
  return total;
}

export function network(name: string) {
  return pickNetwork(loadSpec(BENCH_SPEC), name);
}

export async function randomWeights(g: Graph, specDir: string, seed = 1): Promise<WeightMap> {
  return bindWeights(g, { kind: 'random', seed }, { specDir });
}

/** Options of the bench's own, beyond the backend's: the ONNX training step's steps per session run (default defaultStepsPerRun). */
export interface JobOptions {
  readonly stepsPerRun?: number;
}

export async function prepareJob(job: Job, backend: StcBackend, opts: BackendOptions, jobOpts: JobOptions = {}): Promise<PreparedJob> {
  if (job.kind === 'inference') return prepareInference(job, backend, opts);
  if (backend === 'onnx-int8' || backend === 'torch-onnx') throw new Error(`bench: backend ${backend} runs inference jobs only, not ${job.id}`);
  return job.kind === 'gatys' ? prepareGatys(job, backend, opts) : prepareTrain(job, backend, opts, jobOpts);
}

/** The bench's Johnson-IN transformer specialised to size × size, with seeded random weights. */
export async function johnsonInference(size: number): Promise<{ readonly graph: Graph; readonly weights: WeightMap; readonly input: string }> {
  const net = network('johnson_in');
  const graph = selectAndSpecialize(net, { size: { height: size, width: size } });
  return { graph, weights: await randomWeights(graph, net.specDir), input: graph.inputs[0]! };
}

/** Side of the noise images int8 calibration runs on (see int8Model). */
export const CALIBRATION_SIZE = 64;

/**
 * An inference graph as stc's int8 QDQ model (default QuantizeOptions: channel-equalised, first and
 * last conv kept float32), calibrated on two seeded noise images (seeds 2 and 3; the timed input is
 * seed 1) run through `calibration` (default `g`): the same network specialised to a small size, so
 * calibration's float run does not count in the job's peak RSS (a user calibrates once, at export,
 * in another process).
 */
export async function int8Model(g: Graph, weights: WeightMap, opts: BackendOptions & QuantizeOptions, calibration: Graph = g): Promise<CompiledModel> {
  const { loadOnnxModel } = await import('../src/backends/onnx/index.ts');
  const { floatModelProto, quantizeToBytes } = await import('../src/backends/onnx/quantize.ts');
  const input = calibration.inputs[0]!;
  const [n, , s] = concreteShapeOf(calibration, input);
  const feeds = [2, 3].map((seed) => ({ [input]: noiseImage(n!, s!, seed) }));
  return loadOnnxModel(await quantizeToBytes(floatModelProto(g, weights, opts), feeds, opts, floatModelProto(calibration, weights, opts)), opts);
}

/**
 * bench/torch_export.py's ONNX file of the Johnson-IN transformer at size × size, exported once per size and
 * kept in the temp directory (exporting is setup, and takes tens of seconds on a loaded machine) until the
 * script changes.
 */
export function torchExport(size: number): Uint8Array {
  const dir = path.join(tmpdir(), 'stc-bench-torch-export');
  const file = path.join(dir, `johnson_in-${size}.onnx`);
  const script = path.join(HERE, 'torch_export.py');
  if (!existsSync(file) || statSync(file).mtimeMs < statSync(script).mtimeMs) {
    mkdirSync(dir, { recursive: true });
    const r = spawnSync(process.env.PYTHON ?? 'python3', [script, '--size', String(size), '--out', file], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`torch.onnx.export failed: ${(r.stderr || String(r.error)).trim().split('\n').pop()}`);
  }
  return readFileSync(file);
}

/**
 * stc-onnx's inference job is the per-image time of a folder or video of that size through `stc apply spec.style`,
 * so its options are the ones `--winograd auto` picks there (Winograd F(4×4, 3×3) from 256²); one image (`stc run`)
 * compiles without it, and bench/first-image.ts times that. Options given explicitly (`winograd: false`, as
 * bench/profile.ts --no-winograd passes) win.
 */
async function folderChoice(job: Job, opts: BackendOptions): Promise<BackendOptions> {
  const { AUTO_MIN_IMAGES, isLargeImage, winogradFor } = await import('../src/runtime/apply/winograd-choice.ts');
  const on = (opts.device ?? 'cpu') === 'cpu' && winogradFor('auto', { largeImages: isLargeImage(job.size, job.size) ? AUTO_MIN_IMAGES : 0 });
  return on ? { winograd: true } : {};
}

async function inferenceModel(g: Graph, weights: WeightMap, job: Job, backend: StcBackend, opts: BackendOptions): Promise<CompiledModel> {
  switch (backend) {
    case 'onnx':
      return new (await import('../src/backends/onnx/index.ts')).OnnxBackend().compile(g, weights, { ...(await folderChoice(job, opts)), ...opts });
    case 'onnx-int8':
      return int8Model(g, weights, opts, (await johnsonInference(CALIBRATION_SIZE)).graph);
    case 'tfjs':
      return new (await import('../src/backends/tfjs/index.ts')).TfjsBackend().compile(g, weights, opts);
    case 'torch-onnx':
      return (await import('../src/backends/onnx/index.ts')).loadOnnxModel(torchExport(job.size), opts);
  }
}

async function prepareInference(job: Job, backend: StcBackend, opts: BackendOptions): Promise<PreparedJob> {
  const { graph: g, weights, input } = await johnsonInference(job.size);
  const model = await inferenceModel(g, weights, job, backend, opts);
  const feeds = { [model.inputNames[0] ?? input]: noiseImage(job.batch, job.size, 1) };
  return {
    step: async () => void (await model.run(feeds)),
    probe: async () => Object.fromEntries(Object.entries(await model.run(feeds)).map(([k, t]) => [k, t.data])),
    flop: graphFlop(g),
    detail: backend === 'onnx-int8' ? 'forward, int8 QDQ convs (FLOPs: the float32 graph\'s)' : backend === 'torch-onnx' ? 'forward, torch.onnx.export\'s graph (FLOPs: stc\'s graph\'s)' : 'forward',
    dispose: () => model.dispose(),
  };
}

export function gatysSpec(net: GatysNet): ObjectiveSpec {
  const c = GATYS[net];
  return {
    name: `bench-${net}`,
    lossNet: c.specNetwork,
    terms: [
      { kind: 'content', taps: [{ tap: c.content, weight: 1 }], weight: c.alpha, attrs: { norm: 'half_sum' } },
      { kind: 'style', taps: c.style.map((tap) => ({ tap, weight: 1 / c.style.length })), weight: c.beta, attrs: { norm: 'gatys' } },
      { kind: 'tv', taps: [], weight: c.tv, attrs: { norm: 'sum' } },
    ],
  };
}

async function prepareGatys(job: Job, backend: FloatBackend, opts: BackendOptions): Promise<PreparedJob> {
  const spec = gatysSpec(job.network as GatysNet);
  const net = network(spec.lossNet);
  const graphs = buildObjectiveGraphs(spec, net.graph, { size: { H: job.size, W: job.size } });
  const x = noiseImage(1, job.size, 1).data;
  const flop = graphFlop(differentiate(graphs.step, { loss: LOSS, wrt: [graphs.imageInput] }));
  return backend === 'onnx' ? gatysOnnx(graphs, net.specDir, job.size, x, flop, opts) : gatysTfjs(graphs, net.specDir, job.size, x, flop, opts);
}

/** The engine's targets for the bench's seeded content (seed 2) and style (seed 3) images. */
async function gatysTargets(engine: Awaited<ReturnType<typeof createGatysEngine>>, size: number): Promise<Record<string, HostTensor>> {
  return { ...(await engine.contentTargets(noiseImage(1, size, 2))), ...(await engine.styleTargets(noiseImage(1, size, 3))) };
}

/**
 * The engine's step, as `stc stylize` runs it: the weights are local to this function's set-up, so once the
 * engine has compiled the step (ORT's own copy) nothing holds the WeightMap (src/runtime/gatys/stylize.ts).
 */
async function gatysOnnx(graphs: ObjectiveGraphs, specDir: string, size: number, x: Float32Array, flop: number, opts: BackendOptions): Promise<PreparedJob> {
  const engine = await createGatysEngine(graphs, await randomWeights(graphs.step, specDir), 'onnx', opts);
  const step = engine.bindTargets(await gatysTargets(engine, size));
  return {
    step: async () => void (await step(x)),
    probe: async () => {
      const r = await step(x);
      return { loss: Float32Array.of(r.loss), grad: r.grad };
    },
    flop,
    detail: 'loss + gradient w.r.t. the image',
    dispose: () => engine.dispose(),
  };
}

/** tfjs: the gradient evaluation alone (tf.valueAndGrads), not the engine's extra forward run for per-term values. */
async function gatysTfjs(graphs: ObjectiveGraphs, specDir: string, size: number, x: Float32Array, flop: number, opts: BackendOptions): Promise<PreparedJob> {
  const weights = await randomWeights(graphs.step, specDir);
  const engine = await createGatysEngine(graphs, weights, 'tfjs', opts);
  const targets = await gatysTargets(engine, size);
  await engine.dispose();
  const { tfjsValueAndGrads } = await import('../src/backends/tfjs/index.ts');
  const feeds: Record<string, HostTensor> = { [graphs.imageInput]: { shape: [1, 3, size, size], data: x } };
  for (const [tap, id] of graphs.contentInputs) feeds[id] = targets[`content:${tap}`]!;
  for (const [tap, id] of graphs.styleInputs) feeds[id] = targets[`style:${tap}`]!;
  return {
    step: async () => void (await tfjsValueAndGrads(graphs.step, weights, feeds, LOSS, [graphs.imageInput])),
    probe: async () => {
      const r = await tfjsValueAndGrads(graphs.step, weights, feeds, LOSS, [graphs.imageInput]);
      return { loss: Float32Array.of(r.value), grad: r.grads[graphs.imageInput]!.data };
    },
    flop,
    detail: 'loss + gradient w.r.t. the image (tf.valueAndGrads)',
    dispose: async () => {},
  };
}

const ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

/** The training job's loss: Johnson's, on TRAIN's taps and weights. */
export function trainLoss(): JohnsonLossConfig {
  return {
    contentTaps: TRAIN.content.map((tap) => ({ tap, weight: 1 })),
    styleTaps: TRAIN.style.map((tap) => ({ tap, weight: 1 })),
    contentWeight: TRAIN.alpha,
    styleWeight: TRAIN.beta,
    tvWeight: TRAIN.tv,
  };
}

async function prepareTrain(job: Job, backend: FloatBackend, opts: BackendOptions, jobOpts: JobOptions): Promise<PreparedJob> {
  const transformer = network('johnson_in');
  const lossNet = network(TRAIN.lossNet);
  const loss = trainLoss();
  const graphOpts = { transformer: transformer.graph, lossNet: lossNet.graph, loss, batch: job.batch, size: job.size };
  // The ONNX step graph (forward, backward, Adam); its FLOPs are reported for both backends.
  const tg = buildTrainGraph({ ...graphOpts, adam: ADAM, batchedAdam: opts.device === 'gpu' });
  const lossWeights = await randomWeights(selectOutputs(lossNet.graph, TRAIN.style.concat(TRAIN.content)), lossNet.specDir);
  const init = initParams(paramsOf(transformer.graph), 0);
  const frozen = new Map(lossNetWeights(lossWeights));
  for (const p of tg.frozen) if (!frozen.has(p.id)) frozen.set(p.id, init.get(p.id)!);
  // Style Grams of a noise style image, computed on the ONNX backend (setup, not timed).
  const { OnnxBackend } = await import('../src/backends/onnx/index.ts');
  const sg = styleTargetGraph(lossNet.graph, loss, { H: job.size, W: job.size });
  const sm = await new OnnxBackend().compile(sg, lossWeights, opts);
  const so = await sm.run({ [sg.inputs[0]!]: noiseImage(1, job.size, 3) });
  await sm.dispose();
  const targets = new Map(Object.entries(so));
  const batch = noiseImage(job.batch, job.size, 1);
  const flop = graphFlop(tg.graph);
  const hyper = { lr: TRAIN.lr, ...ADAM };
  const trainable = new Map(tg.params.map((p) => [p.id, init.get(p.id)!]));
  const step: TrainStep =
    backend === 'onnx'
      ? await OnnxTrainStep.create(tg, frozen, targets, hyper, opts, jobOpts.stepsPerRun !== undefined ? { stepsPerRun: jobOpts.stepsPerRun } : {})
      : // tfjs: `stc train --backend tfjs`'s step — tf.valueAndGrads over the loss graph, Adam on the host.
        await TfjsTrainStep.create(buildLossGraph(graphOpts), frozen, targets, hyper);
  const state = freshOptimState(trainable);
  const perCall = step.stepsPerRun ?? 1;
  const batches = Array.from({ length: perCall }, () => batch);
  return {
    step: async () => void (step.runSteps ? await step.runSteps(state, batches) : await step.run(state, batch)),
    stepsPerCall: perCall,
    probe: async () => {
      const fresh = freshOptimState(trainable);
      const terms = await step.run(fresh, batch);
      const out: Record<string, Float32Array> = Object.fromEntries(Object.entries(terms).map(([k, v]) => [k, Float32Array.of(v)]));
      // Each parameter's gradient, read off Adam's first moment (m₁ = (1 − β₁)·g). Not the update: Adam's first
      // step is ≈ −lr·sign(g), whose sign is noise where the true gradient is zero (conv biases before instance norm).
      for (const [id, t] of fresh.m) out[id] = t.data.map((v) => v / (1 - ADAM.beta1));
      return out;
    },
    flop,
    detail:
      backend === 'onnx'
        ? `forward, backward and Adam update (${perCall} steps per session run, as stc train; time per step)`
        : 'forward, backward (tf.valueAndGrads), Adam on the host',
    dispose: () => step.dispose(),
  };
}
