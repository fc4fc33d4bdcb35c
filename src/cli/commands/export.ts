/**
 * `stc export RUN -o model.onnx [--target onnx|tfjs] [--checkpoint FILE]`: an inference-only model of a
 * training run's newest complete checkpoint: symbolic N, H, W; weights embedded; input the network's
 * image input (RGB 0..255, NCHW), output `image` (RGB 0..255, clamped).
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
import { calibrationList, parseQuantize, writeQuantizedOnnx } from '../quantize-option.ts';
import { stat } from 'node:fs/promises';
import { probeWritable } from '../../util/atomic-write.ts';
import { UserError } from '../../util/errors.ts';
import { loadSpec, pickNetwork } from '../load-spec.ts';
import type { Register } from './index.ts';

interface Opts {
  output: string;
  target: string;
  checkpoint?: string;
  quantize?: string;
  calibrate?: string;
}

async function action(run: string, o: Opts): Promise<void> {
  if (o.target !== 'onnx' && o.target !== 'tfjs') throw new UserError(`--target must be onnx or tfjs, got '${o.target}'`);
  const quantize = parseQuantize(o.quantize);
  if (quantize && o.target !== 'onnx') throw new UserError(`--quantize is for --target onnx, not '${o.target}'`);
  let ckpt: Checkpoint;
  let from: string;
  if (o.checkpoint) {
    from = o.checkpoint;
    ckpt = await loadCheckpoint(o.checkpoint).catch((e: Error) => {
      throw new UserError(`cannot read checkpoint ${o.checkpoint}: ${e.message}`);
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
  const dir = path.dirname(path.resolve(o.output));
  if (!(await stat(dir).catch(() => undefined))?.isDirectory()) throw new UserError(`cannot write ${o.output}: folder ${dir} does not exist`);
  await probeWritable(o.output);
  if (quantize) {
    const bytes = await writeQuantizedOnnx(o.output, inferenceGraph(net.graph), weights, { calibrate: calibrationList(o.calibrate), name: 'stc-johnson', docString: 'stc fast style transfer (int8 convs): input RGB 0..255 NCHW, output `image` RGB 0..255' });
    process.stdout.write(`wrote ${o.output} (${(bytes / 1e6).toFixed(1)} MB, ONNX opset 18, ${quantize} convs) from ${from}, step ${ckpt.step}\n`);
  } else if (o.target === 'onnx') {
    const bytes = await exportOnnx(o.output, net.graph, weights);
    process.stdout.write(`wrote ${o.output} (${(bytes / 1e6).toFixed(1)} MB, ONNX opset 18) from ${from}, step ${ckpt.step}\n`);
  } else {
    await exportTfjs(o.output, net.graph, weights);
    process.stdout.write(`wrote ${o.output} (tfjs ES module) from ${from}, step ${ckpt.step}\n`);
  }
}

export const register: Register = (program: Command) => {
  program
    .command('export')
    .description('export a trained network (a `stc train` run folder) as an inference model')
    .argument('<run>', 'run folder written by stc train')
    .requiredOption('-o, --output <file>', 'model file to write (.onnx, or .js/.mjs for --target tfjs)')
    .option('--target <name>', 'onnx or tfjs', 'onnx')
    .option('--checkpoint <file>', 'export this checkpoint instead of the newest one')
    .option('--quantize <mode>', 'int8: quantised convs (ONNX target), calibrated on --calibrate images or noise')
    .option('--calibrate <images>', 'comma-separated photos to calibrate --quantize activation ranges on')
    .action(action);
};
