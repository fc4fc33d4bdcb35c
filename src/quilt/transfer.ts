/**
 * Texture transfer by image quilting (Efros & Freeman 2001, §3): the target is
 * re-rendered from blocks of the texture, each chosen for both its fit with
 * its neighbours and its correspondence (luminance) with the target.
 *
 * Iterative refinement: pass i of N uses blocks a third smaller than pass
 * i − 1, and α_i = α_1 + (0.9 − α_1)·(i − 1)/(N − 1); with the default
 * α_1 = 0.1 this is the paper's α_i = 0.8·(i − 1)/(N − 1) + 0.1. From the
 * second pass on, the error also compares each block with the previous pass's
 * output (see pass.ts for the exact error).
 */
import type { RgbImage } from '../runtime/image-types.ts';
import { mulberry32 } from '../util/prng.ts';
import { defaultOverlap } from './layout.ts';
import { gaussianBlur, luminance, matchMeanStd } from './maps.ts';
import { checkBlock, checkInteger, checkRange, checkTargetFits, checkTextureFits } from './options.ts';
import { quiltPass } from './pass.ts';
import { checkQuiltWork } from './work.ts';
import { deriveSeed } from './prng.ts';
import type { QuiltProgressCallback } from './progress.ts';
import { prepareSource } from './ssd.ts';
import { DEFAULT_SEED, DEFAULT_TOLERANCE } from './synthesize.ts';

export type CorrespondenceMap = 'luminance' | 'blurred-luminance';

export interface TransferOptions {
  /** Block side of the first pass, in pixels. */
  readonly block: number;
  /** Overlap of the first pass in pixels (default block / 6); later passes keep the same ratio. */
  readonly overlap?: number;
  readonly tolerance?: number;
  /** α of the first pass (default 0.1); later passes rise linearly to 0.9. */
  readonly alpha?: number;
  /** Number of passes (default 1). */
  readonly iterations?: number;
  readonly correspondence?: CorrespondenceMap;
  /** Standard deviation of the blur for 'blurred-luminance', in pixels (default 2). */
  readonly blurSigma?: number;
  /**
   * Remap the target's correspondence map to the mean and standard deviation
   * of the texture's (default true), so that a texture with a narrow
   * luminance range still renders the target's light and dark regions.
   */
  readonly matchLuminance?: boolean;
  readonly seed?: number;
  readonly onProgress?: QuiltProgressCallback;
}

export interface PassSchedule {
  readonly block: number;
  readonly overlap: number;
  readonly alpha: number;
}

export const DEFAULT_ALPHA = 0.1;
export const FINAL_ALPHA = 0.9;
export const DEFAULT_BLUR_SIGMA = 2;

/** Block, overlap and α of each pass. Blocks shrink by a third per pass (never below 2 px). */
export function transferSchedule(block: number, overlap: number, iterations: number, alpha: number): PassSchedule[] {
  const passes: PassSchedule[] = [];
  for (let i = 0; i < iterations; i++) {
    const b = Math.max(2, Math.round(block * (2 / 3) ** i));
    const o = Math.min(Math.floor(b / 2), Math.max(1, Math.round((b * overlap) / block)));
    const a = iterations === 1 ? alpha : alpha + ((FINAL_ALPHA - alpha) * i) / (iterations - 1);
    passes.push({ block: b, overlap: o, alpha: a });
  }
  return passes;
}

function correspondenceMap(img: RgbImage, kind: CorrespondenceMap, sigma: number): Float32Array {
  const lum = luminance(img);
  return kind === 'blurred-luminance' ? gaussianBlur(lum, img.height, img.width, sigma) : lum;
}

/** The target rendered from blocks of the texture, at the target's size. Deterministic for a given seed. */
export function transferTexture(texture: RgbImage, target: RgbImage, options: TransferOptions): RgbImage {
  const { block } = options;
  const overlap = options.overlap ?? defaultOverlap(block);
  const tolerance = options.tolerance ?? DEFAULT_TOLERANCE;
  const alpha = options.alpha ?? DEFAULT_ALPHA;
  const iterations = options.iterations ?? 1;
  const kind = options.correspondence ?? 'luminance';
  const sigma = options.blurSigma ?? DEFAULT_BLUR_SIGMA;
  checkBlock(block, overlap);
  checkRange('tolerance', tolerance, 0, Number.MAX_VALUE);
  checkRange('alpha', alpha, 0, 1);
  checkInteger('iterations', iterations, 1);
  checkRange('blur sigma', sigma, 0, 1000);
  checkTextureFits(texture, block);
  checkTargetFits(target, block);
  const schedule = transferSchedule(block, overlap, iterations, alpha);
  checkQuiltWork(texture, target, schedule);

  const n = texture.width * texture.height;
  const rgb = [0, 1, 2].map((c) => texture.data.subarray(c * n, (c + 1) * n));
  const textureMap = correspondenceMap(texture, kind, sigma);
  const source = prepareSource(texture.height, texture.width, [rgb, [textureMap]]);
  const rawTargetMap = correspondenceMap(target, kind, sigma);
  const targetMap = options.matchLuminance === false ? rawTargetMap : matchMeanStd(rawTargetMap, textureMap);
  const seed = options.seed ?? DEFAULT_SEED;
  let previous: RgbImage | undefined;
  schedule.forEach((pass, i) => {
    const onProgress = options.onProgress;
    previous = quiltPass({
      texture,
      source,
      width: target.width,
      height: target.height,
      block: pass.block,
      overlap: pass.overlap,
      tolerance,
      alpha: pass.alpha,
      previous,
      targetMap,
      rng: mulberry32(deriveSeed(seed, i)),
      onBlock:
        onProgress &&
        ((done, total) => onProgress({ pass: i + 1, passes: schedule.length, blockSize: pass.block, done, total })),
    });
  });
  if (!previous) throw new Error('transferTexture: no passes');
  return previous;
}
