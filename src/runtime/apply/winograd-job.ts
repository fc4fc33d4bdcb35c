/**
 * What `stc apply`'s input is, for `--winograd auto` (winograd-choice.ts): how many large-enough images a folder
 * holds (headers only, counting stops at AUTO_MIN_IMAGES), a video's frame size, or the one image's size.
 * Unreadable inputs count as nothing here; apply itself reports them.
 */
import { listImages } from '../data/scan.ts';
import type { InputKind } from './apply.ts';
import { fitWithin, imageSize } from './io.ts';
import { evenFit, probeVideo } from './video.ts';
import { AUTO_MIN_IMAGES, isLargeImage, type InferenceJob } from './winograd-choice.ts';

const isLarge = async (path: string, maxSize?: number): Promise<boolean> => {
  const s = await imageSize(path).catch(() => undefined);
  if (!s) return false;
  const f = fitWithin(s.width, s.height, maxSize);
  return isLargeImage(f.width, f.height);
};

export async function applyJob(kind: InputKind, input: string, maxSize?: number): Promise<InferenceJob> {
  if (kind === 'video') {
    try {
      return { largeImages: 0, video: evenFit(probeVideo(input), maxSize) };
    } catch {
      return { largeImages: 0 };
    }
  }
  if (kind === 'image') return { largeImages: (await isLarge(input, maxSize)) ? 1 : 0 };
  let largeImages = 0;
  for (const f of await listImages(input)) {
    if (await isLarge(f, maxSize)) largeImages++;
    if (largeImages >= AUTO_MIN_IMAGES) break;
  }
  return { largeImages };
}
