/** Correspondence maps for texture transfer: luminance and a Gaussian-blurred luminance. */
import type { RgbImage } from '../runtime/image-types.ts';

/** Rec. 601 luma, 0.299 R + 0.587 G + 0.114 B, in the image's 0..255 range; row-major height × width. */
export function luminance(img: RgbImage): Float32Array {
  const n = img.width * img.height;
  const out = new Float32Array(n);
  const d = img.data;
  for (let i = 0; i < n; i++) out[i] = 0.299 * d[i] + 0.587 * d[n + i] + 0.114 * d[2 * n + i];
  return out;
}

/**
 * Separable Gaussian blur with standard deviation sigma (pixels), kernel
 * radius ⌈3σ⌉ normalised to sum 1, edges clamped (replicated).
 */
export function gaussianBlur(plane: Float32Array, height: number, width: number, sigma: number): Float32Array {
  if (!(sigma > 0)) return plane.slice();
  const radius = Math.ceil(3 * sigma);
  const kernel = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let k = -radius; k <= radius; k++) sum += kernel[k + radius] = Math.exp(-(k * k) / (2 * sigma * sigma));
  for (let k = 0; k < kernel.length; k++) kernel[k] /= sum;
  const tmp = new Float32Array(plane.length);
  const out = new Float32Array(plane.length);
  const clamp = (v: number, hi: number): number => (v < 0 ? 0 : v > hi ? hi : v);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let k = -radius; k <= radius; k++) s += kernel[k + radius] * plane[y * width + clamp(x + k, width - 1)];
      tmp[y * width + x] = s;
    }
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let k = -radius; k <= radius; k++) s += kernel[k + radius] * tmp[clamp(y + k, height - 1) * width + x];
      out[y * width + x] = s;
    }
  }
  return out;
}

/**
 * Luminance remapping (Hertzmann et al., Image Analogies, 2001): the affine
 * map of `plane` whose mean and standard deviation equal those of
 * `reference`, v' = (v − μ) · σ_ref / σ + μ_ref. A constant plane maps to μ_ref.
 */
export function matchMeanStd(plane: Float32Array, reference: Float32Array): Float32Array {
  const stats = (v: Float32Array): [number, number] => {
    let s = 0;
    for (let i = 0; i < v.length; i++) s += v[i];
    const mean = s / v.length;
    let q = 0;
    for (let i = 0; i < v.length; i++) q += (v[i] - mean) ** 2;
    return [mean, Math.sqrt(q / v.length)];
  };
  const [mean, std] = stats(plane);
  const [refMean, refStd] = stats(reference);
  const gain = std > 0 ? refStd / std : 0;
  return plane.map((v) => (v - mean) * gain + refMean);
}
