/**
 * `stc export RUN -o model.onnx [--target onnx|tfjs] [--checkpoint FILE]`: an inference-only model of a
 * training run's newest complete checkpoint: symbolic N, H, W; weights embedded; input the network's
 * image input (RGB 0..255, NCHW), output `image` (RGB 0..255, clamped). `--precision int8|fp16`: an int8 QDQ or a
 * float16 model (float32 input and output either way).
 * `stc export RUN|model.onnx|spec.style --target web -o site/ [--model ...]`: a static web page (export-web.ts).
 */
import path from 'node:path';
import type { Command } from 'commander';
import { bindWeights } from '../../weights/index.ts';
import { paramsOf } from '../../compiler/ir/graph.ts';
import type { HostTensor } from '../../compiler/ir/types.ts';
import { loadCheckpoint, loadLatestCheckpoint, type Checkpoint } from '../../runtime/checkpoint/checkpoint.ts';
import { CHECKPOINT_DIR } from '../../runtime/train/trainer.ts';
import { firstNonFinite } from '../../runtime/train/health.ts';
import { exportOnnx, exportTfjs, inferenceGraph } from '../../runtime/train/export.ts';
import { calibrationList, writeQuantizedOnnx } from '../quantize-option.ts';
import { PRECISION_FLAGS, PRECISION_HELP, parsePrecision } from '../precision-option.ts';
import { parsePredictorPrecision } from '../predictor-precision-option.ts';
import { stat } from 'node:fs/promises';
import { probeWritable } from '../../util/atomic-write.ts';
import { UserError } from '../../util/errors.ts';
import { loadSpec, pickNetwork } from '../load-spec.ts';
import type { Register } from './index.ts';
import { exportWeb, type RunLoader } from './export-web.ts';
import { addStyleOptions, exportStyleSpec, type StyleOpts } from './transfer.ts';

interface Opts extends StyleOpts {
  output: string;
  target: string;
  model: string[];
  engine?: string;
  tile?: string;
  checkpoint?: string;
  quantize?: string;
  precision?: string;
  calibrate?: string;
}

/** A run folder's newest complete checkpoint (or `checkpoint`): the network it trained and its weights. */
export const loadRunNetwork: RunLoader = async (run, checkpoint) => {
  let ckpt: Checkpoint;
  let from: string;
  if (checkpoint) {
    from = checkpoint;
    ckpt = await loadCheckpoint(checkpoint).catch((e: Error) => {
      throw new UserError(`cannot read checkpoint ${checkpoint}: ${e.message}`);
    });
  } else {
    const latest = await loadLatestCheckpoint(path.join(run, CHECKPOINT_DIR));
    if (!latest) throw new UserError(`${run} has no readable checkpoint (looked in ${path.join(run, CHECKPOINT_DIR)})`);
    [ckpt, from] = [latest.checkpoint, latest.path];
    // A torn or corrupt newer checkpoint is passed over, and the user told which one was used instead.
    for (const u of latest.unreadable) process.stderr.write(`stc: note: skipped unreadable checkpoint ${u.path} (${u.reason}); exporting ${from}, step ${ckpt.step}\n`);
  }
  const bad = firstNonFinite({ parameter: ckpt.params });
  if (bad !== undefined) throw new UserError(`${from} holds non-finite weights (${bad} has a NaN or infinite value): the run diverged; export an earlier checkpoint with --checkpoint`);
  const source = (ckpt.meta.config as { source?: { spec?: string; network?: string } } | undefined)?.source;
  if (!source?.spec) throw new UserError(`${from} does not record the spec it was trained from`);
  const net = pickNetwork(loadSpec(source.spec), source.network);
  // Trained parameters from the checkpoint; any non-trainable ones (batch-norm statistics) from the spec binding.
  const weights = new Map<string, HostTensor>(ckpt.params);
  const rest = paramsOf(net.graph).filter((p) => !weights.has(p.id));
  if (rest.length > 0) {
    const bound = await bindWeights(net.graph, net.weights ?? { kind: 'random', seed: 0 }, { specDir: net.specDir, params: rest.map((p) => p.id) });
    for (const [k, v] of bound) weights.set(k, v);
  }
  return { graph: net.graph, weights, from: `${from}, step ${ckpt.step}` };
};

