/**
 * Coarse-to-fine Gatys (multi-scale): the image is optimised at a few sizes, each about √2 larger than
 * the last, the result of each upsampled to initialise the next. Large-scale structure (where the swirls
 * go) is settled cheaply at the coarse sizes, where a step costs a fraction of a full-size one and the
 * loss network's receptive fields cover more of the picture; the fine scales then only refine texture
 * (Gatys et al. 2017, "Controlling Perceptual Factors in Neural Style Transfer", §5; the same schedule
 * as jcjohnson/neural-style's multires recipe).
 */
import { UserError } from '../../util/errors.ts';
import { resizeImage } from '../image.ts';
import type { RgbImage } from '../image-types.ts';

/** The factor between consecutive scales when only the number of scales is given. */
export const SCALE_STEP = Math.SQRT2;

/**
 * Long sides of the scales, coarse to fine, ending at `size`. With `startSize` the sizes are spaced
 * geometrically from it to `size`; otherwise each is `size / √2^k`. Sizes are rounded to integers.
 */
export function scaleSizes(size: number, scales: number, startSize?: number): number[] {
  if (!Number.isInteger(scales) || scales < 1) throw new UserError(`--scales must be a positive integer, got ${scales}`);
  if (startSize !== undefined && !(startSize > 0 && startSize <= size))
    throw new UserError(`--start-size must be between 1 and --size (${size}), got ${startSize}`);
  if (scales === 1) return [size];
  const ratio = startSize !== undefined ? (size / startSize) ** (1 / (scales - 1)) : SCALE_STEP;
  const out: number[] = [];
  for (let k = scales - 1; k >= 0; k--) out.push(Math.max(1, Math.round(size / ratio ** k)));
  return out;
}

/**
 * Iterations per scale, coarse to fine: an explicit list (one per scale), or `iterations` at every scale.
 */
export function scaleIterations(scales: number, iterations: number, perScale?: readonly number[]): number[] {
  if (perScale === undefined) return new Array<number>(scales).fill(iterations);
  if (perScale.length !== scales) throw new UserError(`--scale-iters lists ${perScale.length} counts for ${scales} scales`);
  for (const n of perScale) if (!Number.isInteger(n) || n < 0) throw new UserError(`--scale-iters counts must be integers ≥ 0, got ${n}`);
  if (perScale.at(-1)! < 1) throw new UserError('--scale-iters: the finest scale needs at least one iteration');
  return [...perScale];
}

/**
 * The start of a finer scale: the coarser result upsampled, plus the content's own detail that the coarse size
 * cannot hold (content − upsample(downsample(content)), the top band of a Laplacian pyramid), clipped to 0..255.
 * Upsampling alone leaves a blurred image whose finest Gram statistics (relu1_1) are as far from the style's as a
 * fresh start's; the added band gives the fine scale the photo's edges to stylise instead of a blur.
 */
export function upsampleWithDetail(coarse: RgbImage, content: RgbImage): RgbImage {
  const { width, height } = content;
  const up = resizeImage(coarse, width, height);
  const blurred = resizeImage(resizeImage(content, coarse.width, coarse.height), width, height);
  const data = new Float32Array(up.data.length);
  for (let i = 0; i < data.length; i++) data[i] = Math.min(255, Math.max(0, up.data[i]! + content.data[i]! - blurred.data[i]!));
  return { width, height, data };
}
