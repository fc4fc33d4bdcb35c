/**
 * The style predictor's input: the painting scaled so its shorter side is `size` (256, the size the
 * predictor was trained and quantised at), then centre-cropped to size x size, RGB 0..255. Grayscale and
 * alpha images are read as RGB (alpha flattened on white) by readImage; tiny images are enlarged.
 */
import type { HostTensor } from '../../compiler/ir/types.ts';
import { probeImage, readImage } from '../image.ts';

export const STYLE_SIZE = 256;

/** Shorter side `size`, aspect kept (the longer side rounded, at least `size`). */
export function coverSize(width: number, height: number, size: number): { width: number; height: number } {
  const k = size / Math.min(width, height);
  return { width: Math.max(size, Math.round(width * k)), height: Math.max(size, Math.round(height * k)) };
}

export async function readStyleImage(path: string, size = STYLE_SIZE): Promise<HostTensor> {
  const info = await probeImage(path);
  const img = await readImage(path, { resize: coverSize(info.width, info.height, size) });
  const top = Math.floor((img.height - size) / 2);
  const left = Math.floor((img.width - size) / 2);
  const out = new Float32Array(3 * size * size);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < size; y++) {
      const src = (c * img.height + top + y) * img.width + left;
      out.set(img.data.subarray(src, src + size), (c * size + y) * size);
    }
  return { shape: [1, 3, size, size], data: out };
}
