/**
 * OnnxTrainStep runs its steps in an ONNX Loop: bit for bit the step graph run once per step.
 * Its buffer reuse (ORT writes updated parameters and moments into reused buffers)
 * against fresh ORT-allocated outputs: the same computation, so bit-identical, step by step, on
 * tiny networks (tiny-nets.ts), 16x16 images, batch 2. Also: reuse really happens (ping-pong),
 * and tensors the step did not write (initial values, swapped-in tensors) are never overwritten.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostTensor } from '../../../src/compiler/ir/types.ts';
import type { WeightMap } from '../../../src/backends/types.ts';
import { OnnxBackend, type OnnxModel } from '../../../src/backends/onnx/index.ts';
import { paramsOf } from '../../../src/compiler/ir/graph.ts';
import { Rng } from '../../../src/runtime/data/rng.ts';
import { initParams } from '../../../src/runtime/train/init.ts';
import { OnnxTrainStep, SHORT_STEPS_PER_RUN, cloneOptimState, defaultStepsPerRun, freshOptimState, type LossTerms, type OptimState } from '../../../src/runtime/train/step.ts';
import { CONTENT_INPUT, LOSS_OUTPUT, buildTrainGraph, lossNetWeights, styleTargetFeeds, styleTargetGraph, type TrainGraph } from '../../../src/runtime/train/train-graph.ts';
import { ADAM_ALPHA, ADAM_R, adamScalars, mName, newMName, newParamName, newVName, vName } from '../../../src/compiler/passes/adam-update.ts';
import { TINY_LOSS, tinyLossNet, tinyTransformer } from './tiny-nets.ts';
import { SWIFTSHADER_ICD, useSwiftShader } from '../../backends/onnx/swiftshader.ts';

const HYPER = { lr: 1e-2, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
const B = 2;
const S = 16;
const STEPS = 5;

function image(n: number, h: number, w: number, seed: number): HostTensor {
  const rng = Rng.fromSeed(seed);
  return { shape: [n, 3, h, w], data: Float32Array.from({ length: n * 3 * h * w }, () => Math.fround(255 * rng.next())) };
}
const bits = (t: HostTensor): Buffer => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
const batches = Array.from({ length: STEPS }, (_, k) => image(B, S, S, k + 1));

/** Every tensor of `a` bit-equal to `b`'s. */
function expectSameState(a: OptimState, b: OptimState): void {
  expect(a.step).toBe(b.step);
  for (const key of ['params', 'm', 'v'] as const) {
    expect([...a[key].keys()]).toEqual([...b[key].keys()]);
    for (const [id, t] of a[key]) expect(bits(t).equals(bits(b[key].get(id)!)), `${key} ${id} at step ${a.step}`).toBe(true);
  }
}

/** The tiny training graph (batch B, S²), the loss network's weights, and the style targets of a seeded 20² image. */
async function tinyStep(): Promise<{ tg: TrainGraph; frozen: WeightMap; targets: Map<string, HostTensor> }> {
  const loss = tinyLossNet();
  const tg = buildTrainGraph({ transformer: tinyTransformer(), lossNet: loss.graph, loss: TINY_LOSS, batch: B, size: S, adam: HYPER });
  const sg = styleTargetGraph(loss.graph, TINY_LOSS, { H: 20, W: 20 });
  const sm = await new OnnxBackend().compile(sg, loss.weights, { threads: 1 });
  const targets = new Map(Object.entries(await sm.run({ [sg.inputs[0]!]: image(1, 20, 20, 7) })));
  await sm.dispose();
  return { tg, frozen: lossNetWeights(loss.weights), targets };
}

