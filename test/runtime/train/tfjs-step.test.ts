/**
 * The tfjs training step (tfjs autodiff + host Adam) against the ONNX step (compiler autodiff +
 * in-graph Adam), from the same state on the same batch: two independent reverse modes, one
 * optimiser. Tiny networks (tiny-nets.ts), 16x16 images, batch 2.
 *
 * Tolerances (float32 throughout, both backends summing in different orders):
 * - gradients (read from the first moment, m₁ = (1 − β1) g): max |Δg| ≤ 2e-5 · max |g| per tensor
 *   (measured: ≤ 2.3e-6 on the cpu backend);
 * - parameters after 1 step: Adam's first step moves every element by lr · g / (|g| + ε/√r₁) ≈ ±lr,
 *   so the parameters agree to float32 rounding (≤ 1e-6 absolute) except where a gradient is so near
 *   zero that the two backends disagree on its sign; those elements are counted and must be under 1%
 *   (measured: 1 of 227);
 * - after 3 steps: max |Δp| ≤ 1e-3 · lr (measured ≤ 1.3e-6 with lr = 1e-2), the zero-gradient
 *   bias excepted (its "gradient" is rounding noise on both sides, so Adam moves it arbitrarily).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import type { HostTensor } from '../../../src/compiler/ir/types.ts';
import { OnnxBackend } from '../../../src/backends/onnx/index.ts';
import { selectTfjsBackend } from '../../../src/backends/tfjs/index.ts';
import { paramsOf } from '../../../src/compiler/ir/graph.ts';
import { Rng } from '../../../src/runtime/data/rng.ts';
import { initParams } from '../../../src/runtime/train/init.ts';
import { OnnxTrainStep, freshOptimState, type OptimState } from '../../../src/runtime/train/step.ts';
import { TfjsTrainStep } from '../../../src/runtime/train/tfjs-step.ts';
import { buildLossGraph, buildTrainGraph, johnsonObjective, lossNetWeights, styleTargetGraph, type LossGraph, type TrainGraph } from '../../../src/runtime/train/train-graph.ts';
import { DEFAULT_TRAIN, train } from '../../../src/runtime/train/trainer.ts';
import { listImages } from '../../../src/runtime/data/scan.ts';
import { loadCheckpoint } from '../../../src/runtime/checkpoint/checkpoint.ts';
import { makeDataFolder } from '../data/fixtures.ts';
import { TINY_LOSS, tinyLossNet, tinyTransformer } from './tiny-nets.ts';

const LOSS = TINY_LOSS;
const HYPER = { lr: 1e-2, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
const B = 2;
/** conv1 feeds an instance norm, which removes any per-channel constant: its bias has a zero gradient. */
const NO_GRADIENT = 'conv1.bias';
const S = 16;

function image(n: number, h: number, w: number, seed: number): HostTensor {
  const rng = Rng.fromSeed(seed);
  return { shape: [n, 3, h, w], data: Float32Array.from({ length: n * 3 * h * w }, () => Math.fround(255 * rng.next())) };
}

const clone = (s: OptimState): OptimState => ({ step: s.step, params: new Map(s.params), m: new Map(s.m), v: new Map(s.v) });
const maxAbs = (a: Float32Array): number => a.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
const maxDiff = (a: Float32Array, b: Float32Array): number => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);

async function styleTargets(): Promise<Map<string, HostTensor>> {
  const loss = tinyLossNet();
  const g = styleTargetGraph(loss.graph, LOSS, { H: 20, W: 20 });
  const model = await new OnnxBackend().compile(g, loss.weights);
  const out = await model.run({ [g.inputs[0]!]: image(1, 20, 20, 7) });
  await model.dispose();
  return new Map(Object.entries(out));
}

