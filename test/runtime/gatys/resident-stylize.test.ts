/**
 * `stylize` with `device: 'gpu'` and Adam runs the device-resident loop (resident-run.ts, resident-step.ts).
 *
 * On the CPU (fast, always): the resident loop driven by runGatysResident follows runGatys's Adam on the engine's
 * host step step for step, including the reflected margin (padded in the graph there, on the host here), a target
 * refresh, and divergence (the last good image is the one the host loop keeps).
 * On WebGPU over SwiftShader (slow, 16 px, a random-weight toy net of two convs): `stylize` on the GPU gives the CPU run's
 * losses and image, with a margin, a histogram refresh and two scales, and its per-step traffic is the loss scalars
 * down and nothing up, in bytes.
 * Tolerance as test/runtime/gatys/resident.test.ts: float32 on both sides, different summation orders: 1e-4 relative.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { twoTapLossNet } from '../../backends/onnx/two-tap-net.ts';
import type { HostTensor } from '../../../src/compiler/ir/types.ts';
import { buildObjectiveGraphs, type ObjectiveGraphs } from '../../../src/compiler/objective/build.ts';
import type { ObjectiveSpec } from '../../../src/compiler/objective/types.ts';
import type { WeightMap } from '../../../src/backends/types.ts';
import { Rng } from '../../../src/runtime/data/rng.ts';
import { createGatysEngine } from '../../../src/runtime/gatys/engine.ts';
import { foldPadGradient, reflectPad } from '../../../src/runtime/gatys/margin.ts';
import { runGatys, type GatysRunResult } from '../../../src/runtime/gatys/run.ts';
import { runGatysResident } from '../../../src/runtime/gatys/resident-run.ts';
import { createResidentStep } from '../../../src/runtime/gatys/resident-step.ts';
import * as residentModule from '../../../src/runtime/gatys/resident.ts';
import { stylize } from '../../../src/runtime/gatys/stylize.ts';
import { writeImage } from '../../../src/runtime/image.ts';
import type { RgbImage } from '../../../src/runtime/image-types.ts';
import { SWIFTSHADER_ICD, useSwiftShader } from '../../backends/onnx/swiftshader.ts';
import { toySpec } from './toy-spec.ts';
import { relL2 } from '../../rel-l2.ts';

const S = 12;
const MARGIN = 2;
const P = S + 2 * MARGIN;

const noise = (seed: number, w: number, h: number): RgbImage => {
  const rng = Rng.fromSeed(seed);
  return { width: w, height: h, data: Float32Array.from({ length: 3 * w * h }, () => 255 * rng.next()) };
};

const closeLosses = (a: GatysRunResult, b: GatysRunResult, tol = 1e-4): void => {
  expect(a.history.map((h) => h.iteration)).toEqual(b.history.map((h) => h.iteration));
  for (let i = 0; i < b.history.length; i++) expect(Math.abs(a.history[i]!.loss - b.history[i]!.loss), `iteration ${i}`).toBeLessThanOrEqual(tol * Math.abs(b.history[i]!.loss));
};

const SPEC: ObjectiveSpec = {
  name: 'tiny',
  lossNet: 'tiny',
  terms: [
    { kind: 'content', taps: [{ tap: 'relu2', weight: 1 }], weight: 1, attrs: { norm: 'half_sum' } },
    { kind: 'style', taps: [{ tap: 'relu1', weight: 0.5 }, { tap: 'relu2', weight: 0.5 }], weight: 1e3, attrs: { norm: 'gatys' } },
    { kind: 'histogram', taps: [{ tap: 'relu1', weight: 1 }], weight: 10, attrs: { every: 3, norm: 'mean' } },
  ],
};

/** The toy objective on padded 16² images, its weights and the targets from a padded content and style. */
async function setup(): Promise<{ graphs: ObjectiveGraphs; weights: WeightMap; targets: Record<string, HostTensor> }> {
  const net = twoTapLossNet();
  const graphs = buildObjectiveGraphs(SPEC, net.graph, { size: { H: P, W: P }, styleSize: { H: P, W: P } });
  const engine = await createGatysEngine(graphs, net.weights, 'onnx', { threads: 1 });
  const t = (img: RgbImage): HostTensor => ({ shape: [1, 3, P, P], data: reflectPad(img, MARGIN).data });
  const targets = { ...(await engine.contentTargets(t(noise(1, S, S)))), ...(await engine.styleTargets(t(noise(2, S, S)))) };
  await engine.dispose();
  return { graphs, weights: net.weights, targets };
}

/** runGatys's Adam on the engine's host step, padding and folding on the host as stylize does. */
async function hostRun(iterations: number, lr: number): Promise<GatysRunResult> {
  const { graphs, weights, targets } = await setup();
  const engine = await createGatysEngine(graphs, weights, 'onnx', { threads: 1 });
  const step = engine.bindTargets(targets);
  const pad = (x: Float32Array): Float32Array => reflectPad({ width: S, height: S, data: x }, MARGIN).data;
  try {
    return await runGatys({
      init: noise(7, S, S),
      iterations,
      optimizer: 'adam',
      lr,
      step: async (x) => {
        const r = await step(pad(x));
        return { ...r, grad: foldPadGradient(r.grad, S, S, MARGIN) };
      },
      refresh: { every: graphs.refreshEvery!, update: (x) => engine.refresh(pad(x)) },
    });
  } finally {
    await engine.dispose();
  }
}

