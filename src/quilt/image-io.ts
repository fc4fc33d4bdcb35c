/**
 * Private image I/O for `stc quilt` until the shared runtime image module
 * lands: sharp decode to a planar float RgbImage, encode by file extension,
 * atomic write. Unreadable or undecodable files are UserErrors.
 */
import sharp from 'sharp';
import { UserError } from '../cli/errors.ts';
import { writeFileAtomic } from '../runtime/atomic-write.ts';
import { createImage, type RgbImage } from '../runtime/image-types.ts';

export async function readRgbImage(path: string): Promise<RgbImage> {
  let data: Buffer;
  let info: { width: number; height: number; channels: number };
  try {
    ({ data, info } = await sharp(path, { autoOrient: true })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true }));
  } catch (e) {
    throw new UserError(`cannot read image ${path}: ${(e as Error).message}`);
  }
  const img = createImage(info.width, info.height);
  const n = info.width * info.height;
  const ch = info.channels;
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) img.data[c * n + i] = data[i * ch + Math.min(c, ch - 1)];
  return img;
}

export async function writeRgbImage(path: string, img: RgbImage): Promise<void> {
  const n = img.width * img.height;
  const bytes = Buffer.alloc(3 * n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) bytes[3 * i + c] = Math.max(0, Math.min(255, Math.round(img.data[c * n + i])));
  }
  const ext = path.toLowerCase().split('.').pop();
  const pipeline = sharp(bytes, { raw: { width: img.width, height: img.height, channels: 3 } });
  let encoded: Buffer;
  if (ext === 'png') encoded = await pipeline.png().toBuffer();
  else if (ext === 'jpg' || ext === 'jpeg') encoded = await pipeline.jpeg({ quality: 92 }).toBuffer();
  else if (ext === 'webp') encoded = await pipeline.webp().toBuffer();
  else throw new UserError(`cannot write ${path}: use a .png, .jpg or .webp file name`);
  try {
    await writeFileAtomic(path, encoded);
  } catch (e) {
    throw new UserError(`cannot write ${path}: ${(e as Error).message}`);
  }
}
