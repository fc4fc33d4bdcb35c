/**
 * Image reading for the Gatys runtime over the shared image module (src/runtime/image.ts):
 * Gatys sizes are long sides that may enlarge (`--size` is the output size, whatever the input's).
 */
import { probeImage, readImage } from '../image.ts';
import type { RgbImage } from '../image-types.ts';

export interface Size {
  readonly width: number;
  readonly height: number;
}

/** Size with the long side equal to `longSide`, aspect ratio kept (rounded, at least 1). */
export function sizeForLongSide(width: number, height: number, longSide: number): Size {
  const k = longSide / Math.max(width, height);
  return { width: Math.max(1, Math.round(width * k)), height: Math.max(1, Math.round(height * k)) };
}

/** Decode `path` upright, resized to `size` or to a long side (up or down), as planar RGB 0..255. */
export async function readRgbImage(path: string, size: Size | { readonly longSide: number }): Promise<RgbImage> {
  const info = await probeImage(path);
  const target = 'longSide' in size ? sizeForLongSide(info.width, info.height, size.longSide) : size;
  return readImage(path, { resize: target });
}
