/**
 * `--precision int8` (or `--quantize int8`) `[--calibrate a.jpg,b.jpg]` for `stc compile` and `stc export`: an int8 QDQ ONNX
 * model (backends/onnx/quantize.ts) whose activation ranges are calibrated on the given photos, or,
 * without `--calibrate`, on seeded uniform-noise images in 0..255, then without channel equalisation
 * (NOISE_QUANTIZE_OPTIONS: fast-style wave at 512², held-out photos: 35.9 dB from noise, 40.1 dB from photos).
 */
import type { Graph, HostTensor } from '../compiler/ir/types.ts';
import type { WeightMap } from '../backends/types.ts';
import { NOISE_QUANTIZE_OPTIONS, quantizeGraph } from '../backends/onnx/quantize.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { imageToTensor, readImage } from '../runtime/image.ts';
import { uniformTensor } from '../verify/det.ts';
import { UserError } from '../util/errors.ts';

export const QUANTIZE_MODES = ['int8'] as const;
export type QuantizeMode = (typeof QUANTIZE_MODES)[number];

/** Size of noise calibration images, and the long side photos are scaled to, when the graph's H and W are symbolic. */
const CALIBRATION_SIDE = 256;
const NOISE_IMAGES = 2;

function tile(t: HostTensor, n: number): HostTensor {
  if (n === 1) return t;
  const data = new Float32Array(t.data.length * n);
  for (let i = 0; i < n; i++) data.set(t.data, i * t.data.length);
  return { shape: [n, ...t.shape.slice(1)], data };
}

/** One feed per calibration image (or per noise image) for the graph's single image input. */
export async function calibrationFeeds(g: Graph, images: readonly string[]): Promise<Record<string, HostTensor>[]> {
  if (g.inputs.length !== 1) throw new UserError(`--quantize needs a network with one image input, this one has ${g.inputs.length}`);
  const input = g.inputs[0]!;
  const shape = g.values.get(input)!.shape;
  if (shape.length !== 4 || shape[1] !== 3) throw new UserError(`--quantize needs an RGB image input [N, 3, H, W]; ${input} is [${shape.join(', ')}]`);
  const n = typeof shape[0] === 'number' ? shape[0] : 1;
  const [h, w] = [shape[2], shape[3]];
  const fixed = typeof h === 'number' && typeof w === 'number' ? { height: h, width: w } : undefined;
  if (images.length === 0) {
    const size = fixed ?? { height: CALIBRATION_SIDE, width: CALIBRATION_SIDE };
    return Array.from({ length: NOISE_IMAGES }, (_, i) => ({ [input]: uniformTensor([n, 3, size.height, size.width], `calibration-${i}`, 0, 255) }));
  }
  const feeds: Record<string, HostTensor>[] = [];
  for (const p of images) feeds.push({ [input]: tile(imageToTensor(await readImage(p, { resize: fixed ?? { maxSide: CALIBRATION_SIDE * 2 } })), n) });
  return feeds;
}

/** Quantise, calibrate and write `path` atomically; returns the file's size in bytes. */
export async function writeQuantizedOnnx(
  path: string,
  g: Graph,
  weights: WeightMap,
  opts: { readonly calibrate?: readonly string[]; readonly name?: string; readonly docString?: string },
): Promise<number> {
  const feeds = await calibrationFeeds(g, opts.calibrate ?? []);
  const bytes = await quantizeGraph(g, weights, feeds, {
    ...((opts.calibrate ?? []).length === 0 && NOISE_QUANTIZE_OPTIONS),
    ...(opts.name !== undefined && { name: opts.name }),
    ...(opts.docString !== undefined && { docString: opts.docString }),
  });
  await writeFileAtomic(path, bytes);
  return bytes.byteLength;
}

/** `--calibrate a.jpg,b.jpg` as a list. */
export const calibrationList = (s: string | undefined): string[] => (s ?? '').split(',').map((x) => x.trim()).filter(Boolean);
