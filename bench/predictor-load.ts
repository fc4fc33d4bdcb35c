/**
 * The style predictor's load time and its vectors' cosine with TensorFlow Lite's, per way of building it: int8 on
 * the .tflite file's activation scales (`ranges: 'file'`; what `precision: 'auto'` builds on the CPU), int8
 * calibrated on noise (`ranges: 'calibrate'`), and float32. The three loads alternate in one process, `--rounds` times; the first round carries module warm-up.
 * The vectors are compared with the TFLite goldens of test/goldens/arbitrary (the three paintings' crops).
 *
 *   npx tsx bench/predictor-load.ts [--rounds 3] [--shared ../shared]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { compileFile, getNetwork } from '../src/compiler/frontend.ts';
import type { HostTensor } from '../src/compiler/ir/types.ts';
import { StylePredictor, type PredictorOptions } from '../src/runtime/arbitrary/pipeline.ts';
import { readNpy } from '../src/weights/npy.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, shared: { type: 'string', default: '../shared' } } });
const ROOT = join(import.meta.dirname, '..');
const DIR = join(ROOT, 'test/goldens/arbitrary');
interface Painting { readonly name: string; readonly image: string; readonly top: number; readonly left: number; readonly size: number; readonly vector: string }
const golden = JSON.parse(readFileSync(join(DIR, 'case.json'), 'utf8')) as { models: { predict: string }; paintings: Painting[] };
const net = getNetwork(compileFile(join(ROOT, 'specs/arbitrary.style')).module!, 'style_predict')!;
const weights = join(values.shared, 'models/arbitrary-style', golden.models.predict);

async function crop(p: Painting): Promise<HostTensor> {
  const { data } = await sharp(join(values.shared, p.image)).removeAlpha().extract({ left: p.left, top: p.top, width: p.size, height: p.size }).raw().toBuffer({ resolveWithObject: true });
  const plane = p.size * p.size;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) out[c * plane + i] = data[3 * i + c]!;
  return { shape: [1, 3, p.size, p.size], data: out };
}
const cosine = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let d = 0, x = 0, y = 0;
  for (let i = 0; i < a.length; i++) [d, x, y] = [d + a[i]! * b[i]!, x + a[i]! ** 2, y + b[i]! ** 2];
  return d / Math.sqrt(x * y);
};

const crops = await Promise.all(golden.paintings.map(crop));
const wants = await Promise.all(golden.paintings.map((p) => readNpy(join(DIR, p.vector))));
const ways: [string, PredictorOptions][] = [['int8, file ranges (the default)', { precision: 'int8', ranges: 'file' }], ['int8, calibrated', { precision: 'int8', ranges: 'calibrate' }], ['float32', { precision: 'float32' }]];
for (let r = 1; r <= Number(values.rounds); r++)
  for (const [name, opts] of ways) {
    const t0 = performance.now();
    const p = await StylePredictor.load(net, { weights, threads: 2, ...opts });
    const ms = performance.now() - t0;
    const cos = [];
    for (let i = 0; i < crops.length; i++) cos.push(cosine((await p.predict(crops[i]!)).data, wants[i]!.data).toFixed(6));
    await p.dispose();
    console.log(`round ${r} | ${name} | load ${ms.toFixed(0)} ms | cosine ${cos.join(', ')}`);
  }
