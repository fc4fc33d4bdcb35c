import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { HostTensor } from '../../../src/compiler/ir/types.ts';
import { listImages } from '../../../src/runtime/data/scan.ts';
import { DEFAULT_TRAIN, LOG_FILE, stepsThisRun, train, type TrainConfig, type TrainInputs } from '../../../src/runtime/train/trainer.ts';
import { readLog } from '../../../src/runtime/train/log.ts';
import { buildTrainGraph, johnsonObjective } from '../../../src/runtime/train/train-graph.ts';
import { loadCheckpoint } from '../../../src/runtime/checkpoint/checkpoint.ts';
import type { RgbImage } from '../../../src/runtime/image-types.ts';
import { makeDataFolder } from '../data/fixtures.ts';
import { TINY_LOSS, tinyLossNet, tinyTransformer } from './tiny-nets.ts';

const CFG: TrainConfig = {
  ...DEFAULT_TRAIN,
  size: 16,
  batch: 2,
  steps: 8,
  lr: 0.1,
  seed: 4,
  checkpointEvery: 4,
  validateEvery: 4,
  objective: johnsonObjective(TINY_LOSS),
};

function stripes(w: number, h: number): RgbImage {
  const data = new Float32Array(3 * w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const v = (x + y) % 6 < 3 ? 230 : 20;
      data[y * w + x] = v;
      data[w * h + y * w + x] = 255 - v;
      data[2 * w * h + y * w + x] = 128;
    }
  return { width: w, height: h, data };
}

let dataDir: string;
let files: string[];
const runs: string[] = [];
beforeAll(async () => {
  dataDir = await makeDataFolder(5, 24, 18);
  files = await listImages(dataDir);
});
afterAll(async () => {
  for (const d of [dataDir, ...runs]) await rm(d, { recursive: true, force: true });
});

async function inputs(resume = false, outDir?: string): Promise<TrainInputs> {
  const out = outDir ?? (await mkdtemp(join(tmpdir(), 'stc-run-')));
  runs.push(out);
  const loss = tinyLossNet();
  return {
    transformer: tinyTransformer(),
    lossNet: loss.graph,
    lossWeights: loss.weights,
    styleImage: stripes(20, 20),
    dataFiles: files,
    validationImage: stripes(12, 10),
    outDir: out,
    resume,
    backend: { threads: 1 },
  };
}

const bits = (t: HostTensor): Buffer => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);

describe('buildTrainGraph', () => {
  it('trains every transformer parameter (norm ones included) and freezes the loss network', () => {
    const loss = tinyLossNet();
    const tg = buildTrainGraph({ transformer: tinyTransformer(), lossNet: loss.graph, loss: CFG.objective, batch: 2, size: 16, adam: CFG });
    expect(tg.params.map((p) => p.id).sort()).toEqual(['conv1.bias', 'conv1.weight', 'conv2.bias', 'conv2.weight', 'in1.bias', 'in1.weight']);
    // the loss network's conv1.weight (same name and shape as the transformer's) is kept apart
    expect(tg.frozen.map((p) => p.id).sort()).toEqual(['lossnet/conv1.bias', 'lossnet/conv1.weight', 'lossnet/conv2.bias', 'lossnet/conv2.weight']);
    for (const p of tg.params) expect(tg.graph.outputs.has(`new/${p.id}`)).toBe(true);
    for (const p of tg.frozen) expect(tg.graph.values.get(p.id)!.kind).toBe('param');
    expect(tg.styleTargetShapes.get('style:relu2')).toEqual([1, 6, 6]);
  });
});

