/**
 * The device-resident training step (runtime/train/resident-step.ts): on the CPU it follows OnnxTrainStep (the
 * host-resident step) step for step, resumes from a synced state exactly as an uninterrupted run, and keeps a
 * constant number of live device tensors (each step frees the state it superseded); per step only the data batch
 * goes up and the loss scalars come down (Adam's bias corrections are device-side state), on the CPU and on WebGPU
 * over SwiftShader, where it also matches the CPU. Tiny nets, 16², batch 1.
 * Tolerance: relative L2 per parameter ≤ 1e-4 (float32, different devices and summation orders).
 */
import { describe, expect, it, vi } from 'vitest';
import { paramsOf } from '../../../src/compiler/ir/graph.ts';
import type { HostTensor } from '../../../src/compiler/ir/types.ts';
import type { AdamHyper } from '../../../src/compiler/passes/adam-update.ts';
import type { BackendOptions } from '../../../src/backends/types.ts';
import { Rng } from '../../../src/runtime/data/rng.ts';
import { initParams } from '../../../src/runtime/train/init.ts';
import { ResidentTrainStep } from '../../../src/runtime/train/resident-step.ts';
import { OnnxTrainStep, cloneOptimState, freshOptimState, type OptimState, type TrainStep } from '../../../src/runtime/train/step.ts';
import { buildTrainGraph, lossNetWeights, type TrainGraph } from '../../../src/runtime/train/train-graph.ts';
import type { WeightMap } from '../../../src/backends/types.ts';
import { TINY_LOSS, tinyLossNet, tinyTransformer } from './tiny-nets.ts';
import { SWIFTSHADER_ICD, useSwiftShader } from '../../backends/onnx/swiftshader.ts';
import type { ResidentTensor } from '../../../src/backends/onnx/index.ts';
import { symmetricMatrices } from '../../compiler/ir/seeded-symmetric.ts';

// Every ResidentTensor the backend makes (run outputs kept on the device, uploads), to count the live ones: a
// disposed ORT tensor's location is 'none'.
const made = vi.hoisted(() => [] as ResidentTensor[]);
vi.mock('../../../src/backends/onnx/resident.ts', async (original) => {
  const mod = await original<typeof import('../../../src/backends/onnx/resident.ts')>();
  return { ...mod, residentOf: (t: Parameters<typeof mod.residentOf>[0]) => made[made.push(mod.residentOf(t)) - 1]! };
});
const liveTensors = (): number => made.filter((t) => t.ort.location !== 'none').length;

const S = 16;
const STEPS = 3;
const HYPER: AdamHyper = { lr: 1e-2, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
const batchBytes = 3 * S * S * 4;

function setup(): { tg: TrainGraph; frozen: WeightMap; targets: Map<string, HostTensor>; state: () => OptimState; batches: HostTensor[] } {
  const loss = tinyLossNet();
  const tg = buildTrainGraph({ transformer: tinyTransformer(), lossNet: loss.graph, loss: TINY_LOSS, batch: 1, size: S, adam: HYPER, batchedAdam: true });
  const frozen = new Map(lossNetWeights(loss.weights));
  const init = initParams(paramsOf(tinyTransformer()), 2);
  for (const p of tg.frozen) if (!frozen.has(p.id)) frozen.set(p.id, init.get(p.id)!);
  const rng = Rng.fromSeed(9);
  const batches = Array.from({ length: STEPS }, () => ({ shape: [1, 3, S, S], data: Float32Array.from({ length: 3 * S * S }, () => 255 * rng.next()) }));
  // Seeded style targets of the graph's shapes: symmetric, as the Grams they stand for are (the graph marks its
  // Gram targets symmetric, Value.symmetric, and the GPU's Gram gradient relies on it).
  const targets = new Map([...tg.styleTargetShapes].map(([key, shape]) => [key, { shape: [...shape], data: symmetricMatrices(shape, () => rng.next()) }]));
  return { tg, frozen, targets, state: () => freshOptimState(new Map(tg.params.map((p) => [p.id, init.get(p.id)!]))), batches };
}

function relL2(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) ((num += (a[i]! - b[i]!) ** 2), (den += b[i]! ** 2));
  return Math.sqrt(num / Math.max(den, 1e-30));
}

type Make = (tg: TrainGraph, frozen: WeightMap, targets: ReadonlyMap<string, HostTensor>) => Promise<TrainStep>;

interface Run {
  state: OptimState;
  losses: number[];
  perStep: { up: number; down: number }[];
  /** Live device tensors made during the run, after each step and after dispose. */
  live: number[];
  liveAfter: number;
}

async function train(make: Make): Promise<Run> {
  const { tg, frozen, targets, state: fresh, batches } = setup();
  const live0 = liveTensors();
  const step = await make(tg, frozen, targets);
  const state = fresh();
  const losses: number[] = [];
  const perStep: { up: number; down: number }[] = [];
  const live: number[] = [];
  for (const b of batches) {
    const before = step instanceof ResidentTrainStep ? { ...step.transfer } : { up: 0, down: 0 };
    losses.push((await step.run(state, b)).loss!);
    if (step instanceof ResidentTrainStep) perStep.push({ up: step.transfer.up - before.up, down: step.transfer.down - before.down });
    live.push(liveTensors() - live0);
  }
  if (step instanceof ResidentTrainStep) await step.sync(state);
  const copy = cloneOptimState(state);
  await step.dispose();
  return { state: copy, losses, perStep, live, liveAfter: liveTensors() - live0 };
}

