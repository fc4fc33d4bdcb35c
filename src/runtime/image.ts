/**
 * Image I/O for stc (sharp): files <-> RgbImage (planar float32 CHW, 0..255)
 * <-> HostTensor [1, 3, H, W].
 *
 * Reading policy:
 * - EXIF orientation is applied (the image is rotated/flipped upright).
 * - Alpha is flattened onto white (a transparent pixel reads as white, as viewers show it).
 * - Grayscale (and other colour spaces) are converted to 3-channel sRGB.
 * - 16-bit images are decoded at 16 bits and scaled to 0..255 (fractional values kept).
 * - The header is checked before decoding: images over `maxPixels` (default 100 megapixels)
 *   are refused as likely decompression bombs.
 * Writing clamps to 0..255, rounds to 8 bits, picks PNG or JPEG from the extension,
 * and writes atomically. `checkWritablePath` lets commands fail before any compute.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import type { Metadata } from 'sharp';
import { UserError } from '../util/errors.ts';
import type { HostTensor } from '../compiler/ir/types.ts';
import { probeWritable, writeFileAtomic } from '../util/atomic-write.ts';
import { type RgbImage, createImage } from './image-types.ts';
import { openSharp } from './sharp.ts';

export const DEFAULT_MAX_PIXELS = 100_000_000;

export type ResizeSpec =
  /** Exact size (aspect ratio not kept). */
  | { readonly width: number; readonly height: number }
  /** Scale so the longer side is `maxSide` (never enlarging). */
  | { readonly maxSide: number }
  /** Scale so the longer side is `longSide` (enlarging or shrinking). */
  | { readonly longSide: number };

export interface ReadImageOptions {
  readonly maxPixels?: number;
  readonly resize?: ResizeSpec;
}

export interface ImageInfo {
  /** Upright size (after EXIF orientation). */
  readonly width: number;
  readonly height: number;
  readonly format: string;
}

/** Check the file and its header without decoding pixels. */
export async function probeImage(path: string, maxPixels = DEFAULT_MAX_PIXELS): Promise<ImageInfo> {
  let st;
  try {
    st = await stat(path);
  } catch {
    throw new UserError(`image ${path} does not exist`);
  }
  if (!st.isFile()) throw new UserError(`image ${path} is not a file`);
  if (st.size === 0) throw new UserError(`image ${path} is empty (0 bytes)`);
  let m: Metadata;
  try {
    m = await openSharp(path, { limitInputPixels: false }).metadata();
  } catch (e) {
    throw new UserError(`${path} is not a readable image (${(e as Error).message})`);
  }
  if (!m.width || !m.height || !m.format) throw new UserError(`${path} is not a readable image (no size in its header)`);
  const rotated = (m.orientation ?? 1) >= 5;
  const width = rotated ? m.height : m.width;
  const height = rotated ? m.width : m.height;
  if (width * height > maxPixels)
    throw new UserError(
      `image ${path} claims ${width}x${height} pixels (${(width * height / 1e6).toFixed(0)} megapixels), over the limit of ${(maxPixels / 1e6).toFixed(0)} megapixels; refusing to decode it (possible decompression bomb)`,
    );
  return { width, height, format: m.format };
}

/** Size with the long side equal to `longSide`, aspect ratio kept (rounded, at least 1). */
export function sizeForLongSide(width: number, height: number, longSide: number): { width: number; height: number } {
  const k = longSide / Math.max(width, height);
  return { width: Math.max(1, Math.round(width * k)), height: Math.max(1, Math.round(height * k)) };
}

function targetSize(info: ImageInfo, r: ResizeSpec | undefined): { width: number; height: number } | undefined {
  if (!r) return undefined;
  if ('maxSide' in r) return Math.max(info.width, info.height) <= r.maxSide ? undefined : sizeForLongSide(info.width, info.height, r.maxSide);
  const size = 'longSide' in r ? sizeForLongSide(info.width, info.height, r.longSide) : r;
  if (size.width === info.width && size.height === info.height) return undefined;
  return { width: size.width, height: size.height };
}

