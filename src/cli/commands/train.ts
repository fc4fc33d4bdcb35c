/**
 * `stc train <spec> --data DIR --style IMG --out RUN`: train a Johnson transformation network
 * (the spec's main network, or --network) against an objective: the spec's (`--objective NAME`: its
 * loss network, taps and weights) or Johnson's on a stdlib loss network (`--loss-net`, default vgg16).
 * Term-weight and layer flags override either.
 * Progress goes to stderr (a bar with ETA; the ETA extrapolates this session's mean step time).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { compileFile } from '../../compiler/frontend.ts';
import { STDLIB_DIR } from '../../compiler/checker/modules.ts';
import { bindWeights, explainIdentityMiss, weightSourceWithOverride } from '../../weights/index.ts';
import { readImage } from '../../runtime/image.ts';
import { listImages } from '../../runtime/data/scan.ts';
import { ProgressBar } from '../../runtime/progress.ts';
import { DEFAULT_TRAIN, CHECKPOINT_DIR, train, type TrainConfig } from '../../runtime/train/trainer.ts';
import { LOSS_NETS } from '../../runtime/train/loss-nets.ts';
import { applyTrainFlags, defaultTrainObjective } from '../../runtime/train/objective.ts';
import { johnsonObjective, type JohnsonLossConfig } from '../../runtime/train/train-graph.ts';
import type { ObjectiveSpec } from '../../compiler/objective/types.ts';
import { tapValue } from '../../compiler/objective/build.ts';
import { selectOutputs } from '../../compiler/passes/prune.ts';
import type { CompiledModule } from '../../compiler/frontend.ts';
import { intFlag, listFlag, numberFlag } from '../flags.ts';
import { addTermWeightOptions, termWeightOverrides } from '../term-weight-options.ts';
import { loadLatestCheckpoint } from '../../runtime/checkpoint/checkpoint.ts';
import { resumeConfig } from '../../runtime/train/resume-config.ts';
import { type RunLock, lockRunFolder } from '../../runtime/train/run-lock.ts';
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
  lossNet?: string;
  objective?: string;
  weights?: string;
  size?: string;
  batch?: string;
  steps?: string;
  lr?: string;
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
  return (integer ? intFlag(name, v, 0) : numberFlag(name, v)) ?? fallback;
}

/** The spec's objective (--objective) with its loss network from the spec, or Johnson's on a stdlib one. */
function pickObjective(mod: CompiledModule, o: Opts): { objective: ObjectiveSpec; fromSpec: boolean } {
  if (o.objective === undefined) return { objective: defaultTrainObjective(o.lossNet ?? 'vgg16'), fromSpec: false };
  const objective = mod.objectives.get(o.objective);
  if (!objective) throw new UserError(`${mod.file} has no objective ${o.objective}; it has: ${[...mod.objectives.keys()].join(', ') || 'none'}`);
  if (o.lossNet !== undefined && o.lossNet !== objective.lossNet) throw new UserError(`objective ${o.objective} uses the loss network ${objective.lossNet}, not ${o.lossNet}`);
  return { objective, fromSpec: true };
}

/**
 * The loss network cut down to the objective's taps, then bound: a partial weights file (VGG-19 to
 * conv3_4) serves an objective whose taps it covers, as it does for `stc stylize`.
 */
async function loadLossNet(name: string, taps: readonly string[], weights?: string, mod?: CompiledModule) {
  let net;
  if (mod) net = pickNetwork(mod, name);
  else {
    const file = path.join(STDLIB_DIR, `${name}.style`);
    const r = compileFile(file);
    if (!r.module) throw new UserError(`cannot load loss network ${name}:\n${renderDiagnostics(r.diagnostics, r.sources)}`);
    net = pickNetwork(r.module, name);
  }
  if (!net.weights && weights === undefined) throw new UserError(`loss network ${name} has no weight binding`);
  const graph = selectOutputs(net.graph, new Map(taps.map((tap) => [tap, tapValue(net.graph, tap)])));
  // --weights is used or refused, never dropped: over `weights random` it is read by parameter name.
  const source = await weightSourceWithOverride(net.weights, weights, 0);
  const bound = await bindWeights(graph, source, { specDir: net.specDir, ...(weights !== undefined && { pathOverride: weights }) }).catch((e: unknown) => {
    throw explainIdentityMiss(e, net.weights, name);
  });
  return { graph, weights: bound };
}

/** Lock the run folder before anything reads or writes it, so a second run into it is refused at once. */
async function action(spec: string, o: Opts, cmd: Command): Promise<void> {
  await mkdir(o.out, { recursive: true }).catch((e: Error) => {
    throw new UserError(`cannot use --out ${o.out}: ${e.message}`);
  });
  const lock = await lockRunFolder(o.out);
  if (lock.recovered) process.stderr.write(`stc: note: took over the lock of a run that is gone (PID ${lock.recovered.pid}, since ${lock.recovered.since})\n`);
  try {
    await trainAction(spec, o, cmd, lock);
  } finally {
    await lock.release();
  }
}

