/**
 * One benchmark measurement in its own process, so that peak RSS is attributable to one backend
 * and one job. Prints a single JSON line (a WorkerResult) on stdout.
 *
 *   tsx bench/worker.ts --job gatys-vgg19-256 --backend onnx|tfjs --repeats 5 --warmup 2 --threads 2 [--device gpu]
 *   tsx bench/worker.ts --job inference-johnson_in-512 --backend onnx-int8 ...   (int8 QDQ; inference jobs only)
 *   tsx bench/worker.ts --job peak --backend onnx ...
 *
 * --no-optimize compiles without stc's graph passes (compiler/passes/optimize), for before/after numbers;
 * --winograd / --no-winograd force the Winograd conv rewrite (BackendOptions.winograd) on or off, with
 * --winograd-min-pixels N / --winograd-min-channels N / --winograd-f2-min-channels N (Infinity: no F(2×2))
 * overriding its thresholds;
 * --no-arena turns off ORT's CPU memory arena, --mem-pattern turns on its memory pattern, --nchwc on|off overrides
 * the NCHWc layout choice, --relu-grad mul|where the ReLU gradient's lowering (BackendOptions), for memory numbers;
 * --steps-per-run N sets the ONNX training step's steps per session run (default defaultStepsPerRun in src/runtime/train/step.ts; times are per step).
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { BackendOptions } from '../src/backends/types.ts';
import { jobById } from './jobs.ts';
import { preparePeak } from './peak.ts';
import { STC_BACKENDS, prepareJob, type StcBackend } from './setup.ts';
import { gflops, median, round } from './stats.ts';

export interface WorkerResult {
  readonly id: string;
  readonly backend: string;
  readonly median_ms: number;
  readonly min_ms: number;
  readonly times_ms: number[];
  readonly gflop: number;
  readonly gflops: number;
  readonly peak_rss_mb: number;
  readonly baseline_rss_mb: number;
  readonly setup_ms: number;
  readonly detail: string;
  /** The tfjs backend used, or the ORT execution provider. */
  readonly engine: string;
}

const rssMb = (): number => process.resourceUsage().maxRSS / 1024; // Linux: KiB

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      job: { type: 'string' },
      backend: { type: 'string', default: 'onnx' },
      repeats: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '2' },
      threads: { type: 'string', default: '2' },
      device: { type: 'string', default: 'cpu' },
      'no-optimize': { type: 'boolean', default: false },
      winograd: { type: 'boolean', default: false },
      'no-winograd': { type: 'boolean', default: false },
      'winograd-min-pixels': { type: 'string' },
      'winograd-min-channels': { type: 'string' },
      'winograd-f2-min-channels': { type: 'string' },
      'no-arena': { type: 'boolean', default: false },
      'mem-pattern': { type: 'boolean', default: false },
      nchwc: { type: 'string' },
      'relu-grad': { type: 'string' },
      'steps-per-run': { type: 'string' },
    },
  });
  const baseline = rssMb();
  if (!(STC_BACKENDS as readonly string[]).includes(values.backend!)) throw new Error(`--backend must be one of ${STC_BACKENDS.join(', ')}, got ${values.backend}`);
  const backend = values.backend as StcBackend;
  const device = values.device === 'gpu' ? 'gpu' : 'cpu';
  const opts: BackendOptions = { threads: Number(values.threads), device, ...(values['no-optimize'] && { optimize: false }),
    ...(values['no-winograd'] && { winograd: false }),
    ...(values.winograd && {
      winograd: {
        ...(values['winograd-min-pixels'] !== undefined && { minPixels: Number(values['winograd-min-pixels']) }),
        ...(values['winograd-min-channels'] !== undefined && { minChannels: Number(values['winograd-min-channels']) }),
        ...(values['winograd-f2-min-channels'] !== undefined && { f2MinChannels: Number(values['winograd-f2-min-channels']) }),
      },
    }),
    ...(values['no-arena'] && { memArena: false }),
    ...(values['mem-pattern'] && { memPattern: true }),
    ...(values.nchwc !== undefined && { nchwc: values.nchwc !== 'off' }),
    ...(values['relu-grad'] !== undefined && { reluGrad: values['relu-grad'] === 'mul' ? 'mul' : 'where' }),
  };
  const t0 = performance.now();
  const job = values.job === 'peak' ? await preparePeak(opts) : await prepareJob(jobById(values.job!), backend, opts, values['steps-per-run'] !== undefined ? { stepsPerRun: Number(values['steps-per-run']) } : {});
  const setup = performance.now() - t0;
  let engine = 'ort-cpu';
  if (backend === 'tfjs') engine = `tfjs-${(await (await import('../src/backends/tfjs/index.ts')).ensureTfjsBackend()).name}`;
  else if (device === 'gpu') engine = `ort-${await (await import('../src/backends/onnx/index.ts')).gpuProvider(opts)}`;
  for (let i = 0; i < Number(values.warmup); i++) await job.step();
  const times: number[] = [];
  const perCall = job.stepsPerCall ?? 1;
  for (let i = 0; i < Number(values.repeats); i++) {
    const s = performance.now();
    await job.step();
    times.push((performance.now() - s) / perCall);
  }
  await job.dispose();
  const med = median(times);
  const result: WorkerResult = {
    id: values.job!,
    backend: values.job === 'peak' ? 'onnx' : backend,
    median_ms: round(med),
    min_ms: round(Math.min(...times)),
    times_ms: times.map((t) => round(t)),
    gflop: round(job.flop / 1e9, 4),
    gflops: round(gflops(job.flop, med)),
    peak_rss_mb: round(rssMb(), 1),
    baseline_rss_mb: round(baseline, 1),
    setup_ms: round(setup, 1),
    detail: job.detail,
    engine,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