describe('TfjsTrainStep', () => {
  let onnx: OnnxTrainStep;
  let tfjs: TfjsTrainStep;
  let start: OptimState;
  let params: readonly string[];
  let lg: LossGraph;
  let tg: TrainGraph;
  let frozen: Map<string, HostTensor>;
  let targets: Map<string, HostTensor>;
  const batches = [image(B, S, S, 1), image(B, S, S, 2), image(B, S, S, 3)];

  beforeAll(async () => {
    await selectTfjsBackend('cpu');
    const loss = tinyLossNet();
    const opts = { transformer: tinyTransformer(), lossNet: loss.graph, loss: LOSS, batch: B, size: S };
    tg = buildTrainGraph({ ...opts, adam: HYPER });
    lg = buildLossGraph(opts);
    params = lg.params.map((p) => p.id);
    expect(tg.params.map((p) => p.id)).toEqual(params);
    targets = await styleTargets();
    frozen = lossNetWeights(loss.weights);
    onnx = await OnnxTrainStep.create(tg, frozen, targets, HYPER, { threads: 1 });
    tfjs = await TfjsTrainStep.create(lg, frozen, targets, HYPER);
    start = freshOptimState(initParams(paramsOf(tinyTransformer()), 3));
  });
  afterAll(async () => {
    await onnx?.dispose();
    await tfjs?.dispose();
  });

  it('gives the ONNX step’s loss terms, gradients and parameters after 1 step, and stays close after 3', async () => {
    const a = clone(start);
    const b = clone(start);
    const ta = await onnx.run(a, batches[0]!);
    const tb = await tfjs.run(b, batches[0]!);
    expect(Object.keys(tb).sort()).toEqual(['content', 'loss', 'style', 'tv']);
    for (const k of Object.keys(ta)) expect(tb[k]!).toBeCloseTo(ta[k]!, 4 - Math.ceil(Math.log10(Math.abs(ta[k]!) + 1e-12)));
    expect(b.step).toBe(1);
    let flipped = 0;
    let total = 0;
    const gmax = Math.max(...params.map((id) => maxAbs(a.m.get(id)!.data)));
    for (const id of params) {
      // m₁ = (1 − β1) g: the two gradients
      const [ga, gb] = [a.m.get(id)!.data, b.m.get(id)!.data];
      if (id === NO_GRADIENT) {
        // a bias before instance norm cannot change the loss: both gradients are rounding noise
        expect(Math.max(maxAbs(ga), maxAbs(gb))).toBeLessThan(1e-6 * gmax);
        continue;
      }
      expect(maxAbs(ga), id).toBeGreaterThan(1e-3 * gmax);
      expect(maxDiff(ga, gb), id).toBeLessThanOrEqual(2e-5 * maxAbs(ga));
      const [pa, pb] = [a.params.get(id)!.data, b.params.get(id)!.data];
      for (let i = 0; i < pa.length; i++) if (Math.abs(pa[i]! - pb[i]!) > 1e-6) flipped++;
      total += pa.length;
      // Adam's first step is ±lr (away from ε-sized gradients)
      const p0 = start.params.get(id)!.data;
      expect(maxAbs(pb.map((x, i) => x - p0[i]!)), id).toBeLessThanOrEqual(HYPER.lr * 1.0001);
    }
    expect(flipped).toBeLessThan(0.01 * total);

    for (const batch of batches.slice(1)) {
      await onnx.run(a, batch);
      await tfjs.run(b, batch);
    }
    expect(b.step).toBe(3);
    for (const id of params) if (id !== NO_GRADIENT) expect(maxDiff(a.params.get(id)!.data, b.params.get(id)!.data), id).toBeLessThanOrEqual(1e-3 * HYPER.lr);
  }, 60_000);

  it('lowers the loss on a fixed batch', async () => {
    const s = clone(start);
    const losses: number[] = [];
    const fast = await TfjsTrainStep.create(lg, frozen, targets, { ...HYPER, lr: 0.1 });
    for (let k = 0; k < 10; k++) losses.push((await fast.run(s, batches[0]!)).loss!);
    expect(losses[9]!).toBeLessThan(0.92 * losses[0]!);
    // and follows the ONNX step's trajectory
    const ref = await OnnxTrainStep.create(tg, frozen, targets, { ...HYPER, lr: 0.1 }, { threads: 1 });
    const r = clone(start);
    for (let k = 0; k < 10; k++) expect((await ref.run(r, batches[0]!)).loss!).toBeCloseTo(losses[k]!, 4);
    await ref.dispose();
  }, 60_000);
});

