/**
 * `apply`: stylise an image, a folder of images, or a video with an exported model.
 *
 * - Image: decoded to 8-bit RGB (shrunk to fit `maxSize` if given), stylised whole or in
 *   tiles (stylize.ts), written atomically; the format follows the output's extension.
 * - Folder: every JPEG/PNG/WebP below it, written to the same relative path under the output
 *   folder (extension kept). Images of equal size (after `maxSize`) are batched, `batch` at a
 *   time, into one model run; images of differing sizes, or large enough to be tiled, run alone.
 *   Only one batch of decoded images is held at once. An image that cannot be read or decoded is skipped
 *   and reported through `onSkip`; the others are still written.
 * - Video: through ffmpeg (video.ts), frame by frame.
 */
import { mkdir, stat } from 'node:fs/promises';
import { dirname, extname, join, relative } from 'node:path';
import type { Device } from '../../backends/types.ts';
import { UserError } from '../../util/errors.ts';
import { listImages } from '../data/scan.ts';
import { fitWithin, imageSize, outputFormat, readRgb8, writeRgb8 } from './io.ts';
import { planBatches, stylizeBatch, stylizeImage, tilingFor, type StylizeOptions } from './stylize.ts';
import type { TileRunner } from './tiling.ts';
import { VIDEO_EXTENSIONS, stylizeVideo } from './video.ts';

/**
 * Images of one size per model run when ApplyOptions.batch is not given. On the CPU one image's convs already run on
 * every thread, so a batch only spreads per-run costs, and it multiplies the activations held (and first touched) at
 * once; four per run made folders slower at every size measured (docs/benchmarks.md, "Batch size in `stc apply`").
 * A GPU keeps the former default, four (no GPU has measured another here).
 */
export const DEFAULT_BATCH = 1;
export const GPU_DEFAULT_BATCH = 4;

/** The batch `stc apply` uses on `device` when none is asked for. */
export const defaultBatch = (device: Device | undefined): number => (device === 'gpu' ? GPU_DEFAULT_BATCH : DEFAULT_BATCH);

export interface ApplyOptions extends StylizeOptions {
  readonly maxSize?: number;
  /** Images per model run in folder mode (default DEFAULT_BATCH). */
  readonly batch?: number;
  readonly onItem?: (e: { readonly done: number; readonly total: number; readonly output: string }) => void;
  /** Folder mode: an input image that could not be read or decoded, and was skipped. */
  readonly onSkip?: (e: { readonly path: string; readonly reason: string }) => void;
}

const reasonOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export type InputKind = 'image' | 'folder' | 'video';

export async function inputKind(path: string): Promise<InputKind> {
  const st = await stat(path).catch(() => undefined);
  if (!st) throw new UserError(`input ${path} does not exist`);
  if (st.isDirectory()) return 'folder';
  return VIDEO_EXTENSIONS.has(extname(path).toLowerCase()) ? 'video' : 'image';
}

export async function applyToImage(run: TileRunner, input: string, output: string, opts: ApplyOptions = {}): Promise<void> {
  outputFormat(output);
  const img = await readRgb8(input, opts.maxSize);
  await writeRgb8(output, await stylizeImage(run, img, opts));
  opts.onItem?.({ done: 1, total: 1, output });
}

/** Stylise every image below `input`; returns how many were written (the skipped ones are reported through onSkip). */
export async function applyToFolder(run: TileRunner, input: string, output: string, opts: ApplyOptions = {}): Promise<number> {
  const files = await listImages(input);
  return applyToFiles(run, files.map((f) => ({ input: f, output: join(output, relative(input, f)) })), opts);
}

/**
 * Stylise the given images into the given output paths, batched as `applyToFolder` batches a folder
 * (so a folder cut into pieces gives the same pixels as the whole folder when the pieces keep its batches).
 * Returns how many were written; unreadable images are skipped and reported through onSkip.
 */
export async function applyToFiles(run: TileRunner, files: readonly { readonly input: string; readonly output: string }[], opts: ApplyOptions = {}): Promise<number> {
  const skip = (path: string, e: unknown): undefined => void opts.onSkip?.({ path, reason: reasonOf(e) });
  const sized = await Promise.all(
    files.map(async (f) => {
      const s = await imageSize(f.input).catch((e: unknown) => skip(f.input, e));
      return s && { path: f.input, out: f.output, ...fitWithin(s.width, s.height, opts.maxSize) };
    }),
  );
  const items = sized.filter((i) => i !== undefined);
  const batch = Math.max(1, opts.batch ?? DEFAULT_BATCH);
  const alone = items.filter((i) => tilingFor(i.width, i.height, opts));
  const batched = planBatches(items.filter((i) => !alone.includes(i)), batch);
  let done = 0;
  let total = items.length;
  for (const planned of [...batched, ...alone.map((i) => [i])]) {
    const decoded = await Promise.all(planned.map((i) => readRgb8(i.path, opts.maxSize).catch((e: unknown) => skip(i.path, e))));
    const group = planned.filter((_, k) => decoded[k] !== undefined);
    const imgs = decoded.filter((m) => m !== undefined);
    total -= planned.length - group.length;
    if (group.length === 0) continue;
    // a decoded size can differ from the header's by rounding; fall back to one at a time
    const same = imgs.every((m) => m.width === imgs[0]!.width && m.height === imgs[0]!.height);
    const outs = group.length > 1 && same ? await stylizeBatch(run, imgs) : await Promise.all(imgs.map((m) => stylizeImage(run, m, opts)));
    for (let k = 0; k < group.length; k++) {
      await mkdir(dirname(group[k]!.out), { recursive: true });
      await writeRgb8(group[k]!.out, outs[k]!);
      done++;
      opts.onItem?.({ done, total, output: group[k]!.out });
    }
  }
  return done;
}

export async function applyToVideo(run: TileRunner, input: string, output: string, opts: ApplyOptions = {}): Promise<number> {
  return stylizeVideo(input, output, (frame) => stylizeImage(run, frame, opts), {
    ...(opts.maxSize !== undefined && { maxSize: opts.maxSize }),
    ...(opts.onItem && { onFrame: (n: number) => opts.onItem!({ done: n, total: 0, output }) }),
  });
}
