/**
 * A stylisation model loaded from an exported ONNX file: one input
 * [N, 3, H, W] RGB 0..255, one output of the same layout (possibly a few
 * pixels larger when H or W is not a multiple of the network's stride; callers crop).
 */
import { cpus } from 'node:os';
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { nonFiniteInitializer } from '../../backends/onnx/finite.ts';
import { GpuUnavailableError, createSessionOn } from '../../backends/onnx/providers.ts';
import type { Device } from '../../backends/types.ts';
import { UserError } from '../../util/errors.ts';
import { instanceNormStatsModels } from '../../backends/onnx/instance-norm-stats.ts';
import { fedTileRunner, sessionRunner, wholeImageStats } from './global-stats.ts';
import type { Rgb8, TileRunner } from './tiling.ts';

/** Pixels of the whole-image statistics pass of tiled apply (larger images are downscaled for it). */
export const STATS_MAX_PIXELS = 1024 * 1024;

export interface ImageModel {
  readonly run: TileRunner;
  /**
   * Models with instance norm: a runner for the tiles of `img` that normalises every tile with the
   * statistics of the whole image (global-stats.ts). Absent for models without instance norm, whose
   * tiles need no statistics.
   */
  readonly tileRunner?: (img: Rgb8) => Promise<TileRunner>;
  dispose(): Promise<void>;
}

export interface ImageModelOptions {
  /** Intra-op threads; default all cores. */
  readonly threads?: number;
  /** Where ONNX Runtime runs (backends/onnx/providers.ts); default the CPU. */
  readonly device?: Device;
}

export async function loadImageModel(path: string, opts: ImageModelOptions = {}): Promise<ImageModel> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch {
    throw new UserError(`cannot read model ${path}`);
  }
  let bad: string | undefined;
  try {
    bad = nonFiniteInitializer(bytes);
  } catch (e) {
    throw new UserError(`${path} is not a loadable ONNX model: ${(e as Error).message}`);
  }
  if (bad !== undefined) throw new UserError(`${path} holds non-finite weights (${bad} has a NaN or infinite value): the training run that made it diverged`);
  let session: ort.InferenceSession;
  try {
    session = await open(bytes, opts);
  } catch (e) {
    if (e instanceof GpuUnavailableError) throw e;
    throw new UserError(`${path} is not a loadable ONNX model: ${(e as Error).message}`);
  }
  if (session.inputNames.length !== 1 || session.outputNames.length < 1)
    throw new UserError(`${path} must have exactly one image input; it has ${session.inputNames.length}`);
  const input = session.inputNames[0]!;
  const output = session.outputNames[0]!;
  const variants = instanceNormStatsModels(bytes);
  // Sessions for the two variants are made on first use (most images are not tiled) and kept for the
  // next tiled image or video frame.
  let sessions: Promise<{ stats: ort.InferenceSession; fed: ort.InferenceSession }> | undefined;
  const tileRunner =
    variants &&
    (async (img: Rgb8): Promise<TileRunner> => {
      sessions ??= Promise.all([open(variants.stats, opts), open(variants.fed, opts)]).then(([stats, fed]) => ({ stats, fed }));
      const { stats, fed } = await sessions;
      const values = await wholeImageStats(sessionRunner(ort, stats), input, variants.names, img, STATS_MAX_PIXELS);
      return fedTileRunner(sessionRunner(ort, fed), input, output, values);
    });
  return {
    ...(tileRunner && { tileRunner }),
    async run(x) {
      const res = await session.run({ [input]: new ort.Tensor('float32', x.data, [...x.shape]) });
      const t = res[output]!;
      const out = { shape: t.dims.map(Number), data: t.data as Float32Array };
      for (const k of Object.keys(res)) if (k !== output) res[k]!.dispose();
      return out;
    },
    async dispose() {
      await session.release();
      if (sessions) {
        const { stats, fed } = await sessions;
        await stats.release();
        await fed.release();
      }
    },
  };
}

async function open(bytes: Uint8Array, opts: ImageModelOptions): Promise<ort.InferenceSession> {
  const { session } = await createSessionOn(bytes, opts.device ?? 'cpu', {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: opts.threads ?? Math.max(1, cpus().length),
    interOpNumThreads: 1,
    executionMode: 'sequential',
  });
  return session;
}
