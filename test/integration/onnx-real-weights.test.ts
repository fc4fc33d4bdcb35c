/**
 * End-to-end checks of the ONNX backend, weight import and image I/O on the real
 * weights and images in ../shared (skipped with a notice when it is absent).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { OnnxBackend } from '../../src/backends/onnx/index.ts';
import { main } from '../../src/cli/main.ts';
import { compileFile, getNetwork, type NetworkDef } from '../../src/compiler/frontend.ts';
import type { HostTensor } from '../../src/compiler/ir/types.ts';
import { GraphBuilder } from '../../src/compiler/ir/builder.ts';
import { defaultGradName, differentiate } from '../../src/compiler/passes/autodiff/index.ts';
import { optimizeGraph } from '../../src/backends/onnx/optimize/index.ts';
import { selectOutputs } from '../../src/compiler/passes/prune.ts';
import { specialize } from '../../src/compiler/passes/specialize.ts';
import type { RgbImage } from '../../src/runtime/image-types.ts';
import { imageToTensor, readImage } from '../../src/runtime/image.ts';
import { bindWeights, readNpy } from '../../src/weights/index.ts';
import { mulberry32 } from '../../src/util/prng.ts';

const ROOT = join(import.meta.dirname, '../..');
const SHARED = join(ROOT, '../shared');
const hasShared = existsSync(join(SHARED, 'weights'));
if (!hasShared) console.warn('[stc tests] ../shared is absent: skipping the real-weights integration tests');

function stdlibNet(file: string, name: string): NetworkDef {
  const r = compileFile(join(ROOT, file));
  if (!r.module) throw new Error(`${file}: ${r.diagnostics.map((d) => d.message).join('; ')}`);
  return getNetwork(r.module, name)!;
}

function argmax(a: Float32Array): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i]! > a[best]!) best = i;
  return best;
}

/** Mean over each 8x8 block (floor(H/8) x floor(W/8) blocks). */
function box8(img: RgbImage, rows: number, cols: number): Float64Array {
  const bh = Math.floor(rows / 8);
  const bw = Math.floor(cols / 8);
  const out = new Float64Array(3 * bh * bw);
  for (let c = 0; c < 3; c++)
    for (let by = 0; by < bh; by++)
      for (let bx = 0; bx < bw; bx++) {
        let s = 0;
        for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) s += img.data[c * img.width * img.height + (by * 8 + y) * img.width + bx * 8 + x]!;
        out[(c * bh + by) * bw + bx] = s / 64;
      }
  return out;
}

function psnr(a: Float64Array, b: Float64Array): number {
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i]! - b[i]!) ** 2;
  return 10 * Math.log10((255 * 255) / (se / a.length));
}

describe.skipIf(!hasShared)('SqueezeNet 1.1 on the real weights', () => {
  let run: (x: HostTensor) => Promise<Float32Array>;
  beforeAll(async () => {
    const net = stdlibNet('stdlib/squeezenet1_1.style', 'squeezenet1_1');
    const g = specialize(net.graph, { N: 1, H: 224, W: 224 });
    const model = await new OnnxBackend().compile(g, await bindWeights(g, net.weights!, { specDir: net.specDir }), { threads: 2 });
    run = async (x) => (await model.run({ [g.inputs[0]!]: x }))['logits']!.data;
  });

  for (const set of [0, 1, 2])
    it(`reproduces test_data_set_${set} to 1e-3`, async () => {
      const dir = join(SHARED, `weights/squeezenet1_1/test_data_set_${set}`);
      const input = await readNpy(join(dir, 'input_0.npy'));
      const want = await readNpy(join(dir, 'output_0.npy'));
      // The reference input is already normalised; stc's network takes RGB 0..255 and normalises itself.
      const mean = [0.485, 0.456, 0.406];
      const std = [0.229, 0.224, 0.225];
      const plane = 224 * 224;
      const rgb = input.data.map((v, i) => (v * std[Math.floor(i / plane)]! + mean[Math.floor(i / plane)]!) * 255);
      const got = await run({ shape: [1, 3, 224, 224], data: rgb });
      let maxDiff = 0;
      for (let i = 0; i < 1000; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i]! - want.data[i]!));
      expect(maxDiff).toBeLessThanOrEqual(1e-3);
      expect(argmax(got)).toBe(argmax(want.data));
    });

  // Found by classifying all of datasets/coco128 once: these two photos are the zebras (class 340).
  for (const file of ['000000000034.jpg', '000000000154.jpg'])
    it(`classifies the zebra photo coco128/${file} as class 340`, async () => {
      const img = await readImage(join(SHARED, 'datasets/coco128', file), { resize: { width: 224, height: 224 } });
      expect(argmax(await run(imageToTensor(img)))).toBe(340);
    });
});

