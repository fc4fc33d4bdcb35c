/**
 * 8-bit image reading and writing for `apply`, kept in interleaved RGB bytes so
 * large images cost 3 bytes a pixel. Writes are atomic (src/runtime/atomic-write.ts).
 */
import { extname } from 'node:path';
import { UserError } from '../../util/errors.ts';
import { writeFileAtomic } from '../../util/atomic-write.ts';
import { DEFAULT_MAX_PIXELS, sizeForLongSide } from '../image.ts';
import { openSharp } from '../sharp.ts';
import type { Rgb8 } from './tiling.ts';

/** Size that fits inside maxSize×maxSize keeping the aspect ratio (never enlarging). */
export function fitWithin(width: number, height: number, maxSize?: number): { width: number; height: number } {
  if (maxSize === undefined || Math.max(width, height) <= maxSize) return { width, height };
  return sizeForLongSide(width, height, maxSize);
}

export async function imageSize(path: string): Promise<{ width: number; height: number }> {
  let size: { width: number; height: number };
  try {
    const m = await openSharp(path).metadata();
    const width = m.autoOrient?.width ?? m.width;
    const height = m.autoOrient?.height ?? m.height;
    if (!width || !height) throw new Error('no size in header');
    size = { width, height };
  } catch (e) {
    throw new UserError(`cannot read image ${path}: ${(e as Error).message}`);
  }
  // The same decompression-bomb cap as every other command (runtime/image.ts), before any pixel is decoded.
  if (size.width * size.height > DEFAULT_MAX_PIXELS)
    throw new UserError(
      `image ${path} claims ${size.width}x${size.height} pixels (${((size.width * size.height) / 1e6).toFixed(0)} megapixels), over the limit of ${DEFAULT_MAX_PIXELS / 1e6} megapixels; refusing to decode it`,
    );
  return size;
}

/** Decode an image to RGB bytes, auto-oriented, alpha flattened onto white (the rule of runtime/image.ts), shrunk to fit `maxSize` if given. */
export async function readRgb8(path: string, maxSize?: number): Promise<Rgb8> {
  const size = await imageSize(path);
  const target = fitWithin(size.width, size.height, maxSize);
  try {
    let img = openSharp(path, { autoOrient: true, limitInputPixels: false });
    if (target.width !== size.width || target.height !== size.height) img = img.resize(target.width, target.height, { fit: 'fill' });
    const { data, info } = await img.flatten({ background: '#ffffff' }).toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`expected 3 channels, got ${info.channels}`);
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (e) {
    throw new UserError(`cannot decode image ${path}: ${(e as Error).message}`);
  }
}

/** Resize 8-bit RGB (for the whole-image statistics pass of tiled apply). */
export async function resizeRgb8(img: Rgb8, size: { width: number; height: number }): Promise<Rgb8> {
  const s = openSharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 }, limitInputPixels: false });
  const { data, info } = await s.resize(size.width, size.height, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

const FORMATS: Readonly<Record<string, 'png' | 'jpeg' | 'webp'>> = { '.png': 'png', '.jpg': 'jpeg', '.jpeg': 'jpeg', '.webp': 'webp' };

export function outputFormat(path: string): 'png' | 'jpeg' | 'webp' {
  const f = FORMATS[extname(path).toLowerCase()];
  if (!f) throw new UserError(`cannot write ${path}: use a .png, .jpg or .webp output name`);
  return f;
}

export async function writeRgb8(path: string, img: Rgb8): Promise<void> {
  const format = outputFormat(path);
  try {
    const s = openSharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 }, limitInputPixels: false });
    await writeFileAtomic(path, await (format === 'png' ? s.png() : format === 'jpeg' ? s.jpeg({ quality: 92 }) : s.webp({ quality: 92 })).toBuffer());
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`cannot write ${path}: ${(e as Error).message}`);
  }
}
