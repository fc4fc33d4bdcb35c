import { createImage, type RgbImage } from '../../src/runtime/image-types.ts';
import { mulberry32 } from '../../src/util/prng.ts';

/** A period-8 checkerboard (4 px squares) with a ramp inside each period so that only whole-period shifts match. */
export function periodicTexture(width: number, height: number, period = 8): RgbImage {
  const img = createImage(width, height);
  const n = width * height;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const px = x % period;
      const py = y % period;
      const square = (Math.floor(px / (period / 2)) + Math.floor(py / (period / 2))) % 2;
      img.data[y * width + x] = square ? 220 : 30;
      img.data[n + y * width + x] = 10 * px + 3 * py;
      img.data[2 * n + y * width + x] = 100 + 5 * py;
    }
  }
  return img;
}

export function noiseImage(width: number, height: number, seed: number): RgbImage {
  const rng = mulberry32(seed);
  const img = createImage(width, height);
  for (let i = 0; i < img.data.length; i++) img.data[i] = Math.round(rng() * 255);
  return img;
}

export function pixel(img: RgbImage, c: number, y: number, x: number): number {
  return img.data[c * img.width * img.height + y * img.width + x];
}

/** Pearson correlation of two equally long sample arrays. */
export function correlation(a: Float32Array, b: Float32Array): number {
  const mean = (v: Float32Array) => v.reduce((s, x) => s + x, 0) / v.length;
  const ma = mean(a);
  const mb = mean(b);
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < a.length; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}
