import { johnsonObjective } from '../../../src/runtime/train/train-graph.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileSource } from '../../../src/compiler/frontend.ts';
import { main } from '../../../src/cli/main.ts';
import { listImages } from '../../../src/runtime/data/scan.ts';
import { DEFAULT_TRAIN, train } from '../../../src/runtime/train/trainer.ts';
import { Validator } from '../../../src/runtime/train/validate.ts';
import type { RgbImage } from '../../../src/runtime/image-types.ts';
import { makeDataFolder } from '../data/fixtures.ts';
import { tinyLossNet } from './tiny-nets.ts';

const SPEC = `main network tiny {
  input x: image[N, 3, H, W]
  conv1 = conv(4, 3, padding: reflect); in1 = instance_norm(); relu()
  conv2 = conv(3, 3, padding: reflect)
  output y = conv2
  weights random(seed: 0)
}
`;

let dir: string;
let specPath: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stc-export-'));
  specPath = join(dir, 'tiny.style');
  await writeFile(specPath, SPEC);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function gradient(w: number, h: number): RgbImage {
  const data = new Float32Array(3 * w * h);
  for (let i = 0; i < w * h; i++) {
    data[i] = (i % w) * 9;
    data[w * h + i] = Math.floor(i / w) * 11;
    data[2 * w * h + i] = 100;
  }
  return { width: w, height: h, data };
}

describe('stc export', () => {
  it('writes a model that plain onnxruntime-node runs at any size, matching the trained network', async () => {
    const net = compileSource(SPEC, specPath).module!.networks.get('tiny')!;
    const loss = tinyLossNet();
    const run = join(dir, 'run');
    const res = await train(
      {
        ...DEFAULT_TRAIN,
        size: 16,
        batch: 1,
        steps: 3,
        lr: 0.05,
        checkpointEvery: 3,
        validateEvery: 0,
        objective: johnsonObjective({ contentTaps: [{ tap: 'relu2', weight: 1 }], styleTaps: [{ tap: 'relu1', weight: 1 }], contentWeight: 1, styleWeight: 10, tvWeight: 0 }),
        source: { spec: specPath, network: 'tiny' },
      },
      { transformer: net.graph, lossNet: loss.graph, lossWeights: loss.weights, styleImage: gradient(16, 16), dataFiles: await listImages(await makeDataFolder(2, 20, 16)), outDir: run, backend: { threads: 1 } },
    );
    const modelPath = join(dir, 'model.onnx');
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => (out.push(s), true)) as typeof process.stdout.write;
    let code: number;
    try {
      code = await main(['node', 'stc', 'export', run, '-o', modelPath]);
    } finally {
      process.stdout.write = write;
    }
    expect(code).toBe(0);
    expect(out.join('')).toMatch(/wrote .*model\.onnx .*step 3/);

    // Expected output: the trained parameters through stc's own inference path (validation renderer).
    const img = gradient(13, 9);
    const v = await Validator.create(net.graph, [...res.state.params.keys()], img, { threads: 1 });
    const expected = await v.render(res.state.params);
    await v.dispose();

    // A fresh node process that imports only onnxruntime-node, at two sizes (dynamic H/W, batch 2).
    const script = `
      const ort = require('onnxruntime-node');
      (async () => {
        const s = await ort.InferenceSession.create(process.argv[1]);
        const x = Float32Array.from(JSON.parse(process.argv[2]));
        const a = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', x, [1, 3, 9, 13]) });
        const two = new Float32Array(2 * 3 * 20 * 24).fill(77);
        const b = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', two, [2, 3, 20, 24]) });
        const y = a[s.outputNames[0]];
        console.log(JSON.stringify({ inputs: s.inputNames, outputs: s.outputNames, dims: y.dims, big: b[s.outputNames[0]].dims, data: Array.from(y.data) }));
      })();`;
    const r = spawnSync(process.execPath, ['-e', script, modelPath, JSON.stringify(Array.from(img.data))], { encoding: 'utf8', cwd: process.cwd() });
    expect(r.stderr).toBe('');
    const got = JSON.parse(r.stdout) as { inputs: string[]; outputs: string[]; dims: number[]; big: number[]; data: number[] };
    expect(got.inputs).toEqual(['x']);
    expect(got.outputs).toEqual(['image']);
    expect(got.dims).toEqual([1, 3, 9, 13]);
    expect(got.big).toEqual([2, 3, 20, 24]);
    let maxDiff = 0;
    for (let y = 0; y < 9; y++)
      for (let x = 0; x < 13; x++)
        for (let c = 0; c < 3; c++) {
          const v2 = got.data[c * 117 + y * 13 + x]!;
          expect(v2).toBeGreaterThanOrEqual(0);
          expect(v2).toBeLessThanOrEqual(255);
          maxDiff = Math.max(maxDiff, Math.abs(Math.round(v2) - expected.data[3 * (y * 13 + x) + c]!));
        }
    expect(maxDiff).toBeLessThanOrEqual(1);
  });

  it('reports a run folder without checkpoints as a user error', async () => {
    const err: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => (err.push(s), true)) as typeof process.stderr.write;
    try {
      expect(await main(['node', 'stc', 'export', join(dir, 'empty'), '-o', join(dir, 'm.onnx')])).toBe(1);
    } finally {
      process.stderr.write = write;
    }
    expect(err.join('')).toMatch(/has no readable checkpoint/);
  });
});
