/**
 * The device-resident training step (runtime/train/resident-step.ts): on the CPU it follows OnnxTrainStep (the
 * host-resident step) step for step; on WebGPU over SwiftShader it matches the CPU and, in steady state, moves
 * only the data batch and Adam's two scalars up and the loss scalars down per step. Tiny nets, 16², batch 1.
 * Tolerance: relative L2 per parameter ≤ 1e-4 (float32, different devices and summation orders).
 */
import { describe, expect, it } from 'vitest';
import { paramsOf } from '../../../src/compiler/ir/graph.ts';
import type { HostTensor } from '../../../src/compiler/ir/types.ts';
import type { AdamHyper } from '../../../src/compiler/passes/adam-update.ts';
import type { BackendOptions } from '../../../src/backends/types.ts';
import { Rng } from '../../../src/runtime/data/rng.ts';
import { initParams } from '../../../src/runtime/train/init.ts';
import { ResidentTrainStep } from '../../../src/runtime/train/resident-step.ts';
import { OnnxTrainStep, freshOptimState, type OptimState, type TrainStep } from '../../../src/runtime/train/step.ts';
import { buildTrainGraph, lossNetWeights, type TrainGraph } from '../../../src/runtime/train/train-graph.ts';
import type { WeightMap } from '../../../src/backends/types.ts';
import { TINY_LOSS, tinyLossNet, tinyTransformer } from './tiny-nets.ts';
import { SWIFTSHADER_ICD, useSwiftShader } from '../../backends/onnx/swiftshader.ts';

const S = 16;
const STEPS = 3;
const HYPER: AdamHyper = { lr: 1e-2, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

function setup(): { tg: TrainGraph; frozen: WeightMap; targets: Map<string, HostTensor>; state: () => OptimState; batches: HostTensor[] } {
  const loss = tinyLossNet();
  const tg = buildTrainGraph({ transformer: tinyTransformer(), lossNet: loss.graph, loss: TINY_LOSS, batch: 1, size: S, adam: HYPER, batchedAdam: true });
  const frozen = new Map(lossNetWeights(loss.weights));
  const init = initParams(paramsOf(tinyTransformer()), 2);
  for (const p of tg.frozen) if (!frozen.has(p.id)) frozen.set(p.id, init.get(p.id)!);
  const rng = Rng.fromSeed(9);
  const batches = Array.from({ length: STEPS }, () => ({ shape: [1, 3, S, S], data: Float32Array.from({ length: 3 * S * S }, () => 255 * rng.next()) }));
  // Seeded style targets of the graph's shapes (a Gram is what the loss compares with; any values exercise the step).
  const targets = new Map([...tg.styleTargetShapes].map(([key, shape]) => [key, { shape: [...shape], data: Float32Array.from({ length: shape.reduce((a, c) => a * c, 1) }, () => rng.next()) }]));
  return { tg, frozen, targets, state: () => freshOptimState(new Map(tg.params.map((p) => [p.id, init.get(p.id)!]))), batches };
}

function relL2(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) ((num += (a[i]! - b[i]!) ** 2), (den += b[i]! ** 2));
  return Math.sqrt(num / Math.max(den, 1e-30));
}

type Make = (tg: TrainGraph, frozen: WeightMap, targets: ReadonlyMap<string, HostTensor>) => Promise<TrainStep>;

async function train(make: Make): Promise<{ state: OptimState; losses: number[]; perStep: { up: number; down: number }[] }> {
  const { tg, frozen, targets, state: fresh, batches } = setup();
  const step = await make(tg, frozen, targets);
  const state = fresh();
  const losses: number[] = [];
  const perStep: { up: number; down: number }[] = [];
  for (const b of batches) {
    const before = step instanceof ResidentTrainStep ? { ...step.transfer } : { up: 0, down: 0 };
    losses.push((await step.run(state, b)).loss!);
    if (step instanceof ResidentTrainStep) perStep.push({ up: step.transfer.up - before.up, down: step.transfer.down - before.down });
  }
  if (step instanceof ResidentTrainStep) await step.sync(state);
  const copy = { ...state, params: new Map([...state.params].map(([k, t]) => [k, { shape: t.shape, data: t.data.slice() }])) };
  await step.dispose();
  return { state: copy, losses, perStep };
}

const resident = (opts: BackendOptions): Make => (tg, frozen, targets) => ResidentTrainStep.create(tg, frozen, targets, HYPER, { threads: 1, ...opts });

function expectSameTraining(a: Awaited<ReturnType<typeof train>>, b: Awaited<ReturnType<typeof train>>, tol: number): void {
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
  }, 60_000);
});

const icd = SWIFTSHADER_ICD();
if (!icd) console.warn('resident-step.test: SwiftShader part skipped: no SwiftShader Vulkan ICD (chromium-common); `apt-get install chromium` to run it');

describe.skipIf(!icd)('ResidentTrainStep on WebGPU over SwiftShader', () => {
  useSwiftShader(icd!);

  it('moves only the batch and Adam\'s scalars up and the loss scalars down per step, and matches the CPU', async () => {
    const gpu = await train(resident({ device: 'gpu' }));
    const cpu = await train(resident({}));
    const terms = setup().tg.termOutputs.length;
    for (const s of gpu.perStep.slice(1)) expect(s).toEqual({ up: 3 * S * S * 4 + 2 * 4, down: (1 + terms) * 4 });
    expectSameTraining(gpu, cpu, 1e-4);
  }, 300_000);
});
