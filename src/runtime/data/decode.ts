/**
 * Decoding one training sample with sharp: read, auto-orient, resize, crop,
 * flatten alpha onto white (stc's one alpha rule, runtime/image.ts), convert to planar float32 RGB in 0..255. The work runs on
 * libvips threads; the JS thread only awaits the promise.
 */
import type { RgbImage } from '../image-types.ts';
import { interleavedToPlanar } from '../image.ts';
import { openSharp } from '../sharp.ts';
import type { ResizeCrop } from './augment.ts';

/** Width and height after EXIF orientation. Throws if the header cannot be read. */
export async function orientedSize(path: string): Promise<{ width: number; height: number }> {
  const meta = await openSharp(path).metadata();
  const w = meta.autoOrient?.width ?? meta.width;
  const h = meta.autoOrient?.height ?? meta.height;
  if (!w || !h) throw new Error(`cannot read the size of ${path}`);
  return { width: w, height: h };
}

export async function decodeResizeCrop(path: string, plan: ResizeCrop): Promise<RgbImage> {
  const { data, info } = await openSharp(path, { autoOrient: true, failOn: 'error' })
    .resize(plan.width, plan.height, { fit: 'fill', kernel: 'lanczos3' })
    .extract({ left: plan.left, top: plan.top, width: plan.size, height: plan.size })
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.width !== plan.size || info.height !== plan.size || info.channels < 3)
    throw new Error(`decodeResizeCrop: unexpected ${info.width}x${info.height}x${info.channels} from ${path}`);
  return interleavedToPlanar(data, info.width, info.height, info.channels);
}
