/**
 * Issue 21, defect 7: tiled apply of an instance-norm network must keep the network's meaning. With
 * whole-image statistics fed to every tile, tiled output matches untiled output (PSNR >= 40 dB) with no step
 * across tile borders; with per-tile statistics (the old behaviour) it does not.
 */
import { describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { instanceNormStatsModels } from '../../../src/backends/onnx/instance-norm-stats.ts';
import { loadImageModel } from '../../../src/runtime/apply/model.ts';
import { TILE_ALIGN, stylizeImage } from '../../../src/runtime/apply/stylize.ts';
import { planTiles, type Rgb8 } from '../../../src/runtime/apply/tiling.ts';
import { planar } from '../../../src/runtime/apply/global-stats.ts';
import { tinyNetModel } from './tiny-models.ts';

/** A textured image: gradients plus a pattern, so per-tile statistics really differ from tile to tile. */
function image(w: number, h: number): Rgb8 {
  const d = new Uint8Array(3 * w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const o = 3 * (y * w + x);
      d[o] = 30 + (180 * x) / w;
      d[o + 1] = 60 + (120 * y) / h + 20 * Math.sin(x / 5);
      d[o + 2] = 128 + 90 * Math.sin(x / 11 + y / 7) * (x / w);
    }
  return { width: w, height: h, data: d };
}

function psnr(a: Rgb8, b: Rgb8): number {
  let se = 0;
  for (let i = 0; i < a.data.length; i++) se += (a.data[i]! - b.data[i]!) ** 2;
  return 10 * Math.log10((255 * 255) / (se / a.data.length));
}

/** Largest mean |Δ| across a vertical tile border of the difference to the untiled output, over rows and channels. */
function borderStep(o: Rgb8, whole: Rgb8, borders: readonly number[]): number {
  const d = (x: number, y: number, c: number) => o.data[3 * (y * o.width + x) + c]! - whole.data[3 * (y * o.width + x) + c]!;
  let worst = 0;
  for (const bx of borders) {
    let s = 0;
    for (let y = 0; y < o.height; y++) for (let c = 0; c < 3; c++) s += Math.abs(d(bx, y, c) - d(bx - 1, y, c));
    worst = Math.max(worst, s / (3 * o.height));
  }
  return worst;
}

describe('tiled apply with whole-image instance-norm statistics', () => {
  it('matches the untiled output (PSNR >= 40 dB, no step at tile borders); per-tile statistics do not', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stc-gstats-'));
    await writeFile(join(dir, 'm.onnx'), tinyNetModel(3, true));
    const model = await loadImageModel(join(dir, 'm.onnx'), { threads: 1 });
    expect(model.tileRunner).toBeDefined();
    const img = image(120, 48);
    const [tile, overlap] = [40, 16];
    const whole = await stylizeImage(model.run, img);
    const global = await stylizeImage(model.run, img, { tile, overlap, tileRunner: model.tileRunner! });
    const perTile = await stylizeImage(model.run, img, { tile, overlap });
    // every place where a tile starts or ends inside the image
    const borders = planTiles(img.width, tile, overlap, TILE_ALIGN).flatMap((s) => [s.start, s.start + s.length]).filter((x) => x > 0 && x < img.width);
    expect(psnr(global, whole)).toBeGreaterThanOrEqual(40);
    expect(borderStep(global, whole, borders)).toBeLessThan(0.5);
    expect(psnr(perTile, whole)).toBeLessThan(35); // the old behaviour: tiles disagree in tone
    await model.dispose();
    await rm(dir, { recursive: true });
  });

  it('the statistics model outputs InstanceNormalization’s own mean and population variance', async () => {
    const v = instanceNormStatsModels(tinyNetModel(5, true))!;
    expect(v.names).toEqual([{ mean: 'stc_in0_mean', variance: 'stc_in0_var' }]);
    const s = await ort.InferenceSession.create(v.stats);
    const x = planar(image(24, 16));
    const out = await s.run({ [s.inputNames[0]!]: new ort.Tensor('float32', x.data, [...x.shape]) });
    const mean = out.stc_in0_mean!.data as Float32Array;
    const variance = out.stc_in0_var!.data as Float32Array;
    expect(out.stc_in0_mean!.dims).toEqual([1, 4, 1, 1]);
    // y = scale·(x − mean)/sqrt(var + eps) + bias: the fed model with these statistics equals the original
    const f = await ort.InferenceSession.create(v.fed);
    const fed = await f.run({
      [f.inputNames[0]!]: new ort.Tensor('float32', x.data, [...x.shape]),
      stc_in0_mean: new ort.Tensor('float32', mean, [1, 4, 1, 1]),
      stc_in0_var: new ort.Tensor('float32', variance, [1, 4, 1, 1]),
    });
    const a = out[s.outputNames[0]!]!.data as Float32Array;
    const b = fed[f.outputNames[0]!]!.data as Float32Array;
    let maxDiff = 0;
    for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
    expect(maxDiff).toBeLessThan(1e-3);
    expect(Math.min(...variance)).toBeGreaterThan(0);
    await s.release();
    await f.release();
  });
});

describe('aligned tile planning', () => {
  it('starts every tile on the grid, keeps lengths congruent to the image length, and covers the axis', () => {
    for (const [length, tile, overlap] of [
      [1331, 512, 64],
      [1054, 512, 64],
      [120, 40, 16],
      [97, 40, 16],
    ] as const) {
      const spans = planTiles(length, tile, overlap, TILE_ALIGN);
      expect(spans[0]!.start).toBe(0);
      expect(spans.at(-1)!.start + spans.at(-1)!.length).toBe(length);
      for (const s of spans) {
        expect(s.start % TILE_ALIGN).toBe(0);
        expect(Math.abs((s.length - length) % TILE_ALIGN)).toBe(0); // same padding split as the whole image at every stride-2 layer
        expect(s.length).toBeGreaterThanOrEqual(tile);
      }
      // consecutive tiles overlap by at least `overlap`
      for (let k = 1; k < spans.length; k++) expect(spans[k - 1]!.start + spans[k - 1]!.length - spans[k]!.start).toBeGreaterThanOrEqual(overlap);
    }
  });
});
