/**
 * Colour metrics of a stylised picture (bench/quality.ts): is it washed out?
 *
 * - mean saturation: HSV saturation (max − min) / max per pixel (0 for black), averaged; the output's is
 *   compared with the style image's (a faithful transfer keeps the painting's colourfulness);
 * - luminance spread: the standard deviation of Rec. 601 luma (0.299 R + 0.587 G + 0.114 B), compared with
 *   the content image's (a faithful transfer keeps the photo's contrast);
 * - colour-histogram distance: χ² = ½ Σ (p − q)² / (p + q) between normalised 8×8×8 RGB histograms
 *   (0: identical, 1: disjoint), output against style.
 */
import type { RgbImage } from '../src/runtime/image-types.ts';

export function meanSaturation(img: RgbImage): number {
  const n = img.width * img.height;
  const d = img.data;
  let s = 0;
  for (let p = 0; p < n; p++) {
    const [r, g, b] = [d[p]!, d[n + p]!, d[2 * n + p]!];
    const max = Math.max(r, g, b);
    if (max > 0) s += (max - Math.min(r, g, b)) / max;
  }
  return s / n;
}

export function luminanceSpread(img: RgbImage): number {
  const n = img.width * img.height;
  const d = img.data;
  let s = 0;
  let s2 = 0;
  for (let p = 0; p < n; p++) {
    const y = 0.299 * d[p]! + 0.587 * d[n + p]! + 0.114 * d[2 * n + p]!;
    s += y;
    s2 += y * y;
  }
  const mean = s / n;
  return Math.sqrt(Math.max(0, s2 / n - mean * mean));
}

export function colourHistogram(img: RgbImage, bins = 8): Float64Array {
  const n = img.width * img.height;
  const d = img.data;
  const h = new Float64Array(bins ** 3);
  const q = (v: number): number => Math.min(bins - 1, Math.max(0, Math.floor((v / 256) * bins)));
  for (let p = 0; p < n; p++) h[(q(d[p]!) * bins + q(d[n + p]!)) * bins + q(d[2 * n + p]!)]! += 1 / n;
  return h;
}

export function chiSquared(p: Float64Array, q: Float64Array): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    const t = p[i]! + q[i]!;
    if (t > 0) s += (p[i]! - q[i]!) ** 2 / t;
  }
  return s / 2;
}

export interface QualityRow {
  /** Output saturation / style saturation. */
  readonly saturation: number;
  /** Output luminance spread / content luminance spread. */
  readonly spread: number;
  /** χ² distance of the output's colour histogram to the style's. */
  readonly histogram: number;
}

export function quality(output: RgbImage, content: RgbImage, style: RgbImage): QualityRow {
  return {
    saturation: meanSaturation(output) / meanSaturation(style),
    spread: luminanceSpread(output) / luminanceSpread(content),
    histogram: chiSquared(colourHistogram(output), colourHistogram(style)),
  };
}

/** The goal the issue sets: saturation ≥ 0.8× the style's and luminance spread ≥ 0.6× the content's. */
export const meetsGoal = (r: QualityRow): boolean => r.saturation >= 0.8 && r.spread >= 0.6;
