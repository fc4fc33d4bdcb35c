/**
 * The starting image of a Gatys optimisation.
 * - `noise`: seeded white noise, uniform in [96, 160) around mid-grey per channel and pixel. A
 *   low-amplitude noise image (as most implementations use, e.g. neural-style's randn·small)
 *   converges faster and with less residual speckle than full-range [0, 255] noise.
 * - `content` / `style`: a copy of the (resized) content image, or of the first style image
 *   resized to the output size.
 * - an image file: decoded and resized to the output size by the caller.
 */
import { Rng } from '../data/rng.ts';
import type { RgbImage } from '../image-types.ts';

export function noiseImage(width: number, height: number, seed: number): RgbImage {
  const rng = Rng.fromSeed(seed);
  const data = new Float32Array(3 * width * height);
  for (let i = 0; i < data.length; i++) data[i] = rng.uniform(96, 160);
  return { width, height, data };
}
