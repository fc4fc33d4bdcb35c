import { describe, expect, it } from 'vitest';
import { chiSquared, colourHistogram, luminanceSpread, meanSaturation, meetsGoal, quality } from '../../bench/quality-metrics.ts';
import type { RgbImage } from '../../src/runtime/image-types.ts';

/** An image of the given RGB pixels (one row). */
function row(...px: [number, number, number][]): RgbImage {
  const n = px.length;
  const data = new Float32Array(3 * n);
  px.forEach(([r, g, b], i) => ((data[i] = r), (data[n + i] = g), (data[2 * n + i] = b)));
  return { width: n, height: 1, data };
}

describe('quality metrics', () => {
  it('saturation: 0 for greys, 1 for pure colours, HSV (max − min) / max', () => {
    expect(meanSaturation(row([128, 128, 128], [0, 0, 0]))).toBe(0);
    expect(meanSaturation(row([255, 0, 0], [0, 0, 200]))).toBe(1);
    expect(meanSaturation(row([200, 100, 100]))).toBeCloseTo(0.5, 6);
  });
  it('luminance spread: the standard deviation of Rec. 601 luma', () => {
    expect(luminanceSpread(row([0, 0, 0], [255, 255, 255]))).toBeCloseTo(127.5, 3);
    expect(luminanceSpread(row([255, 0, 0], [255, 0, 0]))).toBe(0);
  });
  it('χ² histogram distance: 0 for the same colours, 1 for disjoint ones', () => {
    const a = row([10, 10, 10], [250, 0, 0]);
    expect(chiSquared(colourHistogram(a), colourHistogram(row([250, 0, 0], [10, 10, 10])))).toBe(0);
    expect(chiSquared(colourHistogram(a), colourHistogram(row([0, 250, 0], [0, 0, 250])))).toBeCloseTo(1, 9);
  });
  it('a grey copy of a colourful output fails the saturation goal, the colourful one meets it', () => {
    const content = row([0, 0, 0], [255, 255, 255]);
    const style = row([255, 0, 0], [0, 0, 255]);
    // As colourful as the style, but a fifth of the content's luminance spread.
    expect(meetsGoal(quality(row([255, 0, 0], [0, 0, 255]), content, style))).toBe(false);
    const q = quality(row([250, 20, 20], [20, 250, 250]), content, style);
    expect(q.saturation).toBeGreaterThan(0.9);
    expect(meetsGoal(quality(row([120, 120, 120], [136, 136, 136]), content, style))).toBe(false);
  });
});