describe('OnnxTrainStep buffer reuse', () => {
  let reusing: OnnxTrainStep;
  let fresh: OnnxTrainStep;
  let start: OptimState;
  let plain: OnnxModel;
  let tg: TrainGraph;
  let fixed: Record<string, HostTensor>;

  beforeAll(async () => {
    const setup = await tinyStep();
    tg = setup.tg;
    const { frozen, targets } = setup;
    reusing = await OnnxTrainStep.create(tg, frozen, targets, HYPER, { threads: 1 });
    // The step graph itself, one run per step: what the Loop in OnnxTrainStep must reproduce.
    plain = await new OnnxBackend().compile(tg.graph, frozen, { threads: 1 });
    fixed = styleTargetFeeds(tg.styleTargetShapes, targets);
    fresh = await OnnxTrainStep.create(tg, frozen, targets, HYPER, { threads: 1 }, { reuseBuffers: false });
    start = freshOptimState(initParams(paramsOf(tinyTransformer()), 3));
  });
  afterAll(async () => {
    await reusing?.dispose();
    await fresh?.dispose();
    await plain?.dispose();
  });

  /** One step of the plain step graph: state in, state out (new maps), loss terms. */
  async function plainStep(s: OptimState, batch: HostTensor): Promise<{ state: OptimState; loss: number }> {
    const { alpha, r } = adamScalars(HYPER, s.step + 1);
    const feeds: Record<string, HostTensor> = { ...fixed, [CONTENT_INPUT]: batch, [ADAM_ALPHA]: { shape: [1], data: Float32Array.of(alpha) }, [ADAM_R]: { shape: [1], data: Float32Array.of(r) } };
    for (const p of tg.params) Object.assign(feeds, { [p.id]: s.params.get(p.id)!, [mName(p.id)]: s.m.get(p.id)!, [vName(p.id)]: s.v.get(p.id)! });
    const out = await plain.run(feeds);
    const next: OptimState = { step: s.step + 1, params: new Map(), m: new Map(), v: new Map() };
    for (const p of tg.params) {
      next.params.set(p.id, out[newParamName(p.id)]!);
      next.m.set(p.id, out[newMName(p.id)]!);
      next.v.set(p.id, out[newVName(p.id)]!);
    }
    return { state: next, loss: out[LOSS_OUTPUT]!.data[0]! };
  }

  it('runs 1 to stepsPerRun steps per run bit for bit as the step graph run once per step', async () => {
    let ref = cloneOptimState(start);
    const refLosses: number[] = [];
    for (const batch of batches) {
      const r = await plainStep(ref, batch);
      ref = r.state;
      refLosses.push(r.loss);
    }
    // batch 2 of 16²: a short step, several to a run
    expect(reusing.stepsPerRun).toBe(SHORT_STEPS_PER_RUN);
    // 5 steps as runs of 3 and 2
    const a = cloneOptimState(start);
    const terms = [...(await reusing.runSteps(a, batches.slice(0, 3))), ...(await reusing.runSteps(a, batches.slice(3)))];
    expect(terms.map((t) => t[LOSS_OUTPUT])).toEqual(refLosses);
    expectSameState(a, ref);
    await expect(reusing.runSteps(a, [])).rejects.toThrow(/0 steps in one run, expected 1 to 8/);
    await expect(reusing.runSteps(a, Array.from({ length: SHORT_STEPS_PER_RUN + 1 }, () => batches[0]!))).rejects.toThrow(/9 steps in one run/);
  }, 60_000);

  it(`gives bit-identical states and losses to fresh outputs over ${STEPS} steps, ping-ponging two buffer sets`, async () => {
    const initial = cloneOptimState(start);
    const a = cloneOptimState(start);
    const b = cloneOptimState(start);
    const givenState: OptimState = { step: 0, params: new Map(a.params), m: new Map(a.m), v: new Map(a.v) };
    const given = new Set([...a.params.values(), ...a.m.values(), ...a.v.values()].map((t) => t.data));
    const seen: Set<Float32Array>[] = [];
    for (const batch of batches) {
      const ta: LossTerms = await reusing.run(a, batch);
      const tb: LossTerms = await fresh.run(b, batch);
      expect(ta).toEqual(tb);
      expectSameState(a, b);
      seen.push(new Set([...a.params.values(), ...a.m.values(), ...a.v.values()].map((t) => t.data)));
    }
    // the tensors a state started with were read, never written; and are no longer in it
    expectSameState(givenState, initial);
    for (const s of seen) for (const d of s) expect(given.has(d)).toBe(false);
    // steps 1 and 2 allocate; from step 3 on, step k writes the buffers of step k − 2
    const same = (x: Set<Float32Array>, y: Set<Float32Array>): boolean => x.size === y.size && [...x].every((d) => y.has(d));
    expect(same(seen[0]!, seen[1]!)).toBe(false);
    expect(same(seen[2]!, seen[0]!)).toBe(true);
    expect(same(seen[3]!, seen[1]!)).toBe(true);
    expect(same(seen[4]!, seen[0]!)).toBe(true);
  }, 60_000);

  it('never overwrites tensors swapped into the state between steps (a resumed checkpoint, another state)', async () => {
    const a = cloneOptimState(start);
    const b = cloneOptimState(start);
    const other = cloneOptimState(start);
    const otherRef = cloneOptimState(start);
    await reusing.run(a, batches[0]!);
    await fresh.run(b, batches[0]!);
    await reusing.run(a, batches[1]!);
    await fresh.run(b, batches[1]!);
    // as if resumed from a checkpoint: the state now holds tensors the step did not write
    const swapped = cloneOptimState(a);
    const swappedRef = cloneOptimState(a);
    a.params = new Map(swapped.params);
    a.m = new Map(swapped.m);
    a.v = new Map(swapped.v);
    // interleave another state on the same step: its updates must not land in a's buffers, nor a's in its
    await reusing.run(other, batches[3]!);
    await fresh.run(otherRef, batches[3]!);
    for (const batch of batches.slice(2)) {
      await reusing.run(a, batch);
      await fresh.run(b, batch);
      expectSameState(a, b);
      await reusing.run(other, batch);
      await fresh.run(otherRef, batch);
      expectSameState(other, otherRef);
    }
    expectSameState({ ...swapped, step: 0 }, { ...swappedRef, step: 0 });
  }, 60_000);

  it('rolls back to the tensors the last run replaced (beyond the lifetime contract) without writing over its inputs', async () => {
    const a = cloneOptimState(start);
    for (const batch of batches.slice(0, 3)) await reusing.run(a, batch);
    const before: OptimState = { step: a.step, params: new Map(a.params), m: new Map(a.m), v: new Map(a.v) };
    const beforeRef = cloneOptimState(a);
    await reusing.run(a, batches[3]!);
    // undo step 4: the state gets back the buffers step 4 read, which are now the step's spares
    const undone: OptimState = { step: before.step, params: new Map(before.params), m: new Map(before.m), v: new Map(before.v) };
    const redo = cloneOptimState(beforeRef);
    expect(await reusing.run(undone, batches[4]!)).toEqual(await fresh.run(redo, batches[4]!));
    expectSameState(undone, redo);
    expectSameState(before, beforeRef);
  }, 60_000);
});