/** Interleaved samples (`channels` per pixel, the first three RGB) -> planar CHW float32, times `scale`. */
export function interleavedToPlanar(src: ArrayLike<number>, width: number, height: number, channels = 3, scale = 1): RgbImage {
  const img = createImage(width, height);
  const plane = width * height;
  for (let i = 0; i < plane; i++) {
    const o = i * channels;
    img.data[i] = src[o]! * scale;
    img.data[plane + i] = src[o + 1]! * scale;
    img.data[2 * plane + i] = src[o + 2]! * scale;
  }
  return img;
}

/** Decode an image file as upright RGB, 0..255 float (see the module comment for the policy). */
export async function readImage(path: string, opts: ReadImageOptions = {}): Promise<RgbImage> {
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  const info = await probeImage(path, maxPixels);
  const meta = await openSharp(path, { limitInputPixels: false }).metadata();
  const sixteen = meta.depth === 'ushort';
  const size = targetSize(info, opts.resize);
  // An enlarging resize (`--size 100000`) is as much a bomb as a large file: the same cap, before sharp allocates.
  if (size && size.width * size.height > maxPixels)
    throw new UserError(
      `resizing image ${path} to ${size.width}x${size.height} pixels (${((size.width * size.height) / 1e6).toFixed(0)} megapixels, from --size) is over the limit of ${(maxPixels / 1e6).toFixed(0)} megapixels`,
    );
  try {
    let s = openSharp(path, { limitInputPixels: maxPixels, failOn: 'error' }).rotate().flatten({ background: '#ffffff' });
    if (size) s = s.resize(size.width, size.height, { fit: 'fill' });
    s = s.toColourspace(sixteen ? 'rgb16' : 'srgb');
    const { data, info: out } = await s.raw({ depth: sixteen ? 'ushort' : 'uchar' }).toBuffer({ resolveWithObject: true });
    if (out.channels !== 3) throw new Error(`decoded ${out.channels} channels, expected 3`);
    if (sixteen) {
      const u16 = new Uint16Array(new Uint8Array(data).buffer); // copy: the Buffer may be unaligned
      return interleavedToPlanar(u16, out.width, out.height, 3, 255 / 65535);
    }
    return interleavedToPlanar(data, out.width, out.height);
  } catch (e) {
    throw new UserError(`cannot decode image ${path} (${(e as Error).message})`);
  }
}

/** Planar float -> interleaved 8-bit, clamped to 0..255 and rounded. */
export function toRgb8(img: RgbImage): Uint8Array {
  const plane = img.width * img.height;
  const out = new Uint8Array(3 * plane);
  for (let i = 0; i < plane; i++)
    for (let c = 0; c < 3; c++) {
      const v = img.data[c * plane + i]!;
      out[3 * i + c] = Number.isNaN(v) ? 0 : Math.round(Math.min(255, Math.max(0, v)));
    }
  return out;
}

const OUTPUT_FORMATS: Readonly<Record<string, 'png' | 'jpeg'>> = { '.png': 'png', '.jpg': 'jpeg', '.jpeg': 'jpeg' };

/** Throw a UserError unless `path` can be written as an image: known extension, existing writable folder. */
export async function checkWritablePath(path: string): Promise<void> {
  if (!OUTPUT_FORMATS[extname(path).toLowerCase()]) throw new UserError(`cannot write ${path}: the output name must end in .png, .jpg or .jpeg`);
  const dir = dirname(resolve(path));
  let st;
  try {
    st = await stat(dir);
  } catch {
    throw new UserError(`cannot write ${path}: folder ${dir} does not exist`);
  }
  if (!st.isDirectory()) throw new UserError(`cannot write ${path}: ${dir} is not a folder`);
  try {
    await access(dir, constants.W_OK);
  } catch {
    throw new UserError(`cannot write ${path}: folder ${dir} is not writable`);
  }
  const target = await stat(path).catch(() => undefined);
  if (target?.isDirectory()) throw new UserError(`cannot write ${path}: it is a folder`);
  await probeWritable(path);
}

/** Encode and write an image atomically: PNG for .png, JPEG (quality 95) for .jpg/.jpeg. */
export async function writeImage(path: string, img: RgbImage): Promise<void> {
  await checkWritablePath(path);
  const s = openSharp(toRgb8(img), { raw: { width: img.width, height: img.height, channels: 3 } });
  const bytes = await (OUTPUT_FORMATS[extname(path).toLowerCase()] === 'png' ? s.png() : s.jpeg({ quality: 95 })).toBuffer();
  await writeFileAtomic(path, bytes);
}

