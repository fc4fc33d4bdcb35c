/**
 * Tiling that keeps instance norm's meaning: one run of the statistics model on the whole image (downscaled
 * to at most `maxPixels` when larger) gives every instance-norm layer's per-channel mean and variance; every
 * tile then runs the "fed" model, which normalises with those statistics instead of its own. Tiles are
 * therefore normalised alike, with no tone step at their borders (issue 21, defect 7).
 *
 * Exact when the image fits in `maxPixels`; above it, the statistics are those of the downscaled image:
 * the same for every tile (no seams), close to but not equal to the full-size statistics
 * (docs/reliability.md gives the measured difference).
 */
import type * as ort from 'onnxruntime-node';
import type { Rgb8, TileRunner } from './tiling.ts';
import { fitWithin, resizeRgb8 } from './io.ts';

/** The statistics taken from the whole image, by graph input name (`stc_in{k}_mean`, `stc_in{k}_var`). */
export type LayerStats = ReadonlyMap<string, { readonly shape: readonly number[]; readonly data: Float32Array }>;

/** Runs one session on named float32 inputs and returns the named outputs. */
export type NamedRunner = (
  feeds: Readonly<Record<string, { readonly shape: readonly number[]; readonly data: Float32Array }>>,
  outputs: readonly string[],
) => Promise<Record<string, { shape: readonly number[]; data: Float32Array }>>;

/** Planar float32 [1, 3, h, w] from interleaved RGB bytes. */
export function planar(img: Rgb8): { shape: readonly number[]; data: Float32Array } {
  const plane = img.width * img.height;
  const x = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) {
    x[p] = img.data[3 * p]!;
    x[plane + p] = img.data[3 * p + 1]!;
    x[2 * plane + p] = img.data[3 * p + 2]!;
  }
  return { shape: [1, 3, img.height, img.width], data: x };
}

/** Each instance-norm layer's statistics over the whole image (downscaled to fit `maxPixels`). */
export async function wholeImageStats(
  runStats: NamedRunner,
  input: string,
  names: readonly { readonly mean: string; readonly variance: string }[],
  img: Rgb8,
  maxPixels: number,
): Promise<LayerStats> {
  const scale = Math.sqrt(maxPixels / (img.width * img.height));
  const side = Math.max(img.width, img.height);
  const small = scale < 1 ? await resizeRgb8(img, fitWithin(img.width, img.height, Math.max(16, Math.floor(side * scale)))) : img;
  const wanted = names.flatMap((s) => [s.mean, s.variance]);
  const out = await runStats({ [input]: planar(small) }, wanted);
  return new Map(wanted.map((n) => [n, out[n]!]));
}

/** A tile runner that feeds the given statistics to every tile. */
export function fedTileRunner(runFed: NamedRunner, input: string, output: string, stats: LayerStats): TileRunner {
  const feeds = Object.fromEntries(stats);
  return async (x) => (await runFed({ ...feeds, [input]: x }, [output]))[output]!;
}

/** A NamedRunner over an onnxruntime session. */
export function sessionRunner(ortModule: typeof ort, session: ort.InferenceSession): NamedRunner {
  return async (feeds, outputs) => {
    const inputs = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new ortModule.Tensor('float32', v.data, [...v.shape])]));
    const res = await session.run(inputs, [...outputs]);
    const out: Record<string, { shape: readonly number[]; data: Float32Array }> = {};
    for (const k of outputs) out[k] = { shape: res[k]!.dims.map(Number), data: res[k]!.data as Float32Array };
    return out;
  };
}