describe('defaultStepsPerRun', () => {
  it('runs short steps several to a run and long ones one at a time', () => {
    expect(defaultStepsPerRun(2 * 128 * 128)).toBe(SHORT_STEPS_PER_RUN);
    expect(defaultStepsPerRun(4 * 128 * 128)).toBe(SHORT_STEPS_PER_RUN);
    expect(defaultStepsPerRun(1 * 256 * 256)).toBe(SHORT_STEPS_PER_RUN);
    expect(defaultStepsPerRun(2 * 256 * 256)).toBe(1);
    expect(defaultStepsPerRun(4 * 256 * 256)).toBe(1);
  });
});

const icd = SWIFTSHADER_ICD();
if (!icd) console.warn('step.test: GPU step skipped: no SwiftShader Vulkan ICD (chromium-common); `apt-get install chromium` to run it');

describe.skipIf(!icd)('OnnxTrainStep on the GPU (WebGPU over SwiftShader)', () => {
  useSwiftShader(icd!);

  it('runs the step graph itself, one step per run, and matches the CPU step', async () => {
    const { tg, frozen, targets } = await tinyStep();
    const gpu = await OnnxTrainStep.create(tg, frozen, targets, HYPER, { threads: 1, device: 'gpu' });
    const cpu = await OnnxTrainStep.create(tg, frozen, targets, HYPER, { threads: 1 });
    try {
      expect(gpu.stepsPerRun).toBe(1);
      await expect(OnnxTrainStep.create(tg, frozen, targets, HYPER, { threads: 1, device: 'gpu' }, { stepsPerRun: 2 })).rejects.toThrow(/several steps per run need the CPU/);
      const start = freshOptimState(initParams(paramsOf(tinyTransformer()), 3));
      const [a, b] = [cloneOptimState(start), cloneOptimState(start)];
      for (const batch of batches.slice(0, 2)) {
        const [tg1, tc1] = [await gpu.run(a, batch), await cpu.run(b, batch)];
        expect(Math.abs(tg1[LOSS_OUTPUT]! - tc1[LOSS_OUTPUT]!)).toBeLessThanOrEqual(1e-4 * Math.abs(tc1[LOSS_OUTPUT]!));
      }
      expect(a.step).toBe(2);
    } finally {
      await gpu.dispose();
      await cpu.dispose();
    }
  }, 120_000);
});