async function trainAction(spec: string, o: Opts, cmd: Command, lock: RunLock): Promise<void> {
  if (o.backend !== 'onnx' && o.backend !== 'tfjs') throw new UserError(`--backend must be onnx or tfjs, got '${o.backend}'`);
  const device = parseDevice(o.device);
  checkDeviceBackend(device, o.backend);
  const mod = loadSpec(spec);
  const net = pickNetwork(mod, o.network);
  const picked = pickObjective(mod, o);
  const objective = applyTrainFlags(picked.objective, {
    weights: termWeightOverrides(o as unknown as Record<string, unknown>),
    ...(o.contentLayers !== undefined && { contentLayers: listFlag(o.contentLayers)! }),
    ...(o.styleLayers !== undefined && { styleLayers: listFlag(o.styleLayers)! }),
  });

  let cfg: TrainConfig = {
    ...DEFAULT_TRAIN,
    size: num(o.size, 'size', DEFAULT_TRAIN.size, true),
    batch: num(o.batch, 'batch', DEFAULT_TRAIN.batch, true),
    steps: num(o.steps, 'steps', DEFAULT_TRAIN.steps, true),
    lr: num(o.lr, 'lr', DEFAULT_TRAIN.lr),
    seed: num(o.seed, 'seed', DEFAULT_TRAIN.seed, true),
    checkpointEvery: num(o.checkpointEvery, 'checkpoint-every', DEFAULT_TRAIN.checkpointEvery, true) || DEFAULT_TRAIN.checkpointEvery,
    validateEvery: num(o.validateEvery, 'validate-every', DEFAULT_TRAIN.validateEvery, true),
    objective,
    source: { spec: path.resolve(spec), network: net.name, lossNet: objective.lossNet, objective: objective.name },
  };
  let resumeNotes: readonly string[] = [];
  if (o.resume) {
    const latest = await loadLatestCheckpoint(path.join(o.out, CHECKPOINT_DIR));
    if (!latest) throw new UserError(`--resume: no readable checkpoint in ${path.join(o.out, CHECKPOINT_DIR)}`);
    // The run's own configuration, with each flag given either applied (noted) or refused: never ignored.
    const saved = latest.checkpoint.meta.config as unknown as TrainConfig & Partial<JohnsonLossConfig>;
    // Runs from before objectives were saved carry Johnson's taps and weights instead.
    const savedObjective = saved.objective ?? johnsonObjective(saved as JohnsonLossConfig, String(saved.source?.['lossNet'] ?? 'vgg16'));
    const given = new Set(cmd.options.map((opt) => opt.attributeName()).filter((k) => cmd.getOptionValueSource(k) === 'cli'));
    ({ cfg, notes: resumeNotes } = resumeConfig({ ...saved, objective: savedObjective }, cfg, given));
    for (const note of resumeNotes) process.stderr.write(`resume: ${note}\n`);
  }
  if (cfg.size < 16 || cfg.batch < 1 || cfg.steps < 1) throw new UserError('--size must be at least 16, --batch and --steps at least 1');

  const maxMemory = parseMaxMemory(o.maxMemory);
  checkPixels(cfg.size, cfg.size * cfg.batch, `--size ${cfg.size} --batch ${cfg.batch}`);
  const taps = [...new Set(cfg.objective.terms.flatMap((t) => t.taps.map((w) => w.tap)))];
  const lossNet = await loadLossNet(cfg.objective.lossNet, taps, o.weights, picked.fromSpec ? mod : undefined);
  const adam = { beta1: cfg.beta1, beta2: cfg.beta2, epsilon: cfg.epsilon };
  const stepBytes = trainStepBytes({ transformer: net.graph, lossNet: lossNet.graph, loss: cfg.objective, batch: cfg.batch, size: cfg.size, adam });
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
      resumeNotes,
      lock,
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
          fields: { ...e.terms, 'ms/step': e.meanStepMs },
        }),
    },
  );
  bar.done();
  process.stderr.write(`done: step ${result.state.step}; checkpoint ${result.checkpoint}${skipped ? `; ${skipped} unreadable images skipped` : ''}\n`);
}

export const register: Register = (program: Command) => {
  const cmd = program
    .command('train')
    .description('train a fast style-transfer network (Johnson et al.) on a folder of photos')
    .argument('<spec>', 'spec with the transformation network')
    .requiredOption('--data <dir>', 'folder of JPEG/PNG/WebP training photos (searched recursively)')
    .requiredOption('--style <image>', 'style image')
    .requiredOption('--out <dir>', 'run folder: checkpoints, log.jsonl, validation images')
    .option('--network <name>', 'network to train (default: the spec’s main network)')
    .option('--objective <name>', 'an objective of the spec (its loss network, taps and weights; flags below override)')
    .option('--loss-net <name>', `without --objective: Johnson's loss on ${Object.keys(LOSS_NETS).join(', ')} (default vgg16)`)
    .option('--weights <path>', 'loss-network weights (overrides the path of its weight binding)')
    .option('--size <px>', `training crop size (default ${DEFAULT_TRAIN.size})`)
    .option('--batch <n>', `batch size (default ${DEFAULT_TRAIN.batch})`)
    .option('--steps <n>', `optimiser steps (default ${DEFAULT_TRAIN.steps})`)
    .option('--lr <rate>', `Adam learning rate (default ${DEFAULT_TRAIN.lr})`)
    .option('--content-layers <taps>', 'comma-separated content taps, equal weights (default: the objective’s)')
    .option('--style-layers <taps>', 'comma-separated style taps, equal weights (default: the objective’s)')
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
  addTermWeightOptions(cmd);
};
