/**
 * The new Gatys terms on real weights (VGG-19, the partial Keras weights in ../shared), 64 px:
 * - masks: with a left/right mask and two style images, the output's left half has a relu2_1 Gram
 *   closer to style A's than to style B's, and the right half the other way round (measured: 6.0e5 vs
 *   2.2e6 on the left, 2.3e6 vs 6.8e5 on the right, per-position Frobenius distances);
 * - histogram loss: on a grey photo (golden_gate) and an orange painting (la_muse's luminance on an
 *   orange ramp, Scream-like), adding `histogram(weight: 1e8) { relu1_1 }` brings the output's colour
 *   histogram closer to the style's than the Gram loss alone: chi-squared distance ½ Σ (p − q)² / (p + q)
 *   between 8×8×8-bin RGB histograms (normalised to sum 1), measured 0.61 → 0.46 (30 L-BFGS iterations
 *   from the content; the grey photo itself is at 1.0).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileFile, getNetwork } from '../../../src/compiler/frontend.ts';
import { selectOutputs } from '../../../src/compiler/passes/prune.ts';
import { specialiseLossNet } from '../../../src/compiler/objective/build.ts';
import { downsampleMask } from '../../../src/compiler/objective/masks.ts';
import { OnnxBackend } from '../../../src/backends/onnx/index.ts';
import type { HostTensor } from '../../../src/compiler/ir/types.ts';
import { bindWeights } from '../../../src/weights/index.ts';
import { readImage, writeImage } from '../../../src/runtime/image.ts';
import type { RgbImage } from '../../../src/runtime/image-types.ts';
import { stylize } from '../../../src/runtime/gatys/stylize.ts';

const SHARED = join(import.meta.dirname, '../../../../shared');
const hasShared = existsSync(join(SHARED, 'weights/vgg19-keras-partial'));
if (!hasShared) console.warn('[stc tests] ../shared is absent: skipping the masked-style and histogram Gatys runs on VGG-19');

const SPEC = `
import vgg19
objective regions on vgg19 {
  content(weight: 1) { conv3_2 }
  style(weight: 1e4, mask: true) { relu1_1: 0.3333, relu2_1: 0.3333, relu3_1: 0.3333 }
  tv(weight: 1e-3)
}
objective gram on vgg19 {
  content(weight: 1) { conv3_2 }
  style(weight: 1e4) { relu1_1: 0.3333, relu2_1: 0.3333, relu3_1: 0.3333 }
  tv(weight: 1e-3)
}
objective gram_histogram on vgg19 {
  content(weight: 1) { conv3_2 }
  style(weight: 1e4) { relu1_1: 0.3333, relu2_1: 0.3333, relu3_1: 0.3333 }
  histogram(weight: HISTOGRAM_WEIGHT, every: 10) { relu1_1 }
  tv(weight: 1e-3)
}
`;

/** Gram of features [1, C, h, w] weighted by mask m [h·w], divided by Σ m²: the region's statistic, per position. */
function regionGram(f: HostTensor, m?: Float32Array): Float64Array {
  const [, c, h, w] = f.shape as [number, number, number, number];
  const n = h * w;
  const g = new Float64Array(c * c);
  let area = 0;
  for (let p = 0; p < n; p++) area += (m?.[p] ?? 1) ** 2;
  for (let i = 0; i < c; i++)
    for (let j = i; j < c; j++) {
      let s = 0;
      for (let p = 0; p < n; p++) s += f.data[i * n + p]! * f.data[j * n + p]! * (m?.[p] ?? 1) ** 2;
      g[i * c + j] = g[j * c + i] = s / area;
    }
  return g;
}
const dist = (a: Float64Array, b: Float64Array): number => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]!) ** 2, 0));

/** 8×8×8-bin RGB histogram, normalised to sum 1. */
function colourHistogram(img: RgbImage): Float64Array {
  const n = img.width * img.height;
  const h = new Float64Array(512);
  const bin = (v: number) => Math.min(7, Math.max(0, Math.floor(v / 32)));
  for (let p = 0; p < n; p++) h[bin(img.data[p]!) * 64 + bin(img.data[n + p]!) * 8 + bin(img.data[2 * n + p]!)]! += 1 / n;
  return h;
}
const chiSquared = (p: Float64Array, q: Float64Array): number => 0.5 * p.reduce((s, v, i) => s + (v + q[i]! > 0 ? (v - q[i]!) ** 2 / (v + q[i]!) : 0), 0);

