/**
 * Runs a `train` task: one Johnson training run, set up from the spec as `stc train` sets it up
 * (loss network from the stdlib, its default layers and weights, the same validation image), so a
 * run from the queue equals the same run by hand with the same seed.
 */
import { join } from 'node:path';
import { STDLIB_DIR } from '../../compiler/checker/modules.ts';
import { compileFile, formatDiagnostics, getNetwork, type NetworkDef } from '../../compiler/frontend.ts';
import { readImage } from '../../runtime/image.ts';
import { listImages } from '../../runtime/data/scan.ts';
import { LOSS_NETS } from '../../runtime/train/loss-nets.ts';
import { applyTrainFlags, defaultTrainObjective } from '../../runtime/train/objective.ts';
import { DEFAULT_TRAIN, train, type TrainConfig } from '../../runtime/train/trainer.ts';
import { bindWeights } from '../../weights/index.ts';
import { UserError } from '../../util/errors.ts';
import type { TrainTask } from '../types.ts';
import type { TaskContext } from './context.ts';

function network(file: string, name?: string): NetworkDef {
  const r = compileFile(file);
  if (!r.module) throw new UserError(`${file} has errors:\n${formatDiagnostics(r.diagnostics, r.sources)}`);
  const net = getNetwork(r.module, name);
  if (!net) throw new UserError(name ? `no network '${name}' in ${file}` : `${file} declares no network`);
  return net;
}

export async function runTrainTask(task: TrainTask, ctx: TaskContext): Promise<{ outputs: string[] }> {
  const storage = ctx.storage(task.root);
  const o = task.options;
  if (!LOSS_NETS[o.lossNet]) throw new UserError(`loss network must be one of ${Object.keys(LOSS_NETS).join(', ')}, got '${o.lossNet}'`);
  const spec = await ctx.checked(storage, task.spec);
  const data = await ctx.checked(storage, task.data);
  const stylePath = await ctx.checked(storage, task.style);
  const weights = task.weights ? await ctx.checked(storage, task.weights) : undefined;
  const out = storage.local(task.out);
  const net = network(spec, o.network);
  const cfg: TrainConfig = {
    ...DEFAULT_TRAIN,
    size: o.size ?? DEFAULT_TRAIN.size,
    batch: o.batch ?? DEFAULT_TRAIN.batch,
    steps: o.steps ?? DEFAULT_TRAIN.steps,
    lr: o.lr ?? DEFAULT_TRAIN.lr,
    seed: o.seed ?? DEFAULT_TRAIN.seed,
    checkpointEvery: o.checkpointEvery || DEFAULT_TRAIN.checkpointEvery,
    validateEvery: o.validateEvery ?? DEFAULT_TRAIN.validateEvery,
    // Johnson's objective on the stdlib loss network, with the sweep's overrides, as `stc train` builds it.
    objective: applyTrainFlags(defaultTrainObjective(o.lossNet), {
      weights: { 'content-weight': o.contentWeight, 'style-weight': o.styleWeight, 'tv-weight': o.tvWeight },
      ...(o.contentLayers !== undefined && { contentLayers: o.contentLayers }),
      ...(o.styleLayers !== undefined && { styleLayers: o.styleLayers }),
    }),
    source: { spec, network: net.name, lossNet: o.lossNet, objective: `johnson_${o.lossNet}` },
  };
  const lossNet = network(join(STDLIB_DIR, `${o.lossNet}.style`), o.lossNet);
  if (!lossNet.weights) throw new UserError(`loss network ${o.lossNet} has no weight binding`);
  const lossWeights = await bindWeights(lossNet.graph, lossNet.weights, { specDir: lossNet.specDir, ...(weights !== undefined && { pathOverride: weights }) });
  const initialParams = await bindWeights(net.graph, net.weights ?? { kind: 'random', seed: cfg.seed }, { specDir: net.specDir });
  const dataFiles = await listImages(data);
  const styleImage = await readImage(stylePath, { resize: { maxSide: o.styleSize ?? 2 * cfg.size } });
  const validationImage = await readImage(dataFiles[0]!, { resize: { maxSide: Math.max(256, cfg.size) } });
  const threads = o.threads ?? ctx.threads;
  const result = await train(
    cfg,
    {
      transformer: net.graph,
      lossNet: lossNet.graph,
      lossWeights,
      initialParams,
      styleImage,
      dataFiles,
      validationImage,
      outDir: out,
      // a retried run starts over: train() rewrites the log and checkpoints from step 1
      resume: false,
      backend: { ...(threads !== undefined && { threads }), ...(ctx.device && { device: ctx.device }) },
    },
    {
      onStep: (e) => {
        // handed back to the queue: stop at the first step reported after the signal (the end of the session run that
        // was going, which may take several steps: runtime/train/step.ts); the worker that runs it again starts over
        if (ctx.signal?.aborted) throw new Error(`task ${task.name} handed back to the queue at step ${e.step}`);
        ctx.progress(e.step);
      },
    },
  );
  return { outputs: [task.out, storage.rel(result.checkpoint)] };
}
