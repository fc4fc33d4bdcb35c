/**
 * Arbitrary style transfer with a style-conditioned spec (specs/arbitrary.style):
 *
 *   stc transfer specs/arbitrary.style --style painting.jpg --content photo.jpg -o out.png
 *       [--style b.jpg --style-blend 0.7,0.3] [--strength 0.8] [--size 512] [--weights-dir DIR] [--device gpu]
 *       [--predictor-precision auto|float32|int8]
 *   stc export specs/arbitrary.style --style painting.jpg -o fixed.onnx [--target tfjs]
 *
 * The predictor turns each --style painting (256 centre crop) into a style vector; the vectors are blended;
 * --strength mixes in the content image's own vector. The transformation network with that vector baked
 * in is then a one-input image model: `transfer` runs it through the apply machinery (image, folder or
 * video), `export` writes it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { CompiledModule } from '../../compiler/frontend.ts';
import type { HostTensor } from '../../compiler/ir/types.ts';
import { applyToFolder, applyToImage, applyToVideo, inputKind } from '../../runtime/apply/apply.ts';
import { loadImageModel } from '../../runtime/apply/model.ts';
import { StylePredictor, bakedTransfer, checkImageSize, styleInput, weightOverride } from '../../runtime/arbitrary/pipeline.ts';
import type { TileRunner } from '../../runtime/apply/tiling.ts';
import { predictorPrecisionPlan, type PredictorPrecision } from '../../runtime/arbitrary/predictor-precision.ts';
import { readStyleImage } from '../../runtime/arbitrary/style-image.ts';
import { blendVectors, blendWeights, withStrength } from '../../runtime/arbitrary/vector.ts';
import { exportOnnx, exportTfjs } from '../../runtime/train/export.ts';
import { ProgressBar } from '../../runtime/progress.ts';
import { UserError } from '../../util/errors.ts';
import { readNpy } from '../../weights/index.ts';
import { BATCH_HELP, batchOption } from '../batch-option.ts';
import { DEVICE_FLAGS, DEVICE_HELP, parseDevice } from '../device-option.ts';
import { loadSpec, pickNetwork } from '../load-spec.ts';
import { PREDICTOR_INT8_HELP, PREDICTOR_PRECISION_FLAGS, PREDICTOR_PRECISION_HELP, parsePredictorPrecision } from '../predictor-precision-option.ts';
import type { Register } from './index.ts';

/** The options `transfer` and `export SPEC.style` share: where the style vector and the weights come from. */
export interface StyleOpts {
  style: string[];
  styleBlend?: string;
  styleVector?: string;
  strength?: string;
  network?: string;
  predictor: string;
  weights?: string;
  styleWeights?: string;
  weightsDir?: string;
  device?: string;
  threads?: string;
  predictorPrecision?: string;
  predictorInt8?: boolean;
}

