/**
 * The device-resident Gatys Adam loop (runtime/gatys/resident.ts): on the CPU it follows the host loop (the engine's
 * step returning the gradient, then adamStepHost) step for step; on WebGPU over SwiftShader it matches the CPU
 * and moves only the loss scalars down per step, nothing up (Adam's bias corrections are device-side). Tiny net, 16².
 * Tolerance: float32 on both sides, different summation orders; relative L2 of the images ≤ 1e-4.
 */
import { describe, expect, it } from 'vitest';
import { twoTapLossNet } from '../../backends/onnx/two-tap-net.ts';
import type { HostTensor } from '../../../src/compiler/ir/types.ts';
import { LOSS, buildObjectiveGraphs, type ObjectiveGraphs } from '../../../src/compiler/objective/build.ts';
import { GraphBuilder } from '../../../src/compiler/ir/builder.ts';
import type { AdamHyper } from '../../../src/compiler/passes/adam-update.ts';
import type { BackendOptions, WeightMap } from '../../../src/backends/types.ts';
import { Rng } from '../../../src/runtime/data/rng.ts';
import { createGatysEngine, targetFeeds } from '../../../src/runtime/gatys/engine.ts';
import { ResidentGatysAdam, type PixelBounds } from '../../../src/runtime/gatys/resident.ts';
import { adamStepHost, type AdamMoments } from '../../../src/runtime/train/adam-host.ts';
import { SWIFTSHADER_ICD, useSwiftShader } from '../../backends/onnx/swiftshader.ts';
import { relL2 } from '../../rel-l2.ts';

const S = 16;
const STEPS = 4;
const HYPER: AdamHyper = { lr: 2, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };


const image = (seed: number): Float32Array => {
  const rng = Rng.fromSeed(seed);
  return Float32Array.from({ length: 3 * S * S }, () => 255 * rng.next());
};

async function setup(): Promise<{ graphs: ObjectiveGraphs; weights: WeightMap; feeds: Record<string, HostTensor> }> {
  const net = twoTapLossNet();
  const spec = {
    name: 'tiny',
    lossNet: 'tiny',
    terms: [
      { kind: 'content', taps: [{ tap: 'relu2', weight: 1 }], weight: 1, attrs: { norm: 'half_sum' } },
      { kind: 'style', taps: [{ tap: 'relu1', weight: 0.5 }, { tap: 'relu2', weight: 0.5 }], weight: 1e3, attrs: { norm: 'gatys' } },
    ],
  } as const;
  const graphs = buildObjectiveGraphs(spec, net.graph, { size: { H: S, W: S }, styleSize: { H: S, W: S } });
  const engine = await createGatysEngine(graphs, net.weights, 'onnx', { threads: 1 });
  const shape = [1, 3, S, S];
  const targets = { ...(await engine.contentTargets({ shape, data: image(1) })), ...(await engine.styleTargets({ shape, data: image(2) })) };
  await engine.dispose();
  return { graphs, weights: net.weights, feeds: targetFeeds(graphs, targets, {}) };
}

async function residentRun(opts: BackendOptions, hyper: AdamHyper = HYPER, bounds?: PixelBounds): Promise<{ image: Float32Array; losses: number[]; perStep: { up: number; down: number }[]; terms: number }> {
  const { graphs, weights, feeds } = await setup();
  const loop = await ResidentGatysAdam.create(graphs, weights, feeds, hyper, { threads: 1, ...opts }, { ...(bounds && { bounds }) });
  await loop.start(image(7));
  const losses: number[] = [];
  const perStep: { up: number; down: number }[] = [];
  for (let i = 0; i < STEPS; i++) {
    const before = { ...loop.transfer };
    losses.push((await loop.step()).loss);
    perStep.push({ up: loop.transfer.up - before.up, down: loop.transfer.down - before.down });
  }
  const out = await loop.image();
  await loop.dispose();
  return { image: out, losses, perStep, terms: graphs.termOutputs.length };
}

