/**
 * `stc queue`: work spread over many machines through a Redis-backed BullMQ queue (src/queue).
 *   stc queue submit apply MODEL <folder|video> -o OUT [--per-task N | --frames-per-task N]
 *   stc queue submit stylize SPEC --content C… --style S… -o DIR
 *   stc queue submit train SPEC --data DIR --out DIR [--style S] [--sweep KEY=V1,V2]…
 *   stc queue worker [--concurrency N] [--device cpu|gpu] [--local N]
 *   stc queue status JOB [--json] [--watch] · stc queue retry JOB · stc queue cancel JOB
 * Every subcommand takes --redis URL (default: $STC_REDIS). Without it no other command changes.
 */
import { type Command } from 'commander';
import { DEFAULT_BATCH, GPU_DEFAULT_BATCH, inputKind } from '../../runtime/apply/apply.ts';
import { openStorage } from '../../queue/storage.ts';
import { planApply } from '../../queue/plan/apply.ts';
import { planVideo } from '../../queue/plan/video.ts';
import { planStylize } from '../../queue/plan/stylize.ts';
import { parseSweep, planTrain } from '../../queue/plan/train.ts';
import { submitJob } from '../../queue/submit.ts';
import { cancelJob, retryJob } from '../../queue/control.ts';
import type { JobPlan } from '../../queue/types.ts';
import { UserError } from '../../util/errors.ts';
import { DEVICE_FLAGS, DEVICE_HELP } from '../device-option.ts';
import { intOpt, numOpt, redisUrl } from './queue-options.ts';
import { statusAction } from './queue-status.ts';
import { workerAction } from './queue-worker.ts';
import type { Register } from './index.ts';

interface Common {
  redis?: string;
  storage?: string;
  attempts?: string;
}

const REDIS_HELP = 'Redis URL, redis://host:6379 (default: $STC_REDIS)';
const STORAGE_HELP = 'storage root every worker reaches, a file:// URL or a path; inputs and outputs lie under it (default: the current folder)';

async function submit(o: Common, plan: (storage: ReturnType<typeof openStorage>) => Promise<JobPlan>): Promise<void> {
  const url = redisUrl(o.redis);
  const plan_ = await plan(openStorage(o.storage ?? process.cwd()));
  const attempts = intOpt(o.attempts, 'attempts', 1);
  const r = await submitJob(url, plan_, { ...(attempts !== undefined && { attempts }) });
  process.stderr.write(`submitted ${plan_.summary}: ${r.tasks} tasks\n`);
  process.stdout.write(`${r.id}\n`);
}

function common(cmd: Command): Command {
  return cmd.option('--redis <url>', REDIS_HELP).option('--storage <root>', STORAGE_HELP).option('--attempts <n>', 'runs of a task before it fails for good (default 3)');
}

function registerSubmit(queue: Command): void {
  const submitCmd = queue.command('submit').description('cut a job into tasks and enqueue them');
  common(submitCmd.command('apply'))
    .description('stylise a folder (N images per task) or a video (frame ranges, then one task joining them with the audio)')
    .argument('<model>', 'ONNX model written by stc export')
    .argument('<input>', 'folder of images, or a video (needs ffmpeg on every worker)')
    .requiredOption('-o, --output <path>', 'output folder or video')
    .option('--per-task <n>', 'images per task (default 16; a multiple of --batch keeps the batches of stc apply)', '16')
    .option('--frames-per-task <n>', 'video frames per task (default 250)', '250')
    .option('--max-size <px>', 'shrink inputs so the longer side is at most this')
    .option('--batch <n>', `images of equal size per model run (default ${DEFAULT_BATCH}; ${GPU_DEFAULT_BATCH} on a worker with --device gpu)`)
    .option('--tile <px>', 'tile images larger than this')
    .option('--overlap <px>', 'tile overlap')
    .action(async (model: string, input: string, o: Common & Record<string, string | undefined>) => {
      const options = {
        ...(o.maxSize !== undefined && { maxSize: intOpt(o.maxSize, 'max-size', 16)! }),
        ...(o.batch !== undefined && { batch: intOpt(o.batch, 'batch', 1)! }),
        ...(o.tile !== undefined && { tile: intOpt(o.tile, 'tile', 16)! }),
        ...(o.overlap !== undefined && { overlap: intOpt(o.overlap, 'overlap', 0)! }),
      };
      const kind = await inputKind(input);
      if (kind === 'image') throw new UserError(`${input} is one image: use stc apply, or queue a folder`);
      await submit(o, (storage) =>
        kind === 'folder'
          ? planApply(storage, { model, input, output: o.output!, perTask: intOpt(o.perTask, 'per-task', 1)!, options })
          : planVideo(storage, { model, input, output: o.output!, framesPerTask: intOpt(o.framesPerTask, 'frames-per-task', 1)!, options }),
      );
    });
  registerSubmitStylize(submitCmd);
  registerSubmitTrain(submitCmd);
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];
const taps = (v: string): string[] => v.split(',').map((s) => s.trim()).filter(Boolean);