describe.skipIf(!hasShared)('VGG-19 with the partial Keras weights', () => {
  const net = hasShared ? stdlibNet('stdlib/vgg19.style', 'vgg19') : undefined;
  it('runs up to relu3_4', async () => {
    const g = specialize(selectOutputs(net!.graph, ['relu3_4']), { N: 1, H: 64, W: 48 });
    const w = await bindWeights(g, net!.weights!, { specDir: net!.specDir });
    const model = await new OnnxBackend().compile(g, w, { threads: 2 });
    const x = { shape: [1, 3, 64, 48], data: Float32Array.from({ length: 3 * 64 * 48 }, (_, i) => (i * 37) % 256) };
    const y = (await model.run({ [g.inputs[0]!]: x }))['relu3_4']!;
    await model.dispose();
    expect(y.shape).toEqual([1, 256, 16, 12]);
    expect(y.data.every(Number.isFinite)).toBe(true);
    expect(y.data.some((v) => v > 0)).toBe(true);
  });
  it('Winograd convs (conv2_2, conv3_x and their input gradients) match the direct convs at 256²: features and image gradient', async () => {
    const g0 = specialize(selectOutputs(net!.graph, ['relu3_4']), { N: 1, H: 256, W: 256 });
    const b = GraphBuilder.from(g0);
    const f = g0.outputs.get('relu3_4')!;
    b.output('loss', b.add('reduceSum', [b.add('mul', [f, f], {})], { axes: [0, 1, 2, 3], keepDims: false }));
    const image = g0.inputs[0]!;
    const w = await bindWeights(g0, net!.weights!, { specDir: net!.specDir });
    const g = differentiate(b.build(), { loss: 'loss', wrt: [image] });
    expect(optimizeGraph(g, w).nodes.filter((n) => n.op === 'depthToSpace').length).toBe(10);
    // A noise image: on a periodic test pattern, identical patches give exactly tied max-pool windows (and
    // ReLU inputs), which direct convs (the same sums everywhere) and Winograd (rounding that depends on the
    // position in a 4×4 tile) break differently, routing the gradient to another, equally valid pixel.
    const next = mulberry32(5);
    const x = { shape: [1, 3, 256, 256], data: Float32Array.from({ length: 3 * 256 * 256 }, () => next() * 255) };
    const run = async (winograd: boolean): Promise<Record<string, HostTensor>> => {
      const m = await new OnnxBackend().compile(g, w, { threads: 2, winograd });
      try {
        return await m.run({ [image]: x });
      } finally {
        await m.dispose();
      }
    };
    const [direct, fast] = [await run(false), await run(true)];
    const err = (name: string): { max: number; l2: number } => {
      const [a, c] = [direct[name]!.data, fast[name]!.data];
      let [diff, scale, e2, a2] = [0, 0, 0, 0];
      for (let i = 0; i < a.length; i++) {
        diff = Math.max(diff, Math.abs(a[i]! - c[i]!));
        scale = Math.max(scale, Math.abs(a[i]!));
        e2 += (a[i]! - c[i]!) ** 2;
        a2 += a[i]! ** 2;
      }
      expect(scale, name).toBeGreaterThan(0);
      return { max: diff / scale, l2: Math.sqrt(e2 / a2) };
    };
    expect(err('relu3_4').max).toBeLessThan(1e-5);
    // Near-ties in the two max pools still flip a few windows: bound the gradient's relative L2 error
    // (1.4e-4 measured). test/runtime/gatys/engine.test.ts checks the Gatys step's gradient to 1e-5.
    expect(err(defaultGradName(image)).l2).toBeLessThan(1e-3);
  });
  it('asking for relu4_1 is a clear missing-weights error', async () => {
    const g = selectOutputs(net!.graph, ['relu4_1']);
    await expect(bindWeights(g, net!.weights!, { specDir: net!.specDir })).rejects.toThrow(
      /weights file .*model.json \(Keras .*\) holds VGG-19 only up to conv3_4 \(taps up to relu3_4\): conv4_1 is missing, needed for parameter conv4_1.weight/,
    );
  });
});

describe.skipIf(!hasShared)('the CLI on real models', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stc-cli-'));
  });
  it('stc run fast-style (wave) matches the published chicago_wave.jpg at >= 25 dB PSNR on 8x8 box-downsampled images', async () => {
    const out = join(dir, 'w.png');
    const refs = join(SHARED, 'references/fast-style');
    const code = await main(['node', 'stc', 'run', join(ROOT, 'specs/fast-style.style'), '--weights', join(SHARED, 'models/fast-style/wave'), '--input', join(refs, 'chicago.jpg'), '-o', out, '--threads', '2']);
    expect(code).toBe(0);
    const got = await readImage(out);
    const want = await readImage(join(refs, 'chicago_wave.jpg'));
    // The reference figure used the first 474 rows; compare the overlapping region.
    const rows = Math.min(474, got.height, want.height);
    const cols = Math.min(got.width, want.width);
    const p = psnr(box8(got, rows, cols), box8(want, rows, cols));
    expect(p).toBeGreaterThanOrEqual(25);
  });
  it('stc compile johnson-in writes an ONNX file that plain onnxruntime runs on 1x3x256x256', async () => {
    const out = join(dir, 'j.onnx');
    expect(await main(['node', 'stc', 'compile', join(ROOT, 'specs/johnson-in.style'), '-o', out])).toBe(0);
    const s = await ort.InferenceSession.create(await readFile(out), { logSeverityLevel: 3 });
    const x = new ort.Tensor('float32', new Float32Array(3 * 256 * 256).fill(128), [1, 3, 256, 256]);
    const y = (await s.run({ [s.inputNames[0]!]: x }))[s.outputNames[0]!]!;
    expect(y.dims).toEqual([1, 3, 256, 256]);
    await s.release();
  });
  it('reports a missing output folder before doing any work', async () => {
    const errs: string[] = [];
    const orig = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => (errs.push(String(s)), true)) as typeof process.stderr.write;
    try {
      const code = await main(['node', 'stc', 'run', join(ROOT, 'specs/fast-style.style'), '--input', join(SHARED, 'references/fast-style/chicago.jpg'), '-o', join(dir, 'nope', 'w.png')]);
      expect(code).toBe(1);
    } finally {
      process.stderr.write = orig;
    }
    expect(errs.join('')).toMatch(/folder .*nope does not exist/);
  });
});
