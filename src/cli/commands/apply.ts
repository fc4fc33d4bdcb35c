/**
 * `stc apply <model.onnx|spec.style> <image|folder|video> -o <out> [--max-size N] [--tile N --overlap N] [--batch N]
 *   [--device cpu|gpu] [--precision fp32|int8|fp16 [--calibrate a.jpg,b.jpg]] [--winograd auto|on|off]
 *   [--weights PATH --network NAME --seed N]`: stylise with an exported model (int8: a float model is quantised on load;
 * fp16, --device gpu only: converted to float16 on load) or with a spec's network, compiled for each image size with
 * stc's passes (cli/apply-spec.ts; fp32, images run whole) (see runtime/apply/apply.ts for the folder batching and tiling
 * policy). `--winograd on` runs the wide 3×3 convs as Winograd F(4×4, 3×3); `auto` (the default) turns it on for a spec
 * on folders and videos, and keeps an exported model's direct convs (runtime/apply/winograd-choice.ts says why).
 */
import type { Command } from 'commander';
import { type ApplyOptions, type InputKind, applyToFolder, applyToImage, applyToVideo, inputKind } from '../../runtime/apply/apply.ts';
import { checkGeometry } from '../../runtime/apply/tiling.ts';
import { ProgressBar } from '../../runtime/progress.ts';
import { BATCH_HELP, batchOption } from '../batch-option.ts';
import { DEVICE_FLAGS, DEVICE_HELP, parseDevice } from '../device-option.ts';
import { UserError } from '../../util/errors.ts';
import { intFlag } from '../flags.ts';
import type { Register } from './index.ts';
import { PRECISION_FLAGS, PRECISION_HELP, checkFloat16Device, parsePrecision } from '../precision-option.ts';
import { calibrationList } from '../quantize-option.ts';
import { imageToTensor, readImage } from '../../runtime/image.ts';
import { WINOGRAD_FLAGS, WINOGRAD_HELP, checkWinogradTarget, parseWinograd, winogradLine } from '../winograd-option.ts';
import { type WinogradChoice, winogradFor } from '../../runtime/apply/winograd-choice.ts';
import { type ImageModel, loadImageModel } from '../../runtime/apply/model.ts';
import type { CompileEvent } from '../../runtime/apply/compiled-model.ts';
import type { Device } from '../../backends/types.ts';
import { isSpecPath, loadSpecModel } from '../apply-spec.ts';

/** Longer side calibration photos are scaled to (or --max-size, when smaller: the size the model will see). */
const CALIBRATION_MAX_SIDE = 256;

interface Opts {
  output: string;
  maxSize?: string;
  tile?: string;
  overlap?: string;
  batch?: string;
  threads?: string;
  device?: string;
  precision?: string;
  calibrate?: string;
  winograd?: string;
  weights?: string;
  network?: string;
  seed?: string;
}

const int = (v: string | undefined, name: string, min: number): number | undefined => intFlag(name, v, min);

/** A spec runs in float32, each image whole (runtime/apply/compiled-model.ts). */
function checkSpecFlags(precision: string, calibrate: string | undefined, tile: number | undefined): void {
  if (precision !== 'fp32') throw new UserError(`--precision ${precision} is for an exported model: stc export the network, then apply the .onnx file with --precision ${precision}`);
  if (calibrate !== undefined) throw new UserError('--calibrate needs --precision int8 and an exported model');
  if (tile !== undefined) throw new UserError('--tile is for an exported model: a spec runs each image whole (stc export the network to tile large images)');
}

const compileLine = (e: CompileEvent): string =>
  e.sizeFree
    ? `compiled for any size (the sizes with few images) in ${(e.ms / 1000).toFixed(1)} s`
    : `compiled for ${e.width}x${e.height}${e.batch > 1 ? `, batch ${e.batch}` : ''} in ${(e.ms / 1000).toFixed(1)} s${e.winogradConvs > 0 ? `; ${winogradLine(e.winogradConvs)}` : ''}`;

interface ExportedOptions {
  readonly winogradChoice: WinogradChoice;
  readonly precision: 'fp32' | 'int8' | 'fp16';
  readonly device: Device | undefined;
  readonly threads: number | undefined;
  readonly calibrate: string | undefined;
  readonly maxSize: number | undefined;
}

async function loadExported(modelPath: string, input: string, kind: InputKind, o: ExportedOptions): Promise<ImageModel> {
  // An exported model: `auto` keeps the direct convs (measured: runtime/apply/winograd-choice.ts), `on` rewrites it
  // (checkWinogradTarget has refused `on` off the CPU or outside fp32).
  const winograd = winogradFor(o.winogradChoice, { largeImages: 0, exportedModel: true });
  const { precision, device } = o;
  const photos = calibrationList(o.calibrate);
  if (photos.length > 0 && precision !== 'int8') throw new UserError('--calibrate needs --precision int8');
  // One image and no --calibrate: calibrate on that image (wave on chicago at 96 px, test/cli/precision.test.ts:
  // 38.0 dB against fp32, 30.8 dB calibrated on noise); folders and videos: noise, unless --calibrate.
  if (precision === 'int8' && photos.length === 0 && kind === 'image') photos.push(input);
  const calibrationSide = Math.min(CALIBRATION_MAX_SIDE, o.maxSize ?? Infinity);
  const calibration = await Promise.all(photos.map(async (p) => imageToTensor(await readImage(p, { resize: { maxSide: calibrationSide } }))));
  return loadImageModel(modelPath, {
    ...(o.threads !== undefined && { threads: o.threads }),
    ...(device && { device }),
    ...(precision === 'int8' && { precision, ...(calibration.length > 0 && { calibration }) }),
    ...(precision === 'fp16' && { precision }),
    ...(winograd && { winograd }),
  });
}

