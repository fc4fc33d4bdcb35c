/** Texture synthesis by image quilting (Efros & Freeman 2001, §2). */
import type { RgbImage } from '../runtime/image-types.ts';
import { mulberry32 } from '../util/prng.ts';
import { defaultOverlap } from './layout.ts';
import { checkBlock, checkInteger, checkRange, checkTextureFits } from './options.ts';
import { quiltPass } from './pass.ts';
import { checkQuiltWork } from './work.ts';
import { deriveSeed } from './prng.ts';
import type { QuiltProgressCallback } from './progress.ts';
import { prepareSource } from './ssd.ts';

export interface SynthesisOptions {
  readonly width: number;
  readonly height: number;
  /** Block side in pixels. */
  readonly block: number;
  /** Overlap in pixels; default one sixth of the block. */
  readonly overlap?: number;
  /** Relative tolerance on the best overlap error; default 0.1. */
  readonly tolerance?: number;
  readonly seed?: number;
  readonly onProgress?: QuiltProgressCallback;
}

export const DEFAULT_TOLERANCE = 0.1;
export const DEFAULT_SEED = 1;

/** A width × height texture quilted from blocks of `texture`. Deterministic for a given seed. */
export function synthesizeTexture(texture: RgbImage, options: SynthesisOptions): RgbImage {
  const { width, height, block } = options;
  const overlap = options.overlap ?? defaultOverlap(block);
  const tolerance = options.tolerance ?? DEFAULT_TOLERANCE;
  checkInteger('output width', width, 1);
  checkInteger('output height', height, 1);
  checkBlock(block, overlap);
  checkRange('tolerance', tolerance, 0, Number.MAX_VALUE);
  checkTextureFits(texture, block);
  checkQuiltWork(texture, { width, height }, [{ block, overlap }]);
  const n = texture.width * texture.height;
  const rgb = [0, 1, 2].map((c) => texture.data.subarray(c * n, (c + 1) * n));
  const source = prepareSource(texture.height, texture.width, [rgb]);
  const onProgress = options.onProgress;
  return quiltPass({
    texture,
    source,
    width,
    height,
    block,
    overlap,
    tolerance,
    alpha: 1,
    rng: mulberry32(deriveSeed(options.seed ?? DEFAULT_SEED, 0)),
    onBlock: onProgress && ((done, total) => onProgress({ pass: 1, passes: 1, blockSize: block, done, total })),
  });
}