function registerSubmitStylize(submitCmd: Command): void {
  common(submitCmd.command('stylize'))
    .description('Gatys optimisation over a content × style grid, one task per pair (<content>__<style>.png)')
    .argument('<spec>', 'a .style spec declaring the objective')
    .requiredOption('--content <image>', 'content image (repeat)', collect, [])
    .requiredOption('--style <image>', 'style image (repeat)', collect, [])
    .requiredOption('-o, --output <dir>', 'output folder')
    .option('--loss-net <name>', 'loss network')
    .option('--weights <path>', 'loss network weights')
    .option('--size <n>', 'output long side', '512')
    .option('--iters <n>', 'iterations', '500')
    .option('--optimizer <name>', 'lbfgs or adam', 'lbfgs')
    .option('--content-weight <a>', 'α')
    .option('--style-weight <b>', 'β')
    .option('--tv-weight <c>', 'λ_TV')
    .option('--seed <n>', 'seed', '0')
    .action(async (spec: string, o: Common & { content: string[]; style: string[]; output: string } & Record<string, string | undefined>) => {
      if (o.optimizer !== 'lbfgs' && o.optimizer !== 'adam') throw new UserError(`--optimizer must be lbfgs or adam, got '${o.optimizer}'`);
      const options = {
        ...(o.lossNet !== undefined && { lossNet: o.lossNet }),
        size: intOpt(o.size, 'size', 16)!,
        iterations: intOpt(o.iters, 'iters', 1)!,
        optimizer: o.optimizer as 'lbfgs' | 'adam',
        seed: intOpt(o.seed, 'seed', 0)!,
        ...(o.contentWeight !== undefined && { contentWeight: numOpt(o.contentWeight, 'content-weight')! }),
        ...(o.styleWeight !== undefined && { styleWeight: numOpt(o.styleWeight, 'style-weight')! }),
        ...(o.tvWeight !== undefined && { tvWeight: numOpt(o.tvWeight, 'tv-weight')! }),
      };
      await submit(o, (storage) => planStylize(storage, { spec, contents: o.content, styles: o.style, output: o.output, options, ...(o.weights !== undefined && { weights: o.weights }) }));
    });
}

