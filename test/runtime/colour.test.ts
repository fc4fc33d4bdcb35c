import { describe, expect, it } from 'vitest';
import { cholesky3, colourStats, matchColour, RGB_TO_YIQ, transferLuminance, YIQ_TO_RGB } from '../../src/runtime/colour.ts';
import type { RgbImage } from '../../src/runtime/image-types.ts';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Pixels c = mean + M z with z uniform in [-1, 1]^3 (independent), 37x53. */
function synthetic(mean: number[], m: number[], seed: number): RgbImage {
  const w = 53;
  const h = 37;
  const n = w * h;
  const r = seeded(seed);
  const data = new Float32Array(3 * n);
  for (let p = 0; p < n; p++) {
    const z = [2 * r() - 1, 2 * r() - 1, 2 * r() - 1];
    for (let c = 0; c < 3; c++) data[c * n + p] = mean[c]! + m[c * 3]! * z[0]! + m[c * 3 + 1]! * z[1]! + m[c * 3 + 2]! * z[2]!;
  }
  return { width: w, height: h, data };
}

describe('colour', () => {
  it('YIQ matrices are inverse; grey has zero chroma', () => {
    const grey = [100, 100, 100];
    expect(RGB_TO_YIQ[3]! * 100 + RGB_TO_YIQ[4]! * 100 + RGB_TO_YIQ[5]! * 100).toBeCloseTo(0, 3);
    const y = RGB_TO_YIQ[0]! + RGB_TO_YIQ[1]! + RGB_TO_YIQ[2]!;
    expect(y).toBeCloseTo(1, 10);
    // YIQ_TO_RGB applied to (Y, 0, 0) gives grey Y.
    for (let c = 0; c < 3; c++) expect(YIQ_TO_RGB[c * 3]! * grey[0]!).toBeCloseTo(100, 8);
  });

  it('cholesky3 factors a known SPD matrix', () => {
    // L = [[2,0,0],[1,3,0],[0.5,-1,1]] -> L Lᵀ
    const s = [4, 2, 1, 2, 10, -2.5, 1, -2.5, 2.25] as const;
    const l = cholesky3([...s] as never);
    expect(l.map((v) => Number(v.toFixed(12)))).toEqual([2, 0, 0, 1, 3, 0, 0.5, -1, 1]);
  });

  it('histogram matching gives the style image the content mean and covariance', () => {
    const content = synthetic([120, 100, 80], [30, 5, 0, 5, 25, 3, 0, 3, 20], 1);
    const style = synthetic([60, 140, 170], [10, -8, 2, 0, 15, 0, 4, 0, 12], 2);
    const cs = colourStats(content);
    const out = colourStats(matchColour(style, content));
    for (let c = 0; c < 3; c++) expect(out.mean[c]).toBeCloseTo(cs.mean[c]!, 2);
    for (let i = 0; i < 9; i++) expect(out.cov[i]! / cs.cov[0]!).toBeCloseTo(cs.cov[i]! / cs.cov[0]!, 4);
  });

  it('histogram matching survives a flat (zero-covariance) style image', () => {
    const content = synthetic([120, 100, 80], [30, 5, 0, 5, 25, 3, 0, 3, 20], 1);
    const flat = synthetic([10, 20, 30], [0, 0, 0, 0, 0, 0, 0, 0, 0], 3);
    const out = colourStats(matchColour(flat, content));
    for (let c = 0; c < 3; c++) expect(out.mean[c]).toBeCloseTo(colourStats(content).mean[c]!, 1);
  });

  it('luminance transfer keeps the stylised luminance and the content chroma', () => {
    const content = synthetic([120, 100, 80], [30, 5, 0, 5, 25, 3, 0, 3, 20], 4);
    const stylised = synthetic([110, 110, 110], [20, 20, 20, 20, 20, 20, 20, 20, 20], 5); // grey-ish, varying luminance
    const out = transferLuminance(stylised, content);
    const n = content.width * content.height;
    const yiq = (img: RgbImage, p: number, k: number) =>
      RGB_TO_YIQ[k * 3]! * img.data[p]! + RGB_TO_YIQ[k * 3 + 1]! * img.data[n + p]! + RGB_TO_YIQ[k * 3 + 2]! * img.data[2 * n + p]!;
    for (const p of [0, 17, 500, n - 1]) {
      expect(yiq(out, p, 0)).toBeCloseTo(yiq(stylised, p, 0), 3);
      expect(yiq(out, p, 1)).toBeCloseTo(yiq(content, p, 1), 3);
      expect(yiq(out, p, 2)).toBeCloseTo(yiq(content, p, 2), 3);
    }
    expect(() => transferLuminance({ width: 2, height: 2, data: new Float32Array(12) }, content)).toThrow(/sizes differ/);
  });
});
