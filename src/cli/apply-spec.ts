/**
 * `stc apply spec.style <input>`: a spec's network as an image model, compiled per input size with stc's passes
 * (runtime/apply/compiled-model.ts), instead of an exported model. The job is looked at before anything is compiled:
 * every image's size (after --max-size) decides `--winograd auto` (runtime/apply/winograd-choice.ts), and an image too
 * large to run whole is an error before the first output is written.
 */
import { extname, relative } from 'node:path';
import { ShapeError } from '../compiler/ir/ops.ts';
import { specialize } from '../compiler/passes/specialize.ts';
import type { Device } from '../backends/types.ts';
import { type CompileEvent, MAX_WHOLE_PIXELS, type SizeCount, compiledImageModel, sizeFreeSizes, sizeKey } from '../runtime/apply/compiled-model.ts';
import type { InputKind } from '../runtime/apply/apply.ts';
import { fitWithin, imageSize } from '../runtime/apply/io.ts';
import type { ImageModel } from '../runtime/apply/model.ts';
import { evenFit, probeVideo, requireFfmpeg } from '../runtime/apply/video.ts';
import { type InferenceJob, type WinogradChoice, isLargeImage, winogradFor } from '../runtime/apply/winograd-choice.ts';
import { listImages } from '../runtime/data/scan.ts';
import { UserError } from '../util/errors.ts';
import { loadSpec, pickNetwork, sizeEnv } from './load-spec.ts';
import { prepareNetwork } from './commands/prepare.ts';

export const isSpecPath = (path: string): boolean => extname(path).toLowerCase() === '.style';

export interface SpecModelOptions {
  readonly weights?: string;
  readonly network?: string;
  readonly seed: number;
  readonly threads?: number;
  readonly device?: Device;
  readonly maxSize?: number;
  readonly winograd: WinogradChoice;
  readonly onCompile?: (e: CompileEvent) => void;
}

interface JobSizes {
  readonly job: InferenceJob;
  /** The first image too large to run whole, if any. */
  readonly tooLarge?: string;
  /** A folder's images per size (sizeKey). */
  readonly counts?: ReadonlyMap<string, SizeCount>;
}

/** The sizes the job will run at. */
async function jobSizes(input: string, kind: InputKind, maxSize: number | undefined): Promise<JobSizes> {
  if (kind === 'video') {
    requireFfmpeg();
    const frame = evenFit(probeVideo(input), maxSize);
    return { job: { largeImages: 0, video: frame }, ...(frame.width * frame.height > MAX_WHOLE_PIXELS && { tooLarge: `${input} (frames ${frame.width}x${frame.height})` }) };
  }
  const files = kind === 'folder' ? await listImages(input) : [input];
  let largeImages = 0;
  let tooLarge: string | undefined;
  const counts = new Map<string, SizeCount>();
  for (const f of files) {
    // An unreadable image is skipped (and reported) by apply itself, as with an exported model.
    const s = await imageSize(f).catch(() => undefined);
    if (!s) continue;
    const { width, height } = fitWithin(s.width, s.height, maxSize);
    if (isLargeImage(width, height)) largeImages++;
    if (width * height > MAX_WHOLE_PIXELS) tooLarge ??= `${kind === 'folder' ? relative(input, f) : f} (${width}x${height})`;
    const key = sizeKey(height, width);
    counts.set(key, { height, width, images: (counts.get(key)?.images ?? 0) + 1 });
  }
  return { job: { largeImages }, ...(tooLarge && { tooLarge }), ...(kind === 'folder' && { counts }) };
}

export async function loadSpecModel(spec: string, input: string, kind: InputKind, o: SpecModelOptions): Promise<ImageModel> {
  const net = pickNetwork(loadSpec(spec), o.network);
  if (net.graph.inputs.length !== 1) throw new UserError(`network ${net.name} has ${net.graph.inputs.length} inputs; stc apply needs exactly one image input`);
  const output = [...net.graph.outputs.keys()][0];
  if (output === undefined) throw new UserError(`network ${net.name} has no output`);
  const { job, tooLarge, counts } = await jobSizes(input, kind, o.maxSize);
  if (tooLarge)
    throw new UserError(
      `${tooLarge} is larger than ${MAX_WHOLE_PIXELS} pixels: a spec runs each image whole, so pass --max-size, or stc export the network and apply the .onnx file (which tiles large images)`,
    );
  // Weights bound once on the size-free graph; each size only specialises it.
  const { graph, weights } = await prepareNetwork(net, { outputs: [output], ...(o.weights !== undefined && { weightsPath: o.weights }), seed: o.seed });
  const networkAt = (size: { batch: number; height: number; width: number }) => {
    try {
      return { graph: specialize(graph, sizeEnv(graph, size)), weights };
    } catch (e) {
      if (e instanceof ShapeError) throw new UserError(`${net.name} at ${size.width}x${size.height}: ${e.message}`);
      throw e;
    }
  };
  // A folder's sizes with little work share one size-free session (compiled-model.ts); one image or a video compiles for
  // its size, and so does every size under `--winograd on`, which needs a size to rewrite.
  const few = counts && o.winograd !== 'on' ? sizeFreeSizes(counts) : new Set<string>();
  return compiledImageModel(networkAt, {
    ...(few.size > 0 && { sizeFree: { network: () => ({ graph, weights }), sizes: few } }),
    ...(o.threads !== undefined && { threads: o.threads }),
    ...(o.device && { device: o.device }),
    winograd: winogradFor(o.winograd, job),
    ...(o.onCompile && { onCompile: o.onCompile }),
  });
}
