/**
 * Image resizing with a separable triangle (linear) filter whose support
 * widens by the scale factor when shrinking, so downscaling averages over the
 * covered source pixels instead of aliasing. Pixel centres are aligned
 * (source coordinate = (x + 0.5) · scale − 0.5).
 */
import { createImage, type RgbImage } from '../runtime/image-types.ts';

interface Taps {
  readonly start: Int32Array;
  readonly count: Int32Array;
  readonly weights: Float64Array;
  readonly maxTaps: number;
}

function taps(inSize: number, outSize: number): Taps {
  const scale = inSize / outSize;
  const support = Math.max(1, scale);
  const maxTaps = Math.ceil(2 * support) + 2;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * maxTaps);
  for (let o = 0; o < outSize; o++) {
    const centre = (o + 0.5) * scale - 0.5;
    const lo = Math.max(0, Math.ceil(centre - support));
    const hi = Math.min(inSize - 1, Math.floor(centre + support));
    let sum = 0;
    let n = 0;
    for (let i = lo; i <= hi && n < maxTaps; i++, n++) {
      const w = Math.max(0, 1 - Math.abs(i - centre) / support);
      weights[o * maxTaps + n] = w;
      sum += w;
    }
    if (sum === 0) {
      // The centre lies outside the source: take the nearest edge pixel.
      start[o] = Math.min(inSize - 1, Math.max(0, Math.round(centre)));
      count[o] = 1;
      weights[o * maxTaps] = 1;
      continue;
    }
    for (let k = 0; k < n; k++) weights[o * maxTaps + k] /= sum;
    start[o] = lo;
    count[o] = n;
  }
  return { start, count, weights, maxTaps };
}

/** Resizes to width × height (each ≥ 1). */
export function resizeImage(img: RgbImage, width: number, height: number): RgbImage {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width >= 1 && height >= 1)) {
    throw new Error(`resizeImage: bad size ${width}x${height}`);
  }
  if (width === img.width && height === img.height) return { width, height, data: img.data.slice() };
  const tx = taps(img.width, width);
  const ty = taps(img.height, height);
  const out = createImage(width, height);
  const tmp = new Float32Array(img.height * width);
  for (let c = 0; c < 3; c++) {
    const src = img.data.subarray(c * img.width * img.height, (c + 1) * img.width * img.height);
    for (let y = 0; y < img.height; y++) {
      for (let x = 0; x < width; x++) {
        let s = 0;
        const base = x * tx.maxTaps;
        for (let k = 0; k < tx.count[x]; k++) s += tx.weights[base + k] * src[y * img.width + tx.start[x] + k];
        tmp[y * width + x] = s;
      }
    }
    const dst = out.data.subarray(c * width * height, (c + 1) * width * height);
    for (let y = 0; y < height; y++) {
      const base = y * ty.maxTaps;
      for (let x = 0; x < width; x++) {
        let s = 0;
        for (let k = 0; k < ty.count[y]; k++) s += ty.weights[base + k] * tmp[(ty.start[y] + k) * width + x];
        dst[y * width + x] = s;
      }
    }
  }
  return out;
}

/** The size whose longer side is `longSide`, keeping the aspect ratio (each side ≥ 1). */
export function fitLongSide(width: number, height: number, longSide: number): { width: number; height: number } {
  const scale = longSide / Math.max(width, height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}
