/**
 * Where a bench job's time goes on stc-onnx: ONNX Runtime's per-node profile of the job's step model,
 * summed per operator type, plus each convolution's time and GFLOP/s (2 FLOPs per multiply-add).
 *
 *   npx tsx bench/profile.ts --job gatys-vgg19-256 [--runs 3] [--warmup 1] [--threads 2] [--no-optimize] [--nchwc on|off] [--winograd | --no-winograd]
 *   npx tsx bench/profile.ts --job inference-johnson_in-1024 --compare   # also without stc's passes, same process
 *   npx tsx bench/profile.ts --job train-johnson_in-b2-128 --device gpu   # ops tagged with the provider that ran them
 *   npx tsx bench/profile.ts --job inference-johnson_in-512 --backend onnx-int8   # stc's int8 QDQ model (or torch-onnx: the export)
 *   npx tsx bench/profile.ts --job gatys-vgg19-256 --runs 10 --minima   # each node's fastest run, not the mean (a shared machine)
 *   npx tsx bench/profile.ts --job gatys-vgg19-256 --winograd --detail MatMul,DepthToSpace   # also each node of these op types,
 *                                                              # named <IR value>/<ONNX op>__n (the IR value it lowers)
 *
 * The job is built exactly as the bench builds it (bench/setup.ts, so the Gatys engine's and training
 * step's own session options apply); the step model is the last ONNX session the job disposes.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { BackendOptions } from '../src/backends/types.ts';
import { jobById } from './jobs.ts';
import { type StcBackend, STC_BACKENDS, prepareJob } from './setup.ts';
import { fastestPerNode, kernelEvents, type ProfileEvent } from './ort-profile.ts';

const shapeAt = (list: readonly Record<string, number[]>[] | undefined, i: number): number[] => Object.values(list?.[i] ?? {})[0] ?? [];

/**
 * Each node's events reduced to one: its fastest run, scaled by `runs` so that summarise's per-run division leaves
 * that minimum (`--minima`: on a shared machine the sum of per-node minima moves far less than the mean).
 */
function nodeMinima(events: readonly ProfileEvent[], runs: number): ProfileEvent[] {
  return fastestPerNode(events).map((e) => ({ ...e, dur: e.dur * runs }));
}

/** Per-op-type milliseconds per step (`runs`: steps profiled), the convolutions sorted by time, and each node of the `detail` op types. */
function summarise(events: readonly ProfileEvent[], runs: number, byProvider: boolean, detail: readonly string[] = []): string[] {
  const byOp = new Map<string, number>();
  const convs = new Map<string, { ms: number; flop: number; desc: string }>();
  const others = new Map<string, { ms: number; desc: string }>();
  for (const e of kernelEvents(events)) {
    const provider = (e.args?.provider ?? '?').replace('ExecutionProvider', '');
    const op = `${e.args?.op_name ?? '?'}${byProvider ? `[${provider}]` : ''}`;
    const ms = e.dur / 1000 / runs;
    byOp.set(op, (byOp.get(op) ?? 0) + ms);
    if (detail.includes(e.args?.op_name ?? '')) {
      const ins = (e.args?.input_type_shape ?? []).map((_, i) => `[${shapeAt(e.args?.input_type_shape, i)}]`).join(' ');
      const d = others.get(e.name);
      others.set(e.name, { ms: (d?.ms ?? 0) + ms, desc: `${op} ${ins} -> [${shapeAt(e.args?.output_type_shape, 0)}]  ${e.name.replace(/_kernel_time$/, '')}` });
    }
    if (!/Conv/.test(op)) continue;
    const [x, w, y] = [shapeAt(e.args?.input_type_shape, 0), shapeAt(e.args?.input_type_shape, 1), shapeAt(e.args?.output_type_shape, 0)];
    const flop = 2 * y.reduce((a, b) => a * b, 1) * w.slice(1).reduce((a, b) => a * b, 1);
    const c = convs.get(e.name);
    convs.set(e.name, { ms: (c?.ms ?? 0) + ms, flop, desc: `${op} x[${x}] w[${w}] -> [${y}]` });
  }
  const total = [...byOp.values()].reduce((a, b) => a + b, 0);
  return [
    `kernel time ${total.toFixed(0)} ms per step: ${[...byOp].sort((a, b) => b[1] - a[1]).map(([op, ms]) => `${op} ${ms.toFixed(0)}`).join(', ')}`,
    ...[...convs.values()].sort((a, b) => b.ms - a.ms).map((c) => `  ${c.ms.toFixed(1).padStart(7)} ms ${(c.flop / c.ms / 1e6).toFixed(0).padStart(4)} GFLOP/s  ${c.desc}`),
    ...[...others.values()].sort((a, b) => b.ms - a.ms).map((c) => `  ${c.ms.toFixed(1).padStart(7)} ms  ${c.desc}`),
  ];
}