/** An image as a [1, 3, H, W] tensor. Shares the pixel buffer (RgbImage is already CHW). */
export function imageToTensor(img: RgbImage): HostTensor {
  return { shape: [1, 3, img.height, img.width], data: img.data };
}

/** Image `index` of an [N, 3, H, W] (or [3, H, W]) tensor; copies the pixels. */
export function tensorToImage(t: HostTensor, index = 0): RgbImage {
  const s = t.shape.length === 3 ? [1, ...t.shape] : t.shape;
  if (s.length !== 4 || s[1] !== 3) throw new Error(`tensorToImage: expected [N, 3, H, W], got [${t.shape}]`);
  const [n, , h, w] = s as [number, number, number, number];
  if (index < 0 || index >= n) throw new Error(`tensorToImage: index ${index} out of range for batch ${n}`);
  const size = 3 * h * w;
  return { width: w, height: h, data: t.data.slice(index * size, (index + 1) * size) };
}

/**
 * The top-left width x height of an image: a network whose strides do not divide the input size returns a
 * few more rows and columns (97x73 through two stride-2 convs and two 2x upsamplings gives 100x76); the
 * extra ones lie past the input's bottom and right edges. `apply` crops the same way (apply/stylize.ts).
 */
export function cropImage(img: RgbImage, width: number, height: number): RgbImage {
  if (img.width === width && img.height === height) return img;
  if (img.width < width || img.height < height) throw new Error(`cropImage: ${img.width}x${img.height} is smaller than ${width}x${height}`);
  const out = createImage(width, height);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < height; y++) {
      const src = (c * img.height + y) * img.width;
      out.data.set(img.data.subarray(src, src + width), (c * height + y) * width);
    }
  return out;
}

/**
 * Separable triangle-filter weights for resampling `inSize` samples to `outSize`
 * (PIL's BILINEAR): pixel centres map as (o + 0.5) * in/out - 0.5, and when
 * shrinking the filter is widened by the scale factor, so it averages (antialiases).
 */
function resampleWeights(inSize: number, outSize: number): { start: number; w: Float64Array }[] {
  const scale = inSize / outSize;
  const support = Math.max(1, scale);
  const out: { start: number; w: Float64Array }[] = [];
  for (let o = 0; o < outSize; o++) {
    const centre = (o + 0.5) * scale;
    const lo = Math.max(0, Math.floor(centre - support));
    const hi = Math.min(inSize, Math.ceil(centre + support));
    const w = new Float64Array(hi - lo);
    let sum = 0;
    for (let i = lo; i < hi; i++) {
      const v = Math.max(0, 1 - Math.abs((i + 0.5 - centre) / support));
      w[i - lo] = v;
      sum += v;
    }
    for (let k = 0; k < w.length; k++) w[k]! /= sum;
    out.push({ start: lo, w });
  }
  return out;
}

/** Resample an image to width x height with an antialiased bilinear filter, in float (no 8-bit rounding). */
export function resizeImage(img: RgbImage, width: number, height: number): RgbImage {
  if (img.width === width && img.height === height) return img;
  const wx = resampleWeights(img.width, width);
  const wy = resampleWeights(img.height, height);
  const out = createImage(width, height);
  const tmp = new Float64Array(img.height * width);
  for (let c = 0; c < 3; c++) {
    const src = img.data.subarray(c * img.width * img.height);
    for (let y = 0; y < img.height; y++)
      for (let x = 0; x < width; x++) {
        const { start, w } = wx[x]!;
        let acc = 0;
        for (let k = 0; k < w.length; k++) acc += w[k]! * src[y * img.width + start + k]!;
        tmp[y * width + x] = acc;
      }
    const dst = out.data.subarray(c * width * height);
    for (let y = 0; y < height; y++) {
      const { start, w } = wy[y]!;
      for (let x = 0; x < width; x++) {
        let acc = 0;
        for (let k = 0; k < w.length; k++) acc += w[k]! * tmp[(start + k) * width + x]!;
        dst[y * width + x] = acc;
      }
    }
  }
  return out;
}
