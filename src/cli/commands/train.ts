/**
 * `stc train <spec> --data DIR --style IMG --out RUN`: train a Johnson transformation network
 * (the spec's main network, or --network) against a loss network from the stdlib.
 * Progress goes to stderr (a bar with ETA; the ETA extrapolates this session's mean step time).
 */
import path from 'node:path';
import type { Command } from 'commander';
import { compileFile } from '../../compiler/frontend.ts';
import { STDLIB_DIR } from '../../compiler/checker/modules.ts';
import { bindWeights } from '../../weights/index.ts';
import { readImage } from '../../runtime/image.ts';
import { listImages } from '../../runtime/data/scan.ts';
import { ProgressBar } from '../../runtime/progress.ts';
import { DEFAULT_TRAIN, CHECKPOINT_DIR, train, type TrainConfig } from '../../runtime/train/trainer.ts';
import { LOSS_NETS, equalWeights } from '../../runtime/train/loss-nets.ts';
import { loadLatestCheckpoint } from '../../runtime/checkpoint/checkpoint.ts';
import { DEVICE_FLAGS, DEVICE_HELP, checkDeviceBackend, parseDevice } from '../device-option.ts';
import { UserError } from '../../util/errors.ts';
import { loadSpec, pickNetwork, renderDiagnostics } from '../load-spec.ts';
import type { Register } from './index.ts';
import { MAX_MEMORY_FLAGS, MAX_MEMORY_HELP, parseMaxMemory } from '../memory-option.ts';
import { checkMemory, checkPixels } from '../../runtime/limits.ts';
import { trainStepBytes } from '../../runtime/train/memory.ts';

interface Opts {
  maxMemory?: string;
  network?: string;
  data: string;
  style: string;
  out: string;
  lossNet: string;
  weights?: string;
  size?: string;
  batch?: string;
  steps?: string;
  lr?: string;
  contentWeight?: string;
  styleWeight?: string;
  tvWeight?: string;
  contentLayers?: string;
  styleLayers?: string;
  styleSize?: string;
  validation?: string;
  checkpointEvery?: string;
  validateEvery?: string;
  seed?: string;
  threads?: string;
  device?: string;
  backend: string;
  resume?: boolean;
}

function num(v: string | undefined, name: string, fallback: number, integer = false): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || (integer && (!Number.isInteger(n) || n < 0))) throw new UserError(`--${name} must be ${integer ? 'a non-negative integer' : 'a number'}, got '${v}'`);
  return n;
}

function layers(v: string | undefined, fallback: readonly string[]): string[] {
  return v === undefined ? [...fallback] : v.split(',').map((s) => s.trim()).filter(Boolean);
}

async function loadLossNet(name: string, weights?: string) {
  const file = path.join(STDLIB_DIR, `${name}.style`);
  const r = compileFile(file);
  if (!r.module) throw new UserError(`cannot load loss network ${name}:\n${renderDiagnostics(r.diagnostics, r.sources)}`);
  const net = pickNetwork(r.module, name);
  if (!net.weights) throw new UserError(`loss network ${name} has no weight binding`);
  const bound = await bindWeights(net.graph, net.weights, { specDir: net.specDir, ...(weights !== undefined && { pathOverride: weights }) });
  return { graph: net.graph, weights: bound };
}