/**
 * The events of the timed runs only. ORT profiles the session from its creation, warm-up runs included, and the
 * first run's first touches of the arena's fresh memory land on whichever nodes write a buffer first (at 512² the
 * first conv's ReorderOutput, the Pad and ReorderInput after it: 40-50 ms each averaged over 4 runs, 3-4 ms each in
 * the timed runs alone), so nodes are kept from the start of the first timed `model_run` on. A step that runs the
 * session k times gives k·(warmup + runs) model_run events.
 */
function timedRuns(events: readonly ProfileEvent[], warmup: number, runs: number): ProfileEvent[] {
  const starts = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').map((e) => e.ts).sort((a, b) => a - b);
  if (starts.length === 0 || starts.length % (warmup + runs) !== 0) throw new Error(`bench/profile: ${starts.length} model runs in the profile, not a multiple of ${warmup + runs}`);
  const from = starts[(starts.length / (warmup + runs)) * warmup]!;
  return events.filter((e) => e.cat !== 'Node' || e.ts >= from);
}

async function profile(jobId: string, backend: StcBackend, opts: BackendOptions, runs: number, warmup: number, detail: readonly string[], minima = false): Promise<string[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'stc-profile-'));
  try {
    const job = await prepareJob(jobById(jobId), backend, { ...opts, profilePrefix: path.join(dir, 'ort') });
    for (let i = 0; i < warmup + runs; i++) await job.step();
    await job.dispose();
    // ORT names each file <prefix>_<timestamp>.json: the newest is the step model's (disposed last).
    const newest = readdirSync(dir).sort().pop();
    if (!newest) throw new Error('bench/profile: ONNX Runtime wrote no profile');
    const events = JSON.parse(readFileSync(path.join(dir, newest), 'utf8')) as ProfileEvent[];
    const timed = timedRuns(events, warmup, runs);
    // A training job runs several steps per session run (the loop body's nodes once per step): figures per step.
    const steps = runs * (job.stepsPerCall ?? 1);
    return summarise(minima ? nodeMinima(timed, steps) : timed, steps, opts.device === 'gpu', detail);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      job: { type: 'string' },
      runs: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '1' },
      threads: { type: 'string', default: '2' },
      'no-optimize': { type: 'boolean', default: false },
      nchwc: { type: 'string' },
      compare: { type: 'boolean', default: false },
      device: { type: 'string', default: 'cpu' },
      winograd: { type: 'boolean', default: false },
      'no-winograd': { type: 'boolean', default: false },
      detail: { type: 'string', default: '' },
      backend: { type: 'string', default: 'onnx' },
      minima: { type: 'boolean', default: false },
    },
  });
  if (!values.job) throw new Error('bench/profile: --job ID is required');
  const backend = values.backend as StcBackend;
  if (!STC_BACKENDS.includes(backend) || backend === 'tfjs') throw new Error(`bench/profile: --backend must be one of onnx, onnx-int8, torch-onnx`);
  const opts: BackendOptions = { threads: Number(values.threads), device: values.device === 'gpu' ? 'gpu' : 'cpu', ...(values.nchwc !== undefined && { nchwc: values.nchwc !== 'off' }),
    ...(values.winograd && { winograd: true }), ...(values['no-winograd'] && { winograd: false }) };
  const configs: [string, BackendOptions][] = values.compare
    ? [['with stc passes', opts], ['without stc passes (--no-optimize)', { ...opts, optimize: false }]]
    : [[values['no-optimize'] ? 'without stc passes' : 'with stc passes', { ...opts, ...(values['no-optimize'] && { optimize: false }) }]];
  for (const [label, o] of configs) {
    const lines = await profile(values.job, backend, o, Number(values.runs), Number(values.warmup), values.detail ? values.detail.split(',') : [], values.minima);
    process.stdout.write(`${values.job}, ${label}:\n${lines.join('\n')}\n`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
