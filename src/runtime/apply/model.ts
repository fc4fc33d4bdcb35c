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
import type { HostTensor } from '../../compiler/ir/types.ts';
import { NOISE_QUANTIZE_OPTIONS, onnxImageInput, quantizeOnnxBytes } from '../../backends/onnx/quantize.ts';
import { mulberry32 } from '../../util/prng.ts';
import { UserError } from '../../util/errors.ts';
import { type InstanceNormStatsModels, instanceNormStatsModels } from '../../backends/onnx/instance-norm-stats.ts';
import { float16Bytes, isFloat16Model } from '../../backends/onnx/float16.ts';
import { type ModelProto, onnx } from '../../backends/onnx/proto.ts';
import { requireFloat16Gpu } from '../../backends/onnx/float16-device.ts';
import { winogradModel } from '../../backends/onnx/winograd-model.ts';
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
  /** Convs loaded as Winograd F(4×4, 3×3) (ImageModelOptions.winograd; 0 without it). */
  readonly winogradConvs: number;
  dispose(): Promise<void>;
}

export interface ImageModelOptions {
  /** Intra-op threads; default all cores. */
  readonly threads?: number;
  /** Where ONNX Runtime runs (backends/onnx/providers.ts); default the CPU. */
  readonly device?: Device;
  /**
   * int8: a float model is quantised on load (backends/onnx/quantize.ts), its activation ranges calibrated on
   * `calibration` (RGB 0..255 NCHW tensors), by default on two seeded noise images of CALIBRATION_SIDE²
   * (or the model's fixed size), as `stc compile --precision int8` without --calibrate does.
   * fp16 (`device: 'gpu'` only): a float32 model is converted to float16 on load (backends/onnx/float16.ts), after
   * checking that the GPU runs float16 (a UserError when its WebGPU adapter lacks shader-f16).
   */
  readonly precision?: 'fp32' | 'int8' | 'fp16';
  readonly calibration?: readonly HostTensor[];
  /**
   * The wide 3×3 convs as Winograd F(4×4, 3×3) (backends/onnx/winograd-model.ts): faster per image, dearer to load
   * and in memory (runtime/apply/winograd-choice.ts says when it pays). fp32 on the CPU only; ignored elsewhere.
   */
  readonly winograd?: boolean;
}

/** Side of the default noise calibration images of `precision: 'int8'`. */
export const CALIBRATION_SIDE = 256;

/** Seeded uniform noise in 0..255, [1, 3, h, w]. */
function noiseTensor(h: number, w: number, seed: number): HostTensor {
  const next = mulberry32(seed);
  return { shape: [1, 3, h, w], data: Float32Array.from({ length: 3 * h * w }, () => next() * 255) };
}

async function quantizeOnLoad(bytes: Uint8Array, opts: ImageModelOptions): Promise<Uint8Array> {
  const { name, dims } = onnxImageInput(bytes);
  const [h, w] = [dims[2] ?? CALIBRATION_SIDE, dims[3] ?? CALIBRATION_SIDE];
  const images = opts.calibration ?? [noiseTensor(h, w, 1), noiseTensor(h, w, 2)];
  // Channel equalisation needs per-channel ranges like a photo's; noise gives others (see NOISE_QUANTIZE_OPTIONS).
  const noise = opts.calibration === undefined ? NOISE_QUANTIZE_OPTIONS : {};
  return quantizeOnnxBytes(bytes, images.map((t) => ({ [name]: t })), { ...noise, ...(opts.threads !== undefined && { threads: opts.threads }) });
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
  if (opts.precision === 'int8') {
    try {
      bytes = await quantizeOnLoad(bytes, opts);
    } catch (e) {
      throw new UserError(`cannot quantise ${path} to int8: ${(e as Error).message}`);
    }
  }
  let winogradConvs = 0;
  if (opts.winograd && (opts.device ?? 'cpu') === 'cpu' && (opts.precision ?? 'fp32') === 'fp32') {
    // Before the tiled variants are derived from the bytes, so tiles run the same convs.
    ({ bytes, convs: winogradConvs } = winogradModel(bytes));
  }
  const float16 = await toFloat16OnLoad(bytes, opts);
  bytes = float16.bytes;
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
  const variants = float16.variants();
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
    winogradConvs,
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

/**
 * `precision: 'fp16'`: the model converted to float16, its tiled variants derived from the float32 model and
 * converted each (a float16 file is used as it is). A float16 model, converted or read, runs on the GPU only
 * where it runs float16 (else a UserError, not a failure on the first image).
 */
async function toFloat16OnLoad(bytes: Uint8Array, opts: ImageModelOptions): Promise<{ bytes: Uint8Array; variants: () => InstanceNormStatsModels | undefined }> {
  const asIs = { bytes, variants: () => instanceNormStatsModels(bytes) };
  const file16 = isFloat16Model(onnx.ModelProto.decode(bytes) as ModelProto);
  if (opts.precision !== 'fp16') {
    if (file16 && opts.device === 'gpu') await requireFloat16Gpu();
    return asIs;
  }
  if (opts.device !== 'gpu') throw new UserError('float16 models run on the GPU only (device: gpu)');
  await requireFloat16Gpu();
  if (file16) return asIs;
  try {
    return { bytes: float16Bytes(bytes), variants: () => float16Variants(instanceNormStatsModels(bytes)) };
  } catch (e) {
    throw new UserError(`cannot convert this model to float16: ${(e as Error).message}`);
  }
}

/** The tiled variants in float16; the fed model reads the statistics it is given in float32. */
function float16Variants(v: InstanceNormStatsModels | undefined): InstanceNormStatsModels | undefined {
  if (!v) return undefined;
  return { ...v, stats: float16Bytes(v.stats), fed: float16Bytes(v.fed, { float32Inputs: v.names.flatMap((n) => [n.mean, n.variance]) }) };
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