/** The host loop: the engine's step (loss and gradient to the host), then adamStepHost, clipped to `bounds`. */
async function hostRun(hyper: AdamHyper, bounds?: PixelBounds): Promise<{ image: Float32Array; losses: number[] }> {
  const { graphs, weights, feeds } = await setup();
  const engine = await createGatysEngine(graphs, weights, 'onnx', { threads: 1 });
  const shape = [1, 3, S, S];
  const stepFn = engine.bindTargets(Object.fromEntries([...graphs.targetInputs].map(([key, id]) => [key, feeds[id]!])));
  let cur: AdamMoments = { param: { shape, data: image(7) }, m: { shape, data: new Float32Array(3 * S * S) }, v: { shape, data: new Float32Array(3 * S * S) } };
  const losses: number[] = [];
  for (let t = 1; t <= STEPS; t++) {
    const r = await stepFn(cur.param.data);
    losses.push(r.loss);
    cur = adamStepHost(cur, { shape, data: r.grad }, hyper, t);
    if (bounds) cur.param.data.forEach((v, i, a) => (a[i] = Math.min(bounds.upper, Math.max(bounds.lower, v))));
  }
  await engine.dispose();
  return { image: cur.param.data, losses };
}

describe('ResidentGatysAdam on the CPU', () => {
  it('follows the host loop (engine step, then the host Adam update) step for step', async () => {
    const host = await hostRun(HYPER);
    const res = await residentRun({});
    for (let i = 0; i < STEPS; i++) expect(Math.abs(res.losses[i]! - host.losses[i]!)).toBeLessThanOrEqual(1e-4 * Math.abs(host.losses[i]!));
    expect(relL2(res.image, host.image)).toBeLessThanOrEqual(1e-4);
    // The image moved: the test would catch a loop that never updates it.
    expect(relL2(res.image, image(7))).toBeGreaterThan(1e-3);
  }, 60_000);

  it('clips the image to the pixel bounds after each step, as the host loop does', async () => {
    const hyper = { ...HYPER, lr: 80 };
    const bounds = { lower: 0, upper: 255 };
    const host = await hostRun(hyper, bounds);
    const res = await residentRun({}, hyper, bounds);
    expect(Math.min(...res.image)).toBe(0);
    expect(Math.max(...res.image)).toBe(255);
    expect(relL2(res.image, host.image)).toBeLessThanOrEqual(1e-4);
  }, 60_000);
});

describe('ResidentGatysAdam divergence', () => {
  it('reports a NaN loss when only the gradient is non-finite, and the exact loss otherwise', async () => {
    // loss = Σ √x: finite at x = 0, where its gradient 1 / (2√x) is infinite (the case the host loop's checkFinite
    // catches on the gradient, which the device never sends back).
    const b = new GraphBuilder();
    const x = b.input('img', [1, 3, 2, 2]);
    b.output(LOSS, b.add('reduceSum', [b.add('sqrt', [x], {})], { axes: [0, 1, 2, 3], keepDims: false }));
    const graphs = { step: b.build(), imageInput: 'img', termOutputs: [] } as unknown as ObjectiveGraphs;
    const loop = await ResidentGatysAdam.create(graphs, new Map(), {}, HYPER, { threads: 1 });
    const positive = Float32Array.from({ length: 12 }, (_, i) => i + 1);
    await loop.start(positive);
    expect((await loop.step()).loss).toBeCloseTo(positive.reduce((a, v) => a + Math.sqrt(v), 0), 4);
    await loop.start(Float32Array.from(positive, (v, i) => (i === 5 ? 0 : v)));
    expect((await loop.step()).loss).toBeNaN();
    await loop.dispose();
  });
});

const icd = SWIFTSHADER_ICD();
if (!icd) console.warn('gatys resident.test: SwiftShader part skipped: no SwiftShader Vulkan ICD (chromium-common); `apt-get install chromium` to run it');

describe.skipIf(!icd)('ResidentGatysAdam on WebGPU over SwiftShader', () => {
  useSwiftShader(icd!);

  it('moves only the loss scalars down per step (nothing up), and matches the CPU', async () => {
    const gpu = await residentRun({ device: 'gpu' });
    const cpu = await residentRun({});
    for (const s of gpu.perStep) expect(s).toEqual({ up: 0, down: (1 + gpu.terms) * 4 });
    expect(relL2(gpu.image, cpu.image)).toBeLessThanOrEqual(1e-4);
    for (let i = 0; i < STEPS; i++) expect(Math.abs(gpu.losses[i]! - cpu.losses[i]!)).toBeLessThanOrEqual(1e-4 * Math.abs(cpu.losses[i]!));
  }, 300_000);
});
