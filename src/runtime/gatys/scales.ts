/**
 * Coarse-to-fine Gatys (multi-scale): the image is optimised at a few sizes, each about √2 larger than
 * the last, the result of each upsampled to initialise the next. Large-scale structure (where the swirls
 * go) is settled cheaply at the coarse sizes, where a step costs a fraction of a full-size one and the
 * loss network's receptive fields cover more of the picture; the fine scales then only refine texture
 * (Gatys et al. 2017, "Controlling Perceptual Factors in Neural Style Transfer", §5; the same schedule
 * as jcjohnson/neural-style's multires recipe).
 */
import { UserError } from '../../util/errors.ts';

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
