/**
 * Image reading/writing for the Gatys runtime: a thin private adapter over sharp, to be replaced
 * by the shared image module (src/runtime/image.ts) once it lands. Decoded images are planar RGB
 * float32 in 0..255 (RgbImage); writes are atomic (temp file, then rename).
 */
import { stat, access, constants } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import sharp, { type Metadata } from 'sharp';
import { UserError } from '../../cli/errors.ts';
import { writeFileAtomic } from '../atomic-write.ts';
import type { RgbImage } from '../image-types.ts';

/** Decoding refuses images above this many pixels (decompression bombs). */
const MAX_INPUT_PIXELS = 16384 * 16384;

const OUTPUT_FORMATS: Readonly<Record<string, 'png' | 'jpeg' | 'webp'>> = { '.png': 'png', '.jpg': 'jpeg', '.jpeg': 'jpeg', '.webp': 'webp' };

export interface Size {
  readonly width: number;
  readonly height: number;
}

/** Size with the long side equal to `longSide`, aspect ratio kept (rounded, at least 1). */
export function sizeForLongSide(width: number, height: number, longSide: number): Size {
  const k = longSide / Math.max(width, height);
  return { width: Math.max(1, Math.round(width * k)), height: Math.max(1, Math.round(height * k)) };
}

/** Decode `path`, auto-oriented, resized to `size` (or to a long side), as planar RGB 0..255. */
export async function readRgbImage(path: string, size: Size | { readonly longSide: number }): Promise<RgbImage> {
  let meta: Metadata;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new Error('not a file');
    if (st.size === 0) throw new Error('the file is empty');
    meta = await sharp(path, { limitInputPixels: MAX_INPUT_PIXELS }).metadata();
  } catch (e) {
    throw new UserError(`cannot read image ${path}: ${(e as Error).message}`);
  }
  const w0 = meta.autoOrient?.width ?? meta.width;
  const h0 = meta.autoOrient?.height ?? meta.height;
  if (!w0 || !h0) throw new UserError(`cannot read image ${path}: no size in its header`);
  if (w0 * h0 > MAX_INPUT_PIXELS) throw new UserError(`image ${path} is ${w0}x${h0}, above the ${MAX_INPUT_PIXELS}-pixel limit`);
  const target = 'longSide' in size ? sizeForLongSide(w0, h0, size.longSide) : size;
  try {
    const { data, info } = await sharp(path, { autoOrient: true, limitInputPixels: MAX_INPUT_PIXELS })
      .resize(target.width, target.height, { fit: 'fill', kernel: 'lanczos3' })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const n = info.width * info.height;
    const out = new Float32Array(3 * n);
    for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) out[c * n + p] = data[p * info.channels + c]!;
    return { width: info.width, height: info.height, data: out };
  } catch (e) {
    throw new UserError(`cannot decode image ${path}: ${(e as Error).message}`);
  }
}

/** Resize an in-memory image (used to bring a style image to the output size for `--init style`). */
export async function resizeRgbImage(img: RgbImage, size: Size): Promise<RgbImage> {
  const { data, info } = await sharp(toInterleaved(img), { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(size.width, size.height, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const n = info.width * info.height;
  const out = new Float32Array(3 * n);
  for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) out[c * n + p] = data[p * 3 + c]!;
  return { width: info.width, height: info.height, data: out };
}

function toInterleaved(img: RgbImage): Buffer {
  const n = img.width * img.height;
  const buf = Buffer.alloc(3 * n);
  for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) buf[p * 3 + c] = Math.round(Math.min(255, Math.max(0, img.data[c * n + p]!)));
  return buf;
}

/** Fail early (before any compute) when `path` cannot be written: unknown extension, missing or read-only folder. */
export async function checkOutputPath(path: string): Promise<void> {
  if (!OUTPUT_FORMATS[extname(path).toLowerCase()]) throw new UserError(`cannot write ${path}: use a .png, .jpg or .webp output name`);
  const dir = dirname(resolve(path));
  let st;
  try {
    st = await stat(dir);
  } catch {
    throw new UserError(`cannot write ${path}: the folder ${dir} does not exist`);
  }
  if (!st.isDirectory()) throw new UserError(`cannot write ${path}: ${dir} is not a folder`);
  try {
    await access(dir, constants.W_OK);
  } catch {
    throw new UserError(`cannot write ${path}: the folder ${dir} is not writable`);
  }
}

/** Encode (rounded, clamped to 0..255) by the extension and write atomically. */
export async function writeRgbImage(path: string, img: RgbImage): Promise<void> {
  const format = OUTPUT_FORMATS[extname(path).toLowerCase()];
  if (!format) throw new UserError(`cannot write ${path}: use a .png, .jpg or .webp output name`);
  const s = sharp(toInterleaved(img), { raw: { width: img.width, height: img.height, channels: 3 } });
  const bytes = await (format === 'png' ? s.png() : format === 'jpeg' ? s.jpeg({ quality: 95 }) : s.webp({ quality: 95 })).toBuffer();
  await writeFileAtomic(path, bytes);
}