async function action(modelPath: string, input: string, o: Opts): Promise<void> {
  const tile = int(o.tile, 'tile', 16);
  const overlap = int(o.overlap, 'overlap', 0);
  if (overlap !== undefined && tile === undefined) throw new UserError('--overlap needs --tile');
  if (tile !== undefined) {
    try {
      checkGeometry({ tile, overlap: overlap ?? Math.min(64, Math.floor(tile / 4)) });
    } catch (e) {
      throw new UserError((e as Error).message);
    }
  }
  const device = parseDevice(o.device);
  const opts = {
    ...(o.maxSize !== undefined && { maxSize: int(o.maxSize, 'max-size', 16)! }),
    ...(tile !== undefined && { tile }),
    ...(overlap !== undefined && { overlap }),
    ...batchOption(o.batch, device),
  };
  const kind = await inputKind(input);
  const precision = parsePrecision(o.precision);
  checkFloat16Device(precision, device);
  const winogradChoice = parseWinograd(o.winograd);
  checkWinogradTarget(winogradChoice, { ...(device && { device }), precision });
  const threads = int(o.threads, 'threads', 1);
  const bar = new ProgressBar(process.stderr);
  let model: ImageModel;
  if (isSpecPath(modelPath)) {
    checkSpecFlags(precision, o.calibrate, tile);
    model = await loadSpecModel(modelPath, input, kind, {
      ...(o.weights !== undefined && { weights: o.weights }),
      ...(o.network !== undefined && { network: o.network }),
      seed: int(o.seed, 'seed', 0) ?? 0,
      ...(threads !== undefined && { threads }),
      ...(device && { device }),
      ...(opts.maxSize !== undefined && { maxSize: opts.maxSize }),
      winograd: winogradChoice,
      onCompile: (e) => {
        bar.done();
        process.stderr.write(`${compileLine(e)}\n`);
      },
    });
  } else {
    if (o.weights !== undefined || o.network !== undefined) throw new UserError('--weights and --network are for a .style spec; an exported model holds its network and weights');
    model = await loadExported(modelPath, input, kind, { winogradChoice, precision, device, threads, calibrate: o.calibrate, maxSize: opts.maxSize });
    if (model.winogradConvs > 0) process.stderr.write(`${winogradLine(model.winogradConvs)}\n`);
  }
  if (model.tileRunner) Object.assign(opts, { tileRunner: model.tileRunner });
  try {
    await stylizeInput(model, kind, input, o.output, opts, bar);
  } finally {
    await model.dispose();
  }
}

/** Run the image, folder or video through the model, rendering progress on `bar`. */
async function stylizeInput(model: ImageModel, kind: InputKind, input: string, output: string, opts: ApplyOptions, bar: ProgressBar): Promise<void> {
  const t0 = performance.now();
  if (kind === 'image') {
    bar.update({ label: 'apply', current: 0, total: 1, elapsedMs: 0 });
    await applyToImage(model.run, input, output, {
      ...opts,
      onTile: (done, total) => bar.update({ label: 'tiles', current: done, total, elapsedMs: performance.now() - t0 }),
    });
    bar.done();
    process.stdout.write(`wrote ${output} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
  } else if (kind === 'folder') {
    const skipped: string[] = [];
    const n = await applyToFolder(model.run, input, output, {
      ...opts,
      onItem: (e) => bar.update({ label: 'apply', current: e.done, total: e.total, elapsedMs: performance.now() - t0 }),
      onSkip: (e) => {
        bar.done();
        skipped.push(e.path);
        process.stderr.write(`skipped unreadable image ${e.path}: ${e.reason}\n`);
      },
    });
    bar.done();
    process.stderr.write(`stylised ${n} images into ${output}${skipped.length ? `; skipped ${skipped.length} unreadable` : ''}\n`);
  } else {
    const n = await applyToVideo(model.run, input, output, opts);
    process.stderr.write(`stylised ${n} frames into ${output}\n`);
  }
}

export const register: Register = (program: Command) => {
  program
    .command('apply')
    .description('stylise an image, a folder of images or a video with an exported model or a spec')
    .argument('<model>', 'ONNX model written by stc export, or a .style spec (compiled for each image size with all of stc\'s passes)')
    .argument('<input>', 'image, folder or video (.mp4/.mov/.mkv/.webm/.avi/.m4v; needs ffmpeg)')
    .requiredOption('-o, --output <path>', 'output image, folder or video')
    .option('--max-size <px>', 'shrink inputs so the longer side is at most this')
    .option('--tile <px>', 'split images larger than this into overlapping tiles (default: automatic above 1 Mpixel, 512)')
    .option('--overlap <px>', 'tile overlap (default min(64, tile/4))')
    .option('--batch <n>', BATCH_HELP)
    .option('--threads <n>', 'ONNX Runtime intra-op threads (default: all cores)')
    .option(DEVICE_FLAGS, DEVICE_HELP)
    .option(PRECISION_FLAGS, `${PRECISION_HELP}; a float model is quantised (int8) or converted (fp16, --device gpu) on load`)
    .option('--calibrate <images>', '--precision int8: comma-separated photos to calibrate activation ranges on (default: the input image, scaled down; noise for folders and videos)')
    .option(WINOGRAD_FLAGS, WINOGRAD_HELP)
    .option('--weights <path>', "with a spec: weight file or folder, in place of the spec's")
    .option('--network <name>', "with a spec: the network (default: the spec's main network)")
    .option('--seed <n>', 'with a spec: seed for networks without a weights binding', '0')
    .action(action);
};