function registerSubmitTrain(submitCmd: Command): void {
  common(submitCmd.command('train'))
    .description('Johnson training over a sweep grid, one task per run (--sweep style=a.jpg,b.jpg --sweep style-weight=1e4,3e4)')
    .argument('<spec>', 'spec with the transformation network')
    .requiredOption('--data <dir>', 'folder of training photos')
    .requiredOption('--out <dir>', 'folder of the runs, one subfolder per sweep point')
    .option('--style <image>', 'style image (unless swept)')
    .option('--sweep <key=values>', 'a swept flag and its comma-separated values (repeat): style, style-weight, content-weight, tv-weight, lr, seed, size, batch, steps', collect, [])
    .option('--network <name>', 'network to train')
    .option('--loss-net <name>', 'loss network', 'vgg16')
    .option('--weights <path>', 'loss-network weights')
    .option('--size <px>', 'training crop size')
    .option('--batch <n>', 'batch size')
    .option('--steps <n>', 'optimiser steps')
    .option('--lr <rate>', 'Adam learning rate')
    .option('--seed <n>', 'seed')
    .option('--content-weight <a>', 'α')
    .option('--style-weight <b>', 'β')
    .option('--tv-weight <c>', 'λ_TV')
    .option('--style-size <px>', 'longer side of the style image')
    .option('--content-layers <taps>', 'comma-separated content taps (default: per loss net)')
    .option('--style-layers <taps>', 'comma-separated style taps (default: per loss net)')
    .option('--checkpoint-every <n>', 'steps between checkpoints')
    .option('--validate-every <n>', 'steps between validation renders, 0 = never')
    .action(async (spec: string, o: Common & { sweep: string[] } & Record<string, string | undefined>) => {
      const int = (k: string, flag: string, min: number) => (o[k] !== undefined ? { [k]: intOpt(o[k], flag, min)! } : {});
      const num = (k: string, flag: string) => (o[k] !== undefined ? { [k]: numOpt(o[k], flag)! } : {});
      const options = {
        lossNet: o.lossNet!,
        ...(o.network !== undefined && { network: o.network }),
        ...int('size', 'size', 16),
        ...int('batch', 'batch', 1),
        ...int('steps', 'steps', 1),
        ...num('lr', 'lr'),
        ...int('seed', 'seed', 0),
        ...num('contentWeight', 'content-weight'),
        ...num('styleWeight', 'style-weight'),
        ...num('tvWeight', 'tv-weight'),
        ...int('styleSize', 'style-size', 16),
        ...int('checkpointEvery', 'checkpoint-every', 1),
        ...int('validateEvery', 'validate-every', 0),
        ...(o.contentLayers !== undefined && { contentLayers: taps(o.contentLayers) }),
        ...(o.styleLayers !== undefined && { styleLayers: taps(o.styleLayers) }),
      };
      const sweeps = o.sweep.map(parseSweep);
      await submit(o, (storage) =>
        planTrain(storage, { spec, data: o.data!, output: o.out!, options, sweeps, ...(o.style !== undefined && { style: o.style }), ...(o.weights !== undefined && { weights: o.weights }) }),
      );
    });
}

export const register: Register = (program: Command, setExit) => {
  const queue = program.command('queue').description('spread apply, video, stylize grids and training sweeps over many machines (BullMQ on Redis)');
  registerSubmit(queue);
  queue
    .command('worker')
    .description('run queued tasks until stopped (SIGTERM: finish the running tasks; a second SIGTERM: hand them back)')
    .option('--redis <url>', REDIS_HELP)
    .option('--concurrency <n>', 'tasks at once in this process (default 1)')
    .option('--local <n>', 'start n worker processes on this machine')
    .option('--threads <n>', 'ONNX Runtime intra-op threads per task (default: all cores)')
    .option('--lock-ms <ms>', "a running task's lock; a dead worker's task is requeued after it expires (default 30000)")
    .option(DEVICE_FLAGS, DEVICE_HELP)
    .action(async (o: Parameters<typeof workerAction>[0]) => setExit(await workerAction(o)));
  queue
    .command('status')
    .description('done, running, failed and remaining tasks, throughput and ETA')
    .argument('<job>', 'job id printed by stc queue submit')
    .option('--redis <url>', REDIS_HELP)
    .option('--json', 'machine-readable output')
    .option('--watch', 'refresh until no task is running or waiting')
    .action(async (job: string, o: { redis?: string; json?: boolean; watch?: boolean }) => setExit(await statusAction(job, o)));
  queue
    .command('retry')
    .description("re-run a job's failed tasks")
    .argument('<job>', 'job id')
    .option('--redis <url>', REDIS_HELP)
    .action(async (job: string, o: { redis?: string }) => {
      const r = await retryJob(redisUrl(o.redis), job);
      process.stderr.write(r.retried.length ? `retrying ${r.retried.length} failed task(s): ${r.retried.join(', ')}\n` : `job ${job} has no failed tasks\n`);
    });
  queue
    .command('cancel')
    .description('cancel a job: tasks not yet started are dropped, running ones finish')
    .argument('<job>', 'job id')
    .option('--redis <url>', REDIS_HELP)
    .action(async (job: string, o: { redis?: string }) => {
      const r = await cancelJob(redisUrl(o.redis), job);
      process.stderr.write(`cancelled job ${job}: ${r.removed} task(s) dropped${r.running ? `, ${r.running} running task(s) will finish` : ''}\n`);
    });
};