describe('train({ stepBackend: "tfjs" })', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('trains with the tfjs step on wasm (conv weight gradients fall back to cpu), and its checkpoint resumes on ONNX', async () => {
    await selectTfjsBackend('wasm');
    const data = await makeDataFolder(3, 20, 18);
    const out = await mkdtemp(join(tmpdir(), 'stc-tfjs-run-'));
    dirs.push(data, out);
    const loss = tinyLossNet();
    const cfg = { ...DEFAULT_TRAIN, objective: johnsonObjective(LOSS), size: S, batch: 1, steps: 2, lr: 1e-2, seed: 5, checkpointEvery: 2, validateEvery: 0 };
    const inp = {
      transformer: tinyTransformer(),
      lossNet: loss.graph,
      lossWeights: loss.weights,
      styleImage: { width: 20, height: 20, data: image(1, 20, 20, 7).data },
      dataFiles: await listImages(data),
      outDir: out,
      backend: { threads: 1 },
    };
    const viaTfjs = await train(cfg, { ...inp, stepBackend: 'tfjs' });
    expect(viaTfjs.state.step).toBe(2);
    const saved = await loadCheckpoint(viaTfjs.checkpoint);
    for (const [id, t] of viaTfjs.state.params) expect(saved.params.get(id)!.data).toEqual(t.data);
    let resumedAt = -1;
    const resumed = await train({ ...cfg, steps: 3 }, { ...inp, resume: true }, { onResume: (e) => (resumedAt = e.step) });
    expect(resumedAt).toBe(2);
    expect(resumed.state.step).toBe(3);
    // one more Adam step, taken on ONNX from the tfjs moments
    for (const [id, t] of viaTfjs.state.params) expect(maxDiff(resumed.state.params.get(id)!.data, t.data)).toBeLessThanOrEqual(3 * cfg.lr);
  }, 120_000);
});

const ROOT = resolve(import.meta.dirname, '../../..');
const SQUEEZE = resolve(ROOT, '../shared/weights/squeezenet1_1');
const hasShared = existsSync(SQUEEZE);
if (!hasShared) console.warn('[skip] ../shared is absent: the `stc train --backend tfjs` CLI test needs ../shared/weights/squeezenet1_1');

const TINY_SPEC = `import johnson

main network tiny {
  input x: image[N, 3, H, W]
  conv1 = conv(4, 3, padding: reflect); in1 = instance_norm(); relu()
  conv2 = conv(3, 3, padding: reflect)
  output y = scaled_tanh(150, 127.5)
  weights random(seed: 0)
}
`;

function stc(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [join(ROOT, 'bin/stc.js'), ...args], { cwd: ROOT }, (err, stdout, stderr) => {
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe.skipIf(!hasShared)('stc train --backend tfjs', () => {
  it('trains a tiny network against SqueezeNet on tfjs and writes a checkpoint ONNX training can resume', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stc-tfjs-cli-'));
    const data = await makeDataFolder(2, 40, 36);
    try {
      await writeFile(join(dir, 'tiny.style'), TINY_SPEC);
      const common = ['--data', data, '--style', join(data, 'img0.png'), '--out', join(dir, 'run'), '--loss-net', 'squeezenet1_1', '--weights', SQUEEZE];
      const small = ['--size', '32', '--batch', '1', '--content-layers', 'relu1', '--style-layers', 'relu1,fire2', '--validate-every', '0', '--threads', '1'];
      const r = await stc('train', join(dir, 'tiny.style'), ...common, ...small, '--steps', '2', '--backend', 'tfjs');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/done: step 2; checkpoint .*step-00000002\.safetensors/);
      const resumed = await stc('train', join(dir, 'tiny.style'), ...common, '--steps', '3', '--resume', '--backend', 'onnx');
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.stderr).toMatch(/resuming from step 2/);
      expect(resumed.stderr).toMatch(/done: step 3/);
    } finally {
      await rm(dir, { recursive: true, force: true });
      await rm(data, { recursive: true, force: true });
    }
  }, 180_000);
});
