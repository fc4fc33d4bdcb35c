import { describe, expect, it } from 'vitest';
import { matchPalette } from '../../../src/runtime/gatys/palette.ts';
import { RGB_TO_YIQ } from '../../../src/runtime/colour.ts';
import type { RgbImage } from '../../../src/runtime/image-types.ts';
import { Rng } from '../../../src/runtime/data/rng.ts';

/** Pixels around a base colour, each channel within ±spread (kept away from the 0..255 clamp). */
function image(seed: number, base: [number, number, number], spread: number, mix = 0): RgbImage {
  const rng = Rng.fromSeed(seed);
  const n = 400;
  const data = new Float32Array(3 * n);
  for (let p = 0; p < n; p++) {
    const shared = rng.uniform(-spread, spread);
    for (let c = 0; c < 3; c++) data[c * n + p] = base[c]! + mix * shared + (1 - mix) * rng.uniform(-spread, spread);
  }
  return { width: 20, height: 20, data };
}

/** Mean and covariance of Y, I, Q. */
function yiqStats(img: RgbImage): { mean: number[]; cov: number[][] } {
  const n = img.width * img.height;
  const v = [0, 1, 2].map((k) => Array.from({ length: n }, (_, p) => RGB_TO_YIQ[k * 3]! * img.data[p]! + RGB_TO_YIQ[k * 3 + 1]! * img.data[n + p]! + RGB_TO_YIQ[k * 3 + 2]! * img.data[2 * n + p]!));
  const mean = v.map((a) => a.reduce((s, x) => s + x, 0) / n);
  const cov = [0, 1, 2].map((i) => [0, 1, 2].map((j) => v[i]!.reduce((s, x, p) => s + (x - mean[i]!) * (v[j]![p]! - mean[j]!), 0) / n));
  return { mean, cov };
}

describe('matchPalette', () => {
  const img = image(1, [120, 128, 110], 30, 0.7);
  const ref = image(2, [150, 120, 95], 25);
  it("gives the image the reference's chroma mean and covariance and keeps its luminance", () => {
    const out = yiqStats(matchPalette(img, ref));
    const [r, before] = [yiqStats(ref), yiqStats(img)];
    for (const k of [1, 2]) expect(out.mean[k]).toBeCloseTo(r.mean[k]!, 1);
    for (const [i, j] of [[1, 1], [1, 2], [2, 2]] as const) expect(out.cov[i]![j]! / r.cov[i]![j]!).toBeCloseTo(1, 1);
    expect(out.mean[0]).toBeCloseTo(before.mean[0]!, 1);
    expect(out.cov[0]![0]!).toBeCloseTo(before.cov[0]![0]!, 1);
  });
  it("with a luminance reference, takes that reference's luminance mean and spread", () => {
    const luma = image(3, [140, 140, 140], 40, 1);
    const out = yiqStats(matchPalette(img, ref, luma));
    const l = yiqStats(luma);
    expect(out.mean[0]).toBeCloseTo(l.mean[0]!, 1);
    expect(Math.sqrt(out.cov[0]![0]!) / Math.sqrt(l.cov[0]![0]!)).toBeCloseTo(1, 2);
  });
});
