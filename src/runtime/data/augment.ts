/**
 * Random resize-and-crop for training (pure geometry; decoding is elsewhere).
 *
 * Convention: the image is resized, keeping its aspect ratio, so that its
 * short side becomes `round(size * s)` with s ~ U[1, maxScale) (default 1.15),
 * then a `size`×`size` window is cropped at a uniformly random position.
 *
 * The random numbers are drawn before the image's size is known (three
 * uniforms per sample: scale, then vertical, then horizontal position), so the
 * generator advances identically whatever order decodes finish in.
 */
import type { Rng } from './rng.ts';

export interface CropDraw {
  /** Short-side scale factor in [1, maxScale). */
  readonly scale: number;
  /** Crop position as fractions in [0, 1) of the free range. */
  readonly fy: number;
  readonly fx: number;
}

export interface ResizeCrop {
  /** Size after resizing, before cropping. */
  readonly width: number;
  readonly height: number;
  /** Top-left corner of the crop in the resized image. */
  readonly left: number;
  readonly top: number;
  /** Square crop side. */
  readonly size: number;
}

export const DEFAULT_MAX_SCALE = 1.15;

export function drawCrop(rng: Rng, maxScale = DEFAULT_MAX_SCALE): CropDraw {
  const scale = rng.uniform(1, maxScale);
  const fy = rng.next();
  const fx = rng.next();
  return { scale, fy, fx };
}

export function planResizeCrop(srcWidth: number, srcHeight: number, size: number, draw: CropDraw): ResizeCrop {
  if (srcWidth <= 0 || srcHeight <= 0) throw new Error(`planResizeCrop: empty source ${srcWidth}x${srcHeight}`);
  const short = Math.max(size, Math.round(size * draw.scale));
  const k = short / Math.min(srcWidth, srcHeight);
  const width = Math.max(size, Math.round(srcWidth * k));
  const height = Math.max(size, Math.round(srcHeight * k));
  const top = Math.floor(draw.fy * (height - size + 1));
  const left = Math.floor(draw.fx * (width - size + 1));
  return { width, height, left, top, size };
}