interface TransferOpts extends StyleOpts {
  content: string;
  output: string;
  size?: string;
  tile?: string;
  batch?: string;
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

function num(name: string, v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new UserError(`--${name} must be a number, got '${v}'`);
  return n;
}

function int(name: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UserError(`--${name} must be an integer of at least ${min}, got '${v}'`);
  return n;
}

export function addStyleOptions(cmd: Command): Command {
  return cmd
    .option('--style <image>', 'style image (repeat for a blend)', collect, [])
    .option('--style-blend <weights>', 'comma-separated blend weights, one per --style (normalised to sum 1)')
    .option('--style-vector <file.npy>', 'use this style vector ([1, S, 1, 1] .npy) instead of predicting one')
    .option('--strength <s>', 'stylisation strength 0..1: mixes in the content image\'s own style vector (default 1)')
    .option('--network <name>', 'the style-conditioned transformation network (default: the spec\'s main network)')
    .option('--predictor <name>', 'the style-predictor network', 'style_predict')
    .option('--weights <file>', 'weight file of the transformation network (instead of the spec\'s)')
    .option('--style-weights <file>', 'weight file of the style predictor (instead of the spec\'s)')
    .option('--weights-dir <dir>', 'folder holding the weight files the spec names (the Magenta .tflite files)')
    .option('--threads <n>', 'ONNX Runtime intra-op threads (default: all cores)')
    .option(PREDICTOR_PRECISION_FLAGS, PREDICTOR_PRECISION_HELP)
    .option('--predictor-int8', PREDICTOR_INT8_HELP)
    .option(DEVICE_FLAGS, DEVICE_HELP);
}

/**
 * The predictor precision the options ask for, refused up front where int8 cannot run (the GPU, a tfjs
 * export). `target`: the backend the baked network is for.
 */
function predictorPrecision(o: StyleOpts, target: 'onnx' | 'tfjs'): PredictorPrecision {
  const precision = parsePredictorPrecision(o.predictorPrecision, o.predictorInt8);
  const device = parseDevice(o.device);
  predictorPrecisionPlan(precision, { ...(device && { device }), target });
  return precision;
}

/**
 * The style vector the options ask for, from a predictor in `precision` (checked for `target` by the caller).
 * `content` is the single content image that --strength < 1 needs.
 */
async function styleVector(mod: CompiledModule, o: StyleOpts, content: string | undefined, precision: PredictorPrecision, target: 'onnx' | 'tfjs'): Promise<HostTensor> {
  const strength = o.strength === undefined ? 1 : num('strength', o.strength);
  if (o.styleVector !== undefined) {
    if (o.style.length) throw new UserError('give either --style images or --style-vector, not both');
    if (strength !== 1) throw new UserError('--strength needs --style images (the content vector comes from the predictor)');
    return readNpy(o.styleVector).catch((e: Error) => {
      throw e instanceof UserError ? e : new UserError(`cannot read style vector ${o.styleVector}: ${e.message}`);
    });
  }
  if (o.style.length === 0) throw new UserError('give at least one --style image (or --style-vector)');
  const weights = blendWeights(o.style.length, o.styleBlend?.split(',').map((s) => num('style-blend', s)));
  if (strength !== 1 && content === undefined) throw new UserError('--strength below 1 needs a single content image (it uses that image\'s own style vector)');
  const device = parseDevice(o.device);
  const threads = int('threads', o.threads, 1);
  const net = pickNetwork(mod, o.predictor);
  const predictor = await StylePredictor.load(net, {
    ...(weightOverride(net, o.styleWeights, o.weightsDir) !== undefined && { weights: weightOverride(net, o.styleWeights, o.weightsDir)! }),
    ...(device && { device }),
    ...(threads && { threads }),
    precision,
    target,
  });
  try {
    const vectors: HostTensor[] = [];
    for (const s of o.style) vectors.push(await predictor.predict(await readStyleImage(s)));
    const style = blendVectors(vectors, weights);
    return strength === 1 ? style : withStrength(style, await predictor.predict(await readStyleImage(content!)), strength);
  } finally {
    await predictor.dispose();
  }
}

/** The transformation network of `spec` with the options' style vector baked in, for the `target` backend. */
export async function bakedFromOptions(spec: string, o: StyleOpts, content?: string, target: 'onnx' | 'tfjs' = 'onnx') {
  const precision = predictorPrecision(o, target);
  const mod = loadSpec(spec);
  const net = pickNetwork(mod, o.network);
  styleInput(net); // fail on a network without a style input before predicting anything
  const vector = await styleVector(mod, o, content, precision, target);
  return bakedTransfer(net, vector, weightOverride(net, o.weights, o.weightsDir));
}

async function action(spec: string, o: TransferOpts): Promise<void> {
  predictorPrecision(o, 'onnx');
  const kind = await inputKind(o.content);
  const maxSize = int('size', o.size, 16);
  const tile = int('tile', o.tile, 16);
  const device = parseDevice(o.device);
  const batch = batchOption(o.batch, device);
  const baked = await bakedFromOptions(spec, o, kind === 'image' ? o.content : undefined);
  const dir = await mkdtemp(join(tmpdir(), 'stc-transfer-'));
  try {
    const file = join(dir, 'model.onnx');
    await exportOnnx(file, baked.graph, baked.weights);
    const threads = int('threads', o.threads, 1);
    const model = await loadImageModel(file, { ...(device && { device }), ...(threads && { threads }) });
    const opts = { ...(maxSize !== undefined && { maxSize }), ...(tile !== undefined && { tile }), ...batch };
    const checked = new Set<string>();
    const run: TileRunner = (x) => {
      const [, , h, w] = x.shape as [number, number, number, number];
      if (!checked.has(`${h}x${w}`)) checkImageSize(baked.graph, h, w);
      checked.add(`${h}x${w}`);
      return model.run(x);
    };
    try {
      if (kind === 'image') {
        await applyToImage(run, o.content, o.output, opts);
        process.stderr.write(`wrote ${o.output}\n`);
      }
      else if (kind === 'folder') {
        const bar = new ProgressBar(process.stderr);
        const t0 = performance.now();
        const n = await applyToFolder(run, o.content, o.output, {
          ...opts,
          onItem: (e) => bar.update({ label: 'transfer', current: e.done, total: e.total, elapsedMs: performance.now() - t0 }),
        });
        bar.done();
        process.stderr.write(`stylised ${n} images into ${o.output}\n`);
      } else {
        const n = await applyToVideo(run, o.content, o.output, opts);
        process.stderr.write(`stylised ${n} frames into ${o.output}\n`);
      }
    } finally {
      await model.dispose();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `stc export SPEC.style --style ... -o FILE`: the transformation network with one style baked in. */
export async function exportStyleSpec(spec: string, o: StyleOpts & { output: string; target: string }): Promise<void> {
  if (o.strength !== undefined && num('strength', o.strength) !== 1) throw new UserError('--strength below 1 depends on the content image: it is for stc transfer, not export');
  const baked = await bakedFromOptions(spec, o, undefined, o.target === 'tfjs' ? 'tfjs' : 'onnx');
  if (o.target === 'onnx') {
    const bytes = await exportOnnx(o.output, baked.graph, baked.weights);
    process.stdout.write(`wrote ${o.output} (${(bytes / 1e6).toFixed(1)} MB, ONNX opset 18, one style baked in)\n`);
  } else {
    await exportTfjs(o.output, baked.graph, baked.weights);
    process.stdout.write(`wrote ${o.output} (tfjs ES module, one style baked in)\n`);
  }
}

export const register: Register = (program: Command) => {
  addStyleOptions(
    program
      .command('transfer')
      .description('arbitrary style transfer with a style-conditioned spec (specs/arbitrary.style): any painting, one pass')
      .argument('<spec>', 'spec with a style predictor and a style-conditioned transformation network')
      .requiredOption('--content <input>', 'content image, folder of images or video')
      .requiredOption('-o, --output <path>', 'output image, folder or video')
      .option('--size <px>', 'shrink content so its longer side is at most this')
      .option('--tile <px>', 'split images larger than this into overlapping tiles')
      .option('--batch <n>', BATCH_HELP),
  ).action(action);
};