describe.skipIf(!hasShared)('Gatys spatial control and histogram loss on VGG-19 (partial weights), 64 px', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stc-spatial-'));
    await writeFile(join(dir, 'spec.style'), SPEC.replace('HISTOGRAM_WEIGHT', '1e8'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('masks: each half takes its own style image’s relu2_1 statistics', async () => {
    const content = await readImage(join(SHARED, 'images/content/tubingen.jpg'), { resize: { width: 64, height: 48 } });
    const half = (left: boolean): RgbImage => {
      const data = new Float32Array(3 * 64 * 48);
      for (let ch = 0; ch < 3; ch++) for (let y = 0; y < 48; y++) for (let x = 0; x < 64; x++) data[(ch * 48 + y) * 64 + x] = (x < 32) === left ? 255 : 0;
      return { width: 64, height: 48, data };
    };
    await writeImage(join(dir, 'left.png'), half(true));
    await writeImage(join(dir, 'right.png'), half(false));
    await writeImage(join(dir, 'content.png'), content);
    const styles = [join(SHARED, 'images/style/starry_night.jpg'), join(SHARED, 'images/style/woman-with-hat-matisse.jpg')];
    const r = await stylize({
      spec: join(dir, 'spec.style'),
      objective: 'regions',
      content: join(dir, 'content.png'),
      styles,
      styleMasks: [join(dir, 'left.png'), join(dir, 'right.png')],
      output: join(dir, 'regions.png'),
      size: 64,
      iterations: 20,
      init: 'content',
      threads: 2,
    });
    expect(r.status).not.toBe('diverged');

    const net = getNetwork(compileFile(join(dir, 'spec.style')).module!, 'vgg19')!;
    const relu21 = selectOutputs(net.graph, ['relu2_1']);
    const features = async (img: RgbImage): Promise<HostTensor> => {
      const g = specialiseLossNet(relu21, { H: img.height, W: img.width });
      const model = await new OnnxBackend().compile(g, await bindWeights(g, net.weights!, { specDir: net.specDir }), { threads: 2 });
      try {
        return (await model.run({ [g.inputs[0]!]: { shape: [1, 3, img.height, img.width], data: img.data } }))['relu2_1']!;
      } finally {
        await model.dispose();
      }
    };
    const out = await features(await readImage(join(dir, 'regions.png')));
    const [, , h, w] = out.shape as [number, number, number, number];
    const mask = (left: boolean) => downsampleMask({ width: 64, height: 48, data: Float32Array.from(half(left).data.subarray(0, 64 * 48), (v) => v / 255) }, h, w).data;
    const left = regionGram(out, mask(true));
    const right = regionGram(out, mask(false));
    const [a, b] = await Promise.all(styles.map(async (s) => regionGram(await features(await readImage(s, { resize: { longSide: 64 } })))));
    expect(dist(left, a!)).toBeLessThan(dist(left, b!));
    expect(dist(right, b!)).toBeLessThan(dist(right, a!));
  }, 120_000);

  it('histogram: the output’s colour histogram is closer to the style’s than with the Gram loss alone', async () => {
    // A grey photo and an orange painting: the colours must come from the style terms.
    const photo = await readImage(join(SHARED, 'images/content/golden_gate.jpg'), { resize: { longSide: 64 } });
    const n = photo.width * photo.height;
    const grey = Float32Array.from(photo.data.subarray(0, n), (_, p) => 0.299 * photo.data[p]! + 0.587 * photo.data[n + p]! + 0.114 * photo.data[2 * n + p]!);
    await writeImage(join(dir, 'grey.png'), { ...photo, data: Float32Array.from({ length: 3 * n }, (_, i) => grey[i % n]!) });
    // The Scream-like oranges: a painting's luminance mapped onto an orange-to-yellow ramp.
    const painting = await readImage(join(SHARED, 'images/style/la_muse.jpg'), { resize: { longSide: 64 } });
    const m = painting.width * painting.height;
    const orange = new Float32Array(3 * m);
    for (let p = 0; p < m; p++) {
      const l = (0.299 * painting.data[p]! + 0.587 * painting.data[m + p]! + 0.114 * painting.data[2 * m + p]!) / 255;
      [orange[p], orange[m + p], orange[2 * m + p]] = [150 + 105 * l, 40 + 180 * l * l, 20 * l];
    }
    const style = join(dir, 'orange.png');
    await writeImage(style, { ...painting, data: orange });
    const run = async (objective: string) => {
      const r = await stylize({ spec: join(dir, 'spec.style'), objective, content: join(dir, 'grey.png'), styles: [style], output: join(dir, `${objective}.png`), size: 64, iterations: 30, init: 'content', threads: 2 });
      expect(r.status).not.toBe('diverged');
      return chiSquared(colourHistogram(await readImage(join(dir, `${objective}.png`))), colourHistogram(await readImage(style, { resize: { longSide: 64 } })));
    };
    const gram = await run('gram');
    const withHistogram = await run('gram_histogram');
    // Measured: 0.61 with the Gram loss alone, 0.46 with the histogram term (1.0 for the grey photo itself).
    expect(withHistogram).toBeLessThan(0.9 * gram);
  }, 180_000);
});