async function action(spec: string, o: Opts): Promise<void> {
  if (o.backend !== 'onnx' && o.backend !== 'tfjs') throw new UserError(`--backend must be onnx or tfjs, got '${o.backend}'`);
  const device = parseDevice(o.device);
  checkDeviceBackend(device, o.backend);
  const defaults = LOSS_NETS[o.lossNet];
  if (!defaults) throw new UserError(`--loss-net must be one of ${Object.keys(LOSS_NETS).join(', ')}, got '${o.lossNet}'`);
  const mod = loadSpec(spec);
  const net = pickNetwork(mod, o.network);

  let cfg: TrainConfig = {
    ...DEFAULT_TRAIN,
    size: num(o.size, 'size', DEFAULT_TRAIN.size, true),
    batch: num(o.batch, 'batch', DEFAULT_TRAIN.batch, true),
    steps: num(o.steps, 'steps', DEFAULT_TRAIN.steps, true),
    lr: num(o.lr, 'lr', DEFAULT_TRAIN.lr),
    seed: num(o.seed, 'seed', DEFAULT_TRAIN.seed, true),
    checkpointEvery: num(o.checkpointEvery, 'checkpoint-every', DEFAULT_TRAIN.checkpointEvery, true) || DEFAULT_TRAIN.checkpointEvery,
    validateEvery: num(o.validateEvery, 'validate-every', DEFAULT_TRAIN.validateEvery, true),
    contentTaps: equalWeights(layers(o.contentLayers, defaults.content)),
    styleTaps: equalWeights(layers(o.styleLayers, defaults.style)),
    contentWeight: num(o.contentWeight, 'content-weight', defaults.weights.content),
    styleWeight: num(o.styleWeight, 'style-weight', defaults.weights.style),
    tvWeight: num(o.tvWeight, 'tv-weight', defaults.weights.tv),
    source: { spec: path.resolve(spec), network: net.name, lossNet: o.lossNet },
  };
  if (o.resume) {
    const latest = await loadLatestCheckpoint(path.join(o.out, CHECKPOINT_DIR));
    if (!latest) throw new UserError(`--resume: no readable checkpoint in ${path.join(o.out, CHECKPOINT_DIR)}`);
    // The run's own configuration wins, except the step budget, which a resume may extend.
    cfg = { ...(latest.checkpoint.meta.config as unknown as TrainConfig), ...(o.steps !== undefined && { steps: cfg.steps }) };
  }
  if (cfg.size < 16 || cfg.batch < 1 || cfg.steps < 1) throw new UserError('--size must be at least 16, --batch and --steps at least 1');

  const maxMemory = parseMaxMemory(o.maxMemory);
  checkPixels(cfg.size, cfg.size * cfg.batch, `--size ${cfg.size} --batch ${cfg.batch}`);
  const lossNet = await loadLossNet(o.lossNet, o.weights);
  const adam = { beta1: cfg.beta1, beta2: cfg.beta2, epsilon: cfg.epsilon };
  const stepBytes = trainStepBytes({ transformer: net.graph, lossNet: lossNet.graph, loss: cfg, batch: cfg.batch, size: cfg.size, adam });
  checkMemory(stepBytes, maxMemory, `--size ${cfg.size} --batch ${cfg.batch}`);
  const initialParams = await bindWeights(net.graph, net.weights ?? { kind: 'random', seed: cfg.seed }, { specDir: net.specDir });
  const dataFiles = await listImages(o.data);
  const styleSize = num(o.styleSize, 'style-size', 2 * cfg.size, true);
  const styleImage = await readImage(o.style, { resize: { maxSide: styleSize } });
  const validationImage = await readImage(o.validation ?? dataFiles[0]!, { resize: { maxSide: Math.max(256, cfg.size) } });

  const bar = new ProgressBar(process.stderr);
  let skipped = 0;
  const result = await train(
    cfg,
    {
      transformer: net.graph,
      lossNet: lossNet.graph,
      lossWeights: lossNet.weights,
      initialParams,
      styleImage,
      dataFiles,
      validationImage,
      outDir: o.out,
      resume: o.resume ?? false,
      stepBackend: o.backend,
      backend: { ...(o.threads !== undefined && { threads: num(o.threads, 'threads', 1, true) }), ...(device && { device }) },
    },
    {
      onCompiled: (e) =>
        process.stderr.write(`compiled the training step: ${e.tensors} tensors, ${e.params.toLocaleString('en')} trainable parameters, ${(e.ms / 1000).toFixed(1)} s; ${dataFiles.length} images\n`),
      onResume: (e) => process.stderr.write(`resuming from step ${e.step} (${e.path})${e.unreadable ? `; skipped ${e.unreadable} unreadable newer checkpoint(s)` : ''}\n`),
      onSkip: (e) => {
        skipped = e.skipped;
        bar.done();
        process.stderr.write(`skipped unreadable image ${e.path}: ${e.reason}\n`);
      },
      onStep: (e) =>
        bar.update({
          label: 'train',
          current: e.step,
          total: e.steps,
          elapsedMs: e.meanStepMs * e.step,
          fields: { loss: e.terms.loss!, content: e.terms.content!, style: e.terms.style!, tv: e.terms.tv!, 'ms/step': e.meanStepMs },
        }),
    },
  );
  bar.done();
  process.stderr.write(`done: step ${result.state.step}; checkpoint ${result.checkpoint}${skipped ? `; ${skipped} unreadable images skipped` : ''}\n`);
}

export const register: Register = (program: Command) => {
  program
    .command('train')
    .description('train a fast style-transfer network (Johnson et al.) on a folder of photos')
    .argument('<spec>', 'spec with the transformation network')
    .requiredOption('--data <dir>', 'folder of JPEG/PNG/WebP training photos (searched recursively)')
    .requiredOption('--style <image>', 'style image')
    .requiredOption('--out <dir>', 'run folder: checkpoints, log.jsonl, validation images')
    .option('--network <name>', 'network to train (default: the spec’s main network)')
    .option('--loss-net <name>', `loss network: ${Object.keys(LOSS_NETS).join(', ')}`, 'vgg16')
    .option('--weights <path>', 'loss-network weights (overrides the stdlib binding’s path)')
    .option('--size <px>', `training crop size (default ${DEFAULT_TRAIN.size})`)
    .option('--batch <n>', `batch size (default ${DEFAULT_TRAIN.batch})`)
    .option('--steps <n>', `optimiser steps (default ${DEFAULT_TRAIN.steps})`)
    .option('--lr <rate>', `Adam learning rate (default ${DEFAULT_TRAIN.lr})`)
    .option('--content-weight <a>', 'content weight α (default: per loss net, squeezenet1_1 20, vgg 1)')
    .option('--style-weight <b>', 'style weight β (default: per loss net, 5e-3)')
    .option('--tv-weight <c>', 'total-variation weight γ (default: per loss net, 1e-4)')
    .option('--content-layers <taps>', 'comma-separated content taps (default: per loss net)')
    .option('--style-layers <taps>', 'comma-separated style taps (default: per loss net)')
    .option('--style-size <px>', 'longer side of the style image (default 2 × size)')
    .option('--validation <image>', 'image rendered every --validate-every steps (default: the first photo)')
    .option('--checkpoint-every <n>', `steps between checkpoints (default ${DEFAULT_TRAIN.checkpointEvery})`)
    .option('--validate-every <n>', `steps between validation renders, 0 = never (default ${DEFAULT_TRAIN.validateEvery})`)
    .option('--backend <name>', 'where the training step runs: onnx (compiled step graph) or tfjs (tfjs autodiff; slow, a cross-check)', 'onnx')
    .option(DEVICE_FLAGS, DEVICE_HELP)
    .option('--seed <n>', 'seed for initialisation, shuffling and crops (default 0)')
    .option('--threads <n>', 'ONNX Runtime intra-op threads (default: all cores)')
    .option(MAX_MEMORY_FLAGS, MAX_MEMORY_HELP)
    .option('--resume', 'continue the run in --out from its newest complete checkpoint')
    .action(action);
};
