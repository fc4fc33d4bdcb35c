import { describe, expect, it } from 'vitest';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { axisWeights, planTiles, ramp, runTiled, type Rgb8 } from '../../../src/runtime/apply/tiling.ts';
import { loadImageModel } from '../../../src/runtime/apply/model.ts';
import { Rng } from '../../../src/runtime/data/rng.ts';
import { tinyNetModel } from './tiny-models.ts';

function noiseImage(w: number, h: number, seed: number): Rgb8 {
  const r = Rng.fromSeed(seed);
  return { width: w, height: h, data: Uint8Array.from({ length: 3 * w * h }, () => r.int(256)) };
}

/** A smooth image: gentle gradients, so any seam stands out. */
function smoothImage(w: number, h: number): Rgb8 {
  const d = new Uint8Array(3 * w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const o = 3 * (y * w + x);
      d[o] = 60 + (100 * x) / w;
      d[o + 1] = 80 + (90 * y) / h;
      d[o + 2] = 120 + 40 * Math.sin(x / 9 + y / 13);
    }
  return { width: w, height: h, data: d };
}

describe('tile planning', () => {
  it('covers the axis with full tiles, the last aligned to the end', () => {
    expect(planTiles(10, 16, 4)).toEqual([{ start: 0, length: 10 }]);
    expect(planTiles(40, 16, 4)).toEqual([
      { start: 0, length: 16 },
      { start: 12, length: 16 },
      { start: 24, length: 16 },
    ]);
    expect(planTiles(41, 16, 4).at(-1)).toEqual({ start: 25, length: 16 });
  });

  it('ramps of two tiles overlapping by exactly `overlap` sum to one', () => {
    const [ov, m] = [16, 4];
    for (let j = 0; j < ov; j++) expect(ramp(j, ov, m) + ramp(ov - 1 - j, ov, m)).toBeCloseTo(1, 12);
    expect(ramp(m - 1, ov, m)).toBe(0);
    expect(ramp(ov - m, ov, m)).toBe(1);
    const w = axisWeights({ start: 0, length: 16 }, 40, ov, m);
    expect(w[0]).toBe(1); // image border: no ramp
    expect(w[15]).toBe(0); // interior edge: zero margin
  });
});

describe('runTiled', () => {
  it('equals the untiled output for a network whose receptive field fits in the margin', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stc-tile-'));
    await writeFile(join(dir, 'm.onnx'), tinyNetModel(1));
    const model = await loadImageModel(join(dir, 'm.onnx'), { threads: 1 });
    const img = noiseImage(53, 37, 2);
    const whole = await runTiled(img, model.run, { tile: 64, overlap: 0 });
    let tiles = 0;
    // radius 2 <= margin 3 (overlap 12)
    const tiled = await runTiled(img, model.run, { tile: 20, overlap: 12, onTile: (_, t) => (tiles = t) });
    expect(tiles).toBeGreaterThan(4);
    let maxDiff = 0;
    let differing = 0;
    for (let i = 0; i < whole.data.length; i++) {
      const d = Math.abs(whole.data[i]! - tiled.data[i]!);
      maxDiff = Math.max(maxDiff, d);
      if (d > 0) differing++;
    }
    expect(maxDiff).toBeLessThanOrEqual(1); // float summation order only
    expect(differing / whole.data.length).toBeLessThan(0.01);
    // and a too-small margin is visibly wrong, so the check above has teeth
    const bad = await runTiled(img, model.run, { tile: 20, overlap: 12, margin: 0 });
    let badMax = 0;
    for (let i = 0; i < whole.data.length; i++) badMax = Math.max(badMax, Math.abs(whole.data[i]! - bad.data[i]!));
    expect(badMax).toBeGreaterThan(3);
    await model.dispose();
    await rm(dir, { recursive: true });
  });

  it('leaves no seam for an instance-norm network (per-tile statistics), unlike hard-cut tiles', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stc-tile-'));
    await writeFile(join(dir, 'm.onnx'), tinyNetModel(3, true));
    const model = await loadImageModel(join(dir, 'm.onnx'), { threads: 1 });
    const img = smoothImage(96, 40);
    const [tile, overlap] = [40, 20];
    const whole = await runTiled(img, model.run, { tile: 96, overlap: 0 });
    // The tiled result's deviation from the whole-image result, and its largest column-to-column
    // jump (mean over rows and channels): a seam is a jump in that deviation.
    const seam = (o: Rgb8): { jump: number; dev: number } => {
      let jump = 0;
      let dev = 0;
      const d = (x: number, y: number, c: number): number => o.data[3 * (y * o.width + x) + c]! - whole.data[3 * (y * o.width + x) + c]!;
      // columns next to the image border are skipped: zero padding makes their outputs outliers in both runs
      for (let x = 4; x < o.width - 4; x++) {
        let s = 0;
        let m = 0;
        for (let y = 0; y < o.height; y++)
          for (let c = 0; c < 3; c++) {
            s += Math.abs(d(x, y, c) - d(x - 1, y, c));
            m += Math.abs(d(x, y, c));
          }
        jump = Math.max(jump, s / (3 * o.height));
        dev = Math.max(dev, m / (3 * o.height));
      }
      return { jump, dev };
    };
    const blended = seam(await runTiled(img, model.run, { tile, overlap }));
    // hard cut: margin 9 of overlap 20 leaves a 2-pixel ramp, i.e. practically a cut
    const hard = seam(await runTiled(img, model.run, { tile, overlap, margin: 9 }));
    expect(hard.dev).toBeGreaterThan(2); // tiles really disagree (instance norm sees different statistics)
    expect(hard.jump).toBeGreaterThan(2.5);
    expect(blended.jump).toBeLessThan(hard.jump / 2); // the raised cosine spreads the disagreement over the overlap
    await model.dispose();
    await rm(dir, { recursive: true });
  });
});