/** Device tensors a resident step holds: the style targets, each trained parameter and its two moments, d1, d2. */
const residentCount = (tg: TrainGraph): number => tg.styleTargetShapes.size + 3 * tg.params.length + 2;

const residentStep = (tg: TrainGraph, frozen: WeightMap, targets: ReadonlyMap<string, HostTensor>, opts: BackendOptions = {}): Promise<ResidentTrainStep> =>
  ResidentTrainStep.create(tg, frozen, targets, HYPER, { threads: 1, ...opts });
const resident = (opts: BackendOptions): Make => (tg, frozen, targets) => residentStep(tg, frozen, targets, opts);

function expectSameTraining(a: Run, b: Run, tol: number): void {
  expect(a.state.step).toBe(STEPS);
  for (let i = 0; i < STEPS; i++) expect(Math.abs(a.losses[i]! - b.losses[i]!)).toBeLessThanOrEqual(tol * Math.abs(b.losses[i]!));
  // Not conv1.bias: it feeds an instance norm, so its gradient is zero in exact arithmetic and its float32 gradient
  // is rounding noise that Adam's m/√v scales to full-size steps: it differs between devices by up to lr per step
  // (2.5e-3 relative on SwiftShader), and no tolerance tied to the arithmetic bounds it.
  for (const [id, t] of b.state.params) if (id !== 'conv1.bias') expect(relL2(a.state.params.get(id)!.data, t.data), id).toBeLessThanOrEqual(tol);
}

describe('ResidentTrainStep on the CPU', () => {
  it('follows the host-resident OnnxTrainStep step for step, and sync brings the trained parameters back', async () => {
    const host = await train((tg, frozen, targets) => OnnxTrainStep.create(tg, frozen, targets, HYPER, { threads: 1 }));
    const res = await train(resident({}));
    expectSameTraining(res, host, 1e-6);
    // The parameters moved: a step that never wrote the state back would fail here.
    const init = setup().state();
    expect([...init.params].some(([id, t]) => relL2(res.state.params.get(id)!.data, t.data) > 1e-4)).toBe(true);
    // Past the first step (which uploads the state): the batch up, the loss scalars down.
    for (const s of res.perStep.slice(1)) expect(s).toEqual({ up: batchBytes, down: (1 + setup().tg.termOutputs.length) * 4 });
  }, 60_000);

  it('resumed from a synced state (a checkpoint) in a new step, equals the uninterrupted run bit for bit', async () => {
    const whole = await train(resident({}));
    const { tg, frozen, targets, state: fresh, batches } = setup();
    const first = await residentStep(tg, frozen, targets);
    const state = fresh();
    for (const b of batches.slice(0, 2)) await first.run(state, b);
    await first.sync(state);
    const saved = cloneOptimState(state);
    await first.dispose();
    // Adam's step state is not in the checkpoint: the new step must restore it from the step count.
    const second = await residentStep(tg, frozen, targets);
    const losses: number[] = [];
    for (const b of batches.slice(2)) losses.push((await second.run(saved, b)).loss!);
    await second.sync(saved);
    await second.dispose();
    expect(saved.step).toBe(STEPS);
    expect(losses).toEqual(whole.losses.slice(2));
    for (const key of ['params', 'm', 'v'] as const)
      for (const [id, t] of whole.state[key]) expect(Buffer.from(saved[key].get(id)!.data.buffer).equals(Buffer.from(t.data.buffer)), `${key} ${id}`).toBe(true);
  }, 60_000);

  it('keeps a constant number of live device tensors over the steps, a state switch and a sync; none after dispose', async () => {
    const { tg, frozen, targets, state: fresh, batches } = setup();
    const before = liveTensors();
    const step = await residentStep(tg, frozen, targets);
    const state = fresh();
    const expected = residentCount(tg);
    const live: number[] = [];
    for (const b of [...batches, ...batches]) {
      await step.run(state, b);
      live.push(liveTensors() - before);
    }
    await step.sync(state);
    live.push(liveTensors() - before);
    await step.run(fresh(), batches[0]!);
    live.push(liveTensors() - before);
    expect(live).toEqual(live.map(() => expected));
    await step.dispose();
    expect(liveTensors()).toBe(before);
  }, 60_000);
});

const icd = SWIFTSHADER_ICD();
if (!icd) console.warn('resident-step.test: SwiftShader part skipped: no SwiftShader Vulkan ICD (chromium-common); `apt-get install chromium` to run it');

describe.skipIf(!icd)('ResidentTrainStep on WebGPU over SwiftShader', () => {
  useSwiftShader(icd!);

  it('moves only the batch up and the loss scalars down per step, and matches the CPU', async () => {
    const gpu = await train(resident({ device: 'gpu' }));
    const cpu = await train(resident({}));
    const terms = setup().tg.termOutputs.length;
    for (const s of gpu.perStep.slice(1)) expect(s).toEqual({ up: batchBytes, down: (1 + terms) * 4 });
    // Each step frees the GPU buffers it superseded: as many live after every step, none after dispose.
    expect(gpu.live).toEqual(gpu.live.map(() => residentCount(setup().tg)));
    expect(gpu.liveAfter).toBe(0);
    expectSameTraining(gpu, cpu, 1e-4);
  }, 300_000);
});
