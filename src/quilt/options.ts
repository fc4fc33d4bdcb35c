/**
 * Validation of quilting parameters against the images. Problems with the
 * user's input (sizes, flag values) are UserErrors with a plain message.
 */
import { UserError } from '../util/errors.ts';
import type { RgbImage } from '../runtime/image-types.ts';

/**
 * Pixels of any image quilting makes or scales (texture, target, output): 16 megapixels. Quilting keeps
 * several float planes, SSD maps and FFT buffers per image and runs for minutes even at 1 megapixel, so
 * this is far below the 100-megapixel cap on decoded images.
 */
export const QUILT_MAX_PIXELS = 16_000_000;

export function checkInteger(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new UserError(`${name} must be an integer ≥ ${min}, got ${value}`);
}

export function checkRange(name: string, value: number, lo: number, hi: number): void {
  if (!(Number.isFinite(value) && value >= lo && value <= hi)) {
    throw new UserError(`${name} must be between ${lo} and ${hi}, got ${value}`);
  }
}

/** Block and overlap sizes: block ≥ 2, 1 ≤ overlap ≤ block / 2. */
export function checkBlock(block: number, overlap: number): void {
  checkInteger('block size', block, 2);
  checkInteger('overlap', overlap, 1);
  if (2 * overlap > block) throw new UserError(`overlap ${overlap} is more than half the block size ${block}`);
}

export function checkTextureFits(texture: RgbImage, block: number): void {
  if (texture.width < block || texture.height < block) {
    throw new UserError(
      `the texture (${texture.width}x${texture.height} px) is smaller than one ${block}x${block} block: use a smaller block size or a larger texture`,
    );
  }
}

export function checkTargetFits(target: { width: number; height: number }, block: number): void {
  if (target.width < block || target.height < block) {
    throw new UserError(
      `the block size ${block} is larger than the target (${target.width}x${target.height} px): use a smaller block size`,
    );
  }
}