describe('train', () => {
  it('lowers the loss, logs every term, checkpoints and renders validation images', async () => {
    const inp = await inputs();
    const steps: number[] = [];
    const res = await train({ ...CFG, steps: 12 }, inp, { onStep: (e) => steps.push(e.step) });
    expect(steps).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    const log = await readLog(join(inp.outDir, LOG_FILE));
    expect(log.map((e) => e.step)).toEqual(steps);
    for (const e of log) expect(e.loss).toBeCloseTo(e.content! + e.style! + e.tv!, 3);
    const first = (log[0]!.loss! + log[1]!.loss!) / 2;
    const lastTwo = (log[10]!.loss! + log[11]!.loss!) / 2;
    expect(lastTwo).toBeLessThan(0.7 * first);
    expect(res.checkpoint).toMatch(/step-00000012\.safetensors$/);
    expect((await readdir(join(inp.outDir, 'validation'))).sort()).toEqual(['step-00000004.png', 'step-00000008.png', 'step-00000012.png']);
    const meta = await sharp(join(inp.outDir, 'validation', 'step-00000012.png')).metadata();
    expect([meta.width, meta.height]).toEqual([12, 10]);
    // instance-norm parameters moved too
    const ck = await loadCheckpoint(res.checkpoint);
    expect(Math.max(...ck.params.get('in1.weight')!.data.map((v) => Math.abs(v - 1)))).toBeGreaterThan(1e-3);
  });

  it('resumes exactly: k steps + k resumed steps are bit-identical to 2k steps', async () => {
    const wholeInputs = await inputs();
    const whole = await train(CFG, wholeInputs);
    const split = await inputs();
    await train({ ...CFG, steps: 4 }, split);
    let resumedAt = -1;
    const resumed = await train(CFG, { ...split, resume: true }, { onResume: (e) => (resumedAt = e.step) });
    expect(resumedAt).toBe(4);
    expect(resumed.state.step).toBe(8);
    for (const [id, t] of whole.state.params) {
      expect(bits(resumed.state.params.get(id)!).equals(bits(t))).toBe(true);
      expect(bits(resumed.state.m.get(id)!).equals(bits(whole.state.m.get(id)!))).toBe(true);
      expect(bits(resumed.state.v.get(id)!).equals(bits(whole.state.v.get(id)!))).toBe(true);
    }
    // the log of the resumed run equals the uninterrupted one (timings aside)
    const strip = (l: Awaited<ReturnType<typeof readLog>>) => l.map(({ ms: _ms, ...rest }) => rest);
    const splitLog = strip(await readLog(join(split.outDir, LOG_FILE)));
    expect(splitLog).toHaveLength(8);
    expect(splitLog).toEqual(strip(await readLog(join(wholeInputs.outDir, LOG_FILE))));
  });

  it('takes several steps per run without changing a bit, stopping each run at checkpoints, validations and the end', async () => {
    // checkpoints every 3 and validation every 5: runs of 3, 2, 1, 3, 1, 1 steps; every 12: runs of 4
    const oddInputs = await inputs();
    const checkpoints: number[] = [];
    const validations: number[] = [];
    const events: number[] = [];
    const means: number[] = [];
    const odd = await train({ ...CFG, steps: 11, checkpointEvery: 3, validateEvery: 5, keep: 10 }, oddInputs, {
      onStep: (e) => (events.push(e.step), means.push(e.meanStepMs)),
      onCheckpoint: (e) => checkpoints.push(e.step),
      onValidation: (e) => validations.push(e.step),
    });
    expect(events).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
    // the first run's three steps share its time: the same mean step time for each, not the run's time over 1, 2, 3
    for (const m of means.slice(1, 3)) expect(Math.abs(m - means[0]!)).toBeLessThan(0.01 * means[0]!);
    expect(checkpoints).toEqual([3, 6, 9, 11]);
    expect(validations).toEqual([5, 10, 11]);
    const even = await train({ ...CFG, steps: 11, checkpointEvery: 12, validateEvery: 0 }, await inputs());
    for (const key of ['params', 'm', 'v'] as const)
      for (const [id, t] of even.state[key]) expect(bits(odd.state[key].get(id)!).equals(bits(t)), `${key} ${id}`).toBe(true);
    // the checkpoint at step 9 holds step 9's state, not a later one
    const at9 = await loadCheckpoint(join(oddInputs.outDir, 'checkpoints', 'step-00000009.safetensors'));
    expect(at9.step).toBe(9);
  });
});

describe('stepsThisRun', () => {
  const cfg = { steps: 20, checkpointEvery: 6, validateEvery: 0 };
  it('takes up to the per-run limit, stopping at the next checkpoint, validation and the last step', () => {
    expect(stepsThisRun(0, cfg, 4)).toBe(4);
    expect(stepsThisRun(4, cfg, 4)).toBe(2);
    expect(stepsThisRun(6, cfg, 4)).toBe(4);
    expect(stepsThisRun(18, cfg, 4)).toBe(2);
    expect(stepsThisRun(19, { ...cfg, checkpointEvery: 100 }, 4)).toBe(1);
    expect(stepsThisRun(0, { ...cfg, validateEvery: 3 }, 4)).toBe(3);
    expect(stepsThisRun(0, cfg, 1)).toBe(1);
  });
});
