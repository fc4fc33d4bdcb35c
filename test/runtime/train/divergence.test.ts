/**
 * Issue 21, defects 2, 3 and 9: a diverging run never leaves a poisoned newest checkpoint; export and apply
 * refuse non-finite weights; a resume notes the hyper-parameters it changed; one run per folder (run.lock);
 * temporary files of killed runs are cleaned; export says when it passed over a torn newest checkpoint.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, truncate, writeFile, copyFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileSource } from '../../../src/compiler/frontend.ts';
import type { Graph } from '../../../src/compiler/ir/types.ts';
import { cli } from '../../cli/in-process.ts';
import { checkpointPath, listCheckpoints, loadCheckpoint, saveCheckpoint } from '../../../src/runtime/checkpoint/checkpoint.ts';
import { listImages } from '../../../src/runtime/data/scan.ts';
import { exportOnnx } from '../../../src/runtime/train/export.ts';
import { firstNonFinite } from '../../../src/runtime/train/health.ts';
import { readNotes } from '../../../src/runtime/train/log.ts';
import { LOCK_FILE } from '../../../src/runtime/train/run-lock.ts';
import { CHECKPOINT_DIR, DEFAULT_TRAIN, LOG_FILE, VALIDATION_DIR, train, type TrainConfig, type TrainInputs } from '../../../src/runtime/train/trainer.ts';
import { makeDataFolder, writeCoordImage } from '../data/fixtures.ts';
import { TINY_LOSS, tinyLossNet } from './tiny-nets.ts';
import { johnsonObjective } from '../../../src/runtime/train/train-graph.ts';

// Johnson's scaled tanh output: a huge learning rate saturates it (finite loss, 5.8× the first step's).
const SPEC = `main network t {
  input x: image[N, 3, H, W]
  conv1 = conv(8, 3, padding: reflect); in1 = instance_norm(); relu()
  conv2 = conv(3, 3, padding: reflect)
  output y = scaled_tanh(150, 127.5)
  weights random(seed: 0)
}
`;

let dir = '';
let specPath = '';
let transformer: Graph;
let files: string[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stc-divergence-'));
  specPath = join(dir, 't.style');
  await writeFile(specPath, SPEC);
  transformer = compileSource(SPEC, specPath).module!.networks.get('t')!.graph;
  files = await listImages(await makeDataFolder(5, 24, 18));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const cfg = (over: Partial<TrainConfig>): TrainConfig => ({
  ...DEFAULT_TRAIN,
  objective: johnsonObjective(TINY_LOSS),
  size: 16,
  batch: 2,
  steps: 2,
  lr: 0.01,
  checkpointEvery: 1,
  validateEvery: 0,
  source: { spec: specPath, network: 't' },
  ...over,
});
const inputs = (outDir: string, over: Partial<TrainInputs> = {}): TrainInputs => {
  const loss = tinyLossNet();
  const grey = { width: 16, height: 16, data: new Float32Array(768).fill(100) };
  return { transformer, lossNet: loss.graph, lossWeights: loss.weights, styleImage: grey, dataFiles: files, outDir, backend: { threads: 1 }, ...over };
};

describe('a diverging run', () => {
  it('--lr 1e38 on resume: stops at the first non-finite parameter; the newest checkpoint stays the last finite one', async () => {
    const run = join(dir, 'nan');
    await train(cfg({}), inputs(run));
    await expect(train(cfg({ lr: 1e38, steps: 6 }), inputs(run, { resume: true }))).rejects.toThrow(
      /training diverged at step 3: parameter \S+ is no longer finite; the newest checkpoint is step 2 \(.*step-00000002\.safetensors\)/,
    );
    const ckpts = await listCheckpoints(join(run, CHECKPOINT_DIR));
    expect(ckpts.map((c) => c.step)).toEqual([1, 2]);
    for (const c of ckpts) {
      const k = await loadCheckpoint(c.path);
      expect(firstNonFinite({ p: k.params, m: k.adamM, v: k.adamV })).toBeUndefined();
    }
    expect(existsSync(join(run, LOCK_FILE))).toBe(false); // released on the error path too
  });

  it('--lr 1e6 (saturated output, finite loss): the loss-spike rule stops the run and says since when', async () => {
    await expect(train(cfg({ lr: 1e6, steps: 30, checkpointEvery: 100 }), inputs(join(dir, 'spike')))).rejects.toThrow(
      /training diverged at step 8: the median loss of the last steps, \S+, is [5-6]\.\d× its normal level \S+ since step 2; the newest checkpoint is none yet; lower --lr \(now 1000000\)/,
    );
  });

  it('a resume that changed hyper-parameters writes them to the log as notes', async () => {
    const run = join(dir, 'notes');
    await train(cfg({}), inputs(run));
    await train(cfg({ steps: 3, lr: 0.005 }), inputs(run, { resume: true, resumeNotes: ['--lr 0.01 -> 0.005', '--steps 2 -> 3'] }));
    expect(await readNotes(join(run, LOG_FILE))).toEqual([
      { step: 2, note: 'resume: --lr 0.01 -> 0.005' },
      { step: 2, note: 'resume: --steps 2 -> 3' },
    ]);
  });
});

describe('export and apply refuse non-finite weights', () => {
  it('export names the checkpoint and the tensor; with a torn newest checkpoint it says which one it used', async () => {
    const run = join(dir, 'poisoned');
    await train(cfg({}), inputs(run));
    const ck = join(run, CHECKPOINT_DIR);
    const good = await loadCheckpoint(checkpointPath(ck, 2));
    const params = new Map(good.params);
    const [id, t] = [...params][0]!;
    params.set(id, { shape: t.shape, data: t.data.map((v, i) => (i === 0 ? NaN : v)) });
    await saveCheckpoint(ck, { ...good, step: 3, params }, { keep: 10 });
    const bad = await cli('export', run, '-o', join(dir, 'bad.onnx'));
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(new RegExp(`step-00000003\\.safetensors holds non-finite weights \\(parameter ${id.replace('.', '\\.')} has a NaN`));
    expect(existsSync(join(dir, 'bad.onnx'))).toBe(false);

    // A torn newest checkpoint: export falls back to step 2 and says so.
    await copyFile(checkpointPath(ck, 2), checkpointPath(ck, 4));
    await truncate(checkpointPath(ck, 4), (await stat(checkpointPath(ck, 4))).size - 100);
    await rm(checkpointPath(ck, 3));
    const r = await cli('export', run, '-o', join(dir, 'ok.onnx'));
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/note: skipped unreadable checkpoint .*step-00000004\.safetensors \(.*\); exporting .*step-00000002\.safetensors, step 2/);
    expect(r.out).toMatch(/step 2/);

    // Issue 21, defect 5: an output folder that refuses new files (/proc) is one message, before any work.
    if (existsSync('/proc/self')) {
      const proc = await cli('export', run, '-o', '/proc/x.onnx');
      expect(proc.code).toBe(1);
      expect(proc.err).toMatch(/\nstc: error: cannot write \/proc\/x\.onnx: .*\(ENOENT\)\n$/);
    }
  });

  it('apply refuses a model with a NaN weight instead of writing a black image', async () => {
    const good = await loadCheckpoint(checkpointPath(join(dir, 'poisoned', CHECKPOINT_DIR), 2));
    const weights = new Map(good.params);
    const [id, t] = [...weights][1]!;
    weights.set(id, { shape: t.shape, data: new Float32Array(t.data.length).fill(Infinity) });
    const model = join(dir, 'inf.onnx');
    await exportOnnx(model, transformer, weights);
    await writeCoordImage(join(dir, 'in.png'), 20, 16, 5);
    const r = await cli('apply', model, join(dir, 'in.png'), '-o', join(dir, 'out.png'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/inf\.onnx holds non-finite weights \(\S+ has a NaN or infinite value\)/);
    expect(existsSync(join(dir, 'out.png'))).toBe(false);
  });
});

describe('the run folder', () => {
  it('refuses a second training into a folder in use, naming the owner', async () => {
    const run = join(dir, 'locked');
    const first = train(cfg({ steps: 3 }), inputs(run));
    await new Promise((r) => setTimeout(r, 50));
    await expect(train(cfg({ steps: 3 }), inputs(run))).rejects.toThrow(new RegExp(`is in use by another training run \\(PID ${process.pid} on `));
    await first;
    await train(cfg({ steps: 4 }), inputs(run, { resume: true })); // free again once the first is done
  });

  it('takes over the lock and removes the temporary files of a killed run, but not those of a live process', async () => {
    const run = join(dir, 'stale');
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    await rm(run, { recursive: true, force: true });
    await train(cfg({ steps: 1 }), inputs(run));
    await writeFile(join(run, LOCK_FILE), JSON.stringify({ pid: dead, host: (await import('node:os')).hostname(), since: 'then' }));
    const [deadTemp, liveTemp] = [`.tmp-${dead}-1-step-00000001.png`, `.tmp-${process.ppid}-1-step-00000001.png`];
    await mkdir(join(run, VALIDATION_DIR));
    for (const n of [deadTemp, liveTemp]) await writeFile(join(run, VALIDATION_DIR, n), '');
    await train(cfg({ steps: 2, validateEvery: 1 }), inputs(run, { resume: true, validationImage: { width: 12, height: 10, data: new Float32Array(360).fill(90) } }));
    const left = await readdir(join(run, VALIDATION_DIR));
    expect(left).not.toContain(deadTemp);
    expect(left).toContain(liveTemp);
    expect(left).toContain('step-00000002.png');
    expect(existsSync(join(run, LOCK_FILE))).toBe(false);
  });
});