async function residentRun(iterations: number, lr: number, poison?: { after: number }): Promise<GatysRunResult> {
  const { graphs, weights, targets } = await setup();
  const r = await createResidentStep({ graphs, weights, targets, masks: {}, backendOptions: { threads: 1 }, lr, margin: MARGIN });
  const pad = (x: Float32Array): Float32Array => reflectPad({ width: S, height: S, data: x }, MARGIN).data;
  try {
    return await runGatysResident({
      init: noise(7, S, S),
      loop: r.loop,
      iterations,
      refresh: { every: r.refresh!.every, update: (x) => r.refresh!.update(pad(x)) },
      // A NaN content target bound after `after` iterations (in the awaited snapshot hook) makes the next loss NaN.
      ...(poison && {
        snapshotEvery: poison.after,
        onSnapshot: async () => {
          const t = targets['content:relu2']!;
          await r.loop.setFeeds({ [graphs.targetInputs.get('content:relu2')!]: { shape: t.shape, data: new Float32Array(t.data.length).fill(Number.NaN) } });
        },
      }),
    });
  } finally {
    await r.dispose();
  }
}

describe('the resident Gatys run on the CPU', () => {
  it('follows runGatys with Adam on the host step: margin in the graph, a target refresh every 3 iterations', async () => {
    const host = await hostRun(7, 4);
    const res = await residentRun(7, 4);
    expect(res.status).toBe('done');
    expect(res.iterations).toBe(7);
    closeLosses(res, host);
    for (const [i, h] of host.history.entries()) for (const [k, v] of Object.entries(h.terms)) expect(Math.abs(res.history[i]!.terms[k]! - v)).toBeLessThanOrEqual(1e-4 * Math.abs(v) + 1e-6);
    expect(relL2(res.image.data, host.image.data)).toBeLessThanOrEqual(1e-4);
    expect(relL2(res.image.data, noise(7, S, S).data)).toBeGreaterThan(1e-3);
  }, 60_000);

  it('stops on a non-finite loss with the last good image (the image the failing step started from)', async () => {
    const good = await residentRun(4, 4);
    const res = await residentRun(6, 4, { after: 4 });
    expect(res.status).toBe('diverged');
    expect(res.iterations).toBe(4);
    expect(res.message).toMatch(/the loss became NaN at evaluation 2 \(after iteration 4\)/);
    expect(relL2(res.image.data, good.image.data)).toBeLessThanOrEqual(1e-6);
  }, 60_000);
});

const TOY = toySpec('  histogram(weight: 10, every: 2) { relu1 }\n');

const icd = SWIFTSHADER_ICD();
if (!icd) console.warn('resident-stylize.test: SwiftShader part skipped: no SwiftShader Vulkan ICD (chromium-common); `apt-get install chromium` to run it');

describe.skipIf(!icd)('stylize --device gpu with Adam on WebGPU over SwiftShader', () => {
  useSwiftShader(icd!);

  it('runs resident: the CPU run\'s losses and image (margin, histogram refresh, two scales); per step the loss scalars only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stc-resident-'));
    writeFileSync(join(dir, 'toy.style'), TOY);
    await writeImage(join(dir, 'c.png'), noise(3, 16, 12));
    await writeImage(join(dir, 's.png'), noise(4, 16, 16));
    const run = (device: 'cpu' | 'gpu', phases: string[]) =>
      stylize({
        spec: join(dir, 'toy.style'),
        content: join(dir, 'c.png'),
        styles: [join(dir, 's.png')],
        output: join(dir, `${device}.png`),
        size: 16,
        scales: 2,
        startSize: 12,
        scaleIterations: [1, 3],
        optimizer: 'adam',
        lr: 4,
        margin: 2,
        threads: 1,
        device,
        onPhase: (p) => phases.push(p),
      });
    // Count each resident step's bytes: wrap the loop's step to read its model's counter around it.
    const perStep: { up: number; down: number }[] = [];
    const original = residentModule.ResidentGatysAdam.prototype.step;
    const spy = vi.spyOn(residentModule.ResidentGatysAdam.prototype, 'step').mockImplementation(async function (this: residentModule.ResidentGatysAdam) {
      const before = { ...this.transfer };
      const r = await original.call(this);
      perStep.push({ up: this.transfer.up - before.up, down: this.transfer.down - before.down });
      return r;
    });
    const gpuPhases: string[] = [];
    let gpu: GatysRunResult;
    try {
      gpu = await run('gpu', gpuPhases);
    } finally {
      spy.mockRestore();
    }
    const cpu = await run('cpu', []);
    expect(gpuPhases.some((p) => p.includes('resident on the device'))).toBe(true);
    expect(perStep).toHaveLength(1 + 3);
    // The loss scalars (total, content, style, histogram: 4 × 4 B) down; nothing up, nothing else.
    for (const s of perStep) expect(s).toEqual({ up: 0, down: 4 * 4 });
    closeLosses(gpu, cpu);
    expect(relL2(gpu.image.data, cpu.image.data)).toBeLessThanOrEqual(1e-4);
  }, 600_000);
});