async function action(run: string | undefined, o: Opts): Promise<void> {
  if (o.target === 'web') {
    const precision = parsePrecision(o.precision, o.quantize);
    if (precision === 'int8') throw new UserError('--precision int8 is for --target onnx, not web');
    // The page predicts style vectors itself, with the float32 predictor on onnxruntime-web.
    if (parsePredictorPrecision(o.predictorPrecision, o.predictorInt8) === 'int8') throw new UserError('--predictor-precision int8 is for stc transfer and --target onnx: the web page runs the style predictor in float32');
    process.stdout.write(`${await exportWeb(run === undefined ? o.model : [run, ...o.model], { ...o, float16: precision === 'fp16' }, loadRunNetwork)}\n`);
    return;
  }
  if (o.target !== 'onnx' && o.target !== 'tfjs') throw new UserError(`--target must be onnx, tfjs or web, got '${o.target}'`);
  if (run === undefined || o.model.length > 0) throw new UserError(`--target ${o.target} exports one run: stc export RUN -o FILE`);
  const precision = parsePrecision(o.precision, o.quantize);
  const quantize = precision === 'int8' ? 'int8' : undefined;
  if (run.endsWith('.style')) {
    // The arbitrary-style predictor's int8 export fell short of its float32 vectors (docs/benchmarks.md, issue 17).
    if (precision !== 'fp32') throw new UserError(`--precision ${precision} exports a trained run; a style-conditioned spec exports in fp32`);
    return exportStyleSpec(run, o);
  }
  if (precision !== 'fp32' && o.target !== 'onnx') throw new UserError(`--precision ${precision} is for --target onnx, not '${o.target}'`);
  const { graph, weights, from } = await loadRunNetwork(run, o.checkpoint);
  const dir = path.dirname(path.resolve(o.output));
  if (!(await stat(dir).catch(() => undefined))?.isDirectory()) throw new UserError(`cannot write ${o.output}: folder ${dir} does not exist`);
  await probeWritable(o.output);
  if (quantize) {
    const bytes = await writeQuantizedOnnx(o.output, inferenceGraph(graph), weights, { calibrate: calibrationList(o.calibrate), name: 'stc-johnson', docString: 'stc fast style transfer (int8 convs): input RGB 0..255 NCHW, output `image` RGB 0..255' });
    process.stdout.write(`wrote ${o.output} (${(bytes / 1e6).toFixed(1)} MB, ONNX opset 18, ${quantize} convs) from ${from}\n`);
  } else if (o.target === 'onnx') {
    const float16 = precision === 'fp16';
    const bytes = await exportOnnx(o.output, graph, weights, { float16 });
    process.stdout.write(`wrote ${o.output} (${(bytes / 1e6).toFixed(1)} MB, ONNX opset 18${float16 ? ', float16' : ''}) from ${from}\n`);
  } else {
    await exportTfjs(o.output, graph, weights);
    process.stdout.write(`wrote ${o.output} (tfjs ES module) from ${from}\n`);
  }
}

export const register: Register = (program: Command) => {
  const cmd = program
    .command('export')
    .description('export a trained network (a `stc train` run folder), or a style-conditioned spec with --style baked in, as an inference model, or as a web page (--target web)')
    .argument('[run]', 'run folder written by stc train, or a .style spec with a style predictor (then --style ...); --target web: also an .onnx file')
    .requiredOption('-o, --output <file>', 'model file to write (.onnx, or .js/.mjs for --target tfjs; a folder for --target web)')
    .option('--target <name>', 'onnx, tfjs or web', 'onnx')
    .option('--model <source>', '--target web: another run, .onnx or .style, for the page\'s style picker (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--engine <name>', '--target web: onnx (onnxruntime-web) or tfjs (compiled tfjs program)', 'onnx')
    .option('--tile <px>', '--target web: the page tiles images larger than this (default 512)')
    .option('--checkpoint <file>', 'export this checkpoint instead of the newest one')
    .option(PRECISION_FLAGS, `${PRECISION_HELP}; int8 needs the ONNX target and is calibrated on --calibrate images or noise; fp16: the ONNX target, or --target web (the page picks the float16 model on WebGPU with shader-f16)`)
    .option('--quantize <mode>', 'int8: the same as --precision int8')
    .option('--calibrate <images>', 'comma-separated photos to calibrate --precision int8 activation ranges on');
  addStyleOptions(cmd).action(action);
};
