/**
 * `npm run bench`: every job on stc-onnx, stc-onnx-int8 (inference jobs), stc-tfjs and the peers: PyTorch eager
 * and torch.compile (bench/torch_bench.py), and torch.onnx.export's graph on onnxruntime-node (inference jobs,
 * bench/torch_export.py run by the worker as backend torch-onnx), each measurement in its own child process, the
 * backends back to back per job (the load of a shared machine drifts over a run): per job the conv
 * micro-benchmark (the peak), stc-onnx, the peers, then stc-onnx-int8 and stc-tfjs. Then, unless turned off,
 * the arbitrary-style networks against TFLite (bench/arbitrary.ts, when ../shared has the models) and the
 * first-image latency (bench/first-image.ts). Ratios are against the fastest peer on each job. A full run measures
 * each job in 3 rounds (--rounds; bench/rounds.ts says why), --quick in one.
 * Writes bench/results/latest.json and the generated section of docs/benchmarks.md.
 *
 *   npm run bench -- [--quick] [--device cpu|gpu] [--only SUBSTRING]... [--threads N]
 *                    [--no-torch] [--no-compile] [--no-torch-onnx] [--no-tfjs] [--no-int8]
 *                    [--no-arbitrary] [--no-first-image] [--no-docs] [--repeats N] [--warmup N] [--rounds N]
 *
 * --quick: torch.compile only on the smallest inference job (inductor compiles each job for minutes on 2 cores).
 * --quick: fewer repeats, the quick job subset, tfjs only at the smallest size of each job.
 * --no-int8: skip stc-onnx-int8 (the int8 QDQ export, run after PyTorch on each inference job).
 * --device gpu: ORT on CUDA or WebGPU (a clear failure per job when neither starts), PyTorch on cuda.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, renameSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { JOBS, int8Runs, tfjsRuns, type Job } from './jobs.ts';
import { notApplicable, renderMarkdown, spliceSection, type ArbitraryRow, type BackendName, type BenchDoc, type FirstImageRow, type JobResult, type Measurement, type Outcome } from './report.ts';
import { combineRounds, roundTimes, type RoundTimes } from './rounds.ts';
import type { StcBackend } from './setup.ts';
import type { Device } from '../src/backends/types.ts';
import { gflops } from './stats.ts';
import { jobNodeCount } from './node-counts.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(HERE);

interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

function runChild(cmd: string, args: readonly string[], timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: -1, stdout, stderr: stderr + String(e), timedOut });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

const lastLine = (s: string): string => s.trim().split('\n').pop() ?? '';
const errorLine = (s: string): string => {
  const lines = s.trim().split('\n').filter((l) => /error/i.test(l) && !/^\s+at /.test(l));
  return (lines[0] ?? lastLine(s)).trim().slice(0, 240);
};

async function worker(job: string, backend: StcBackend, o: Options, timeoutMs: number): Promise<Outcome> {
  const args = ['--import', 'tsx', path.join(HERE, 'worker.ts'), '--job', job, '--backend', backend, '--repeats', String(o.repeats), '--warmup', String(o.warmup), '--threads', String(o.threads), '--device', o.device];
  const r = await runChild(process.execPath, args, timeoutMs);
  if (r.timedOut) return { status: 'skipped', reason: `over the ${Math.round(timeoutMs / 1000)} s budget` };
  if (r.code !== 0) return { status: 'failed', reason: errorLine(r.stderr) };
  return { status: 'ok', m: JSON.parse(lastLine(r.stdout)) as Measurement };
}

interface TorchRun {
  readonly jobs: ReadonlyMap<string, Measurement>;
  readonly failures: ReadonlyMap<string, string>;
  readonly version?: string;
  readonly error?: string;
}

async function torchBench(ids: readonly string[], o: Options, mode: 'eager' | 'compile' = 'eager', budgetS = 3600): Promise<TorchRun> {
  const args = [path.join(HERE, 'torch_bench.py'), '--threads', String(o.threads), '--device', o.device === 'gpu' ? 'cuda' : 'cpu', '--repeats', String(o.repeats), '--warmup', String(o.warmup), '--mode', mode, '--timeout', String(budgetS)];
  for (const id of ids) args.push('--only', id);
  const r = await runChild(process.env.PYTHON ?? 'python3', args, (budgetS + 120) * 1000);
  let doc: { torch?: string; jobs?: (Measurement & { id: string })[]; failures?: { id: string; error: string[] }[] } | undefined;
  try {
    doc = JSON.parse(r.stdout) as typeof doc;
  } catch {
    return { jobs: new Map(), failures: new Map(), error: `torch_bench.py produced no results (${errorLine(r.stderr) || `exit ${r.code}`})` };
  }
  return {
    jobs: new Map((doc!.jobs ?? []).map((j) => [j.id, j])),
    failures: new Map((doc!.failures ?? []).map((f) => [f.id, f.error.join(' ')])),
    ...(doc!.torch !== undefined && { version: doc!.torch }),
  };
}

/** The torch.compile peer on one job; in `skipQuick` mode not run (inductor compiles each job for minutes here). */
async function compiledPeer(job: Job, o: Options, off: boolean, skipQuick: boolean): Promise<Outcome> {
  if (off) return { status: 'skipped', reason: '--no-compile or --no-torch' };
  if (skipQuick) return { status: 'skipped', reason: 'quick mode (smallest inference job only)' };
  log(`bench: ${job.id} on torch.compile (bench/torch_bench.py --mode compile)`);
  const t = await torchBench([job.id], o, 'compile', o.quick ? 90 : 1200);
  const m = t.jobs.get(job.id);
  if (m) return { status: 'ok', m };
  const why = t.failures.get(job.id) ?? t.error ?? 'no result';
  return /over the \d+ s budget/.test(why) ? { status: 'skipped', reason: why } : { status: 'failed', reason: why };
}

const SHARED_ARBITRARY = path.join(ROOT, '..', 'shared', 'models', 'arbitrary-style');

/** bench/arbitrary.ts (stc-onnx against TFLite XNNPACK), when ../shared has the models and tensorflow is installed. */
async function arbitraryRows(o: Options, notes: string[]): Promise<ArbitraryRow[] | undefined> {
  if (o.device !== 'cpu') return undefined;
  if (!existsSync(SHARED_ARBITRARY)) {
    notes.push(`Arbitrary style transfer not run: ${SHARED_ARBITRARY} is absent.`);
    return undefined;
  }
  log('bench: arbitrary-style networks on stc-onnx and TFLite XNNPACK (bench/arbitrary.ts)');
  const r = await runChild(process.execPath, ['--import', 'tsx', path.join(HERE, 'arbitrary.ts'), '--threads', String(o.threads), '--repeats', String(o.quick ? 3 : 10)], 600_000);
  if (r.code !== 0) {
    notes.push(`Arbitrary style transfer failed: ${errorLine(r.stderr)}.`);
    return undefined;
  }
  return (JSON.parse(r.stdout) as { rows: ArbitraryRow[] }).rows;
}

/** bench/first-image.ts: stc run, PyTorch's script and the ORT script on one 512² image, each from a fresh process. */
async function firstImageRows(repeats: number, o: Options, notes: string[]): Promise<FirstImageRow[] | undefined> {
  if (o.device !== 'cpu') return undefined;
  log('bench: first-image latency at 512² (bench/first-image.ts)');
  const r = await runChild(process.execPath, ['--import', 'tsx', path.join(HERE, 'first-image.ts'), '--repeats', String(repeats), '--threads', String(o.threads), '--json'], 900_000);
  if (r.code !== 0) {
    notes.push(`First-image latency failed: ${errorLine(r.stderr)}.`);
    return undefined;
  }
  return (JSON.parse(lastLine(r.stdout)) as { rows: FirstImageRow[] }).rows;
}

/** The backends a round measures, in the order the table shows them. */
const ROUND_BACKENDS: readonly BackendName[] = ['stc-onnx', 'stc-onnx-int8', 'stc-tfjs', 'pytorch', 'pytorch-compile', 'torch-onnx-ort'];

/** The run-wide choices a round needs. */
interface RoundContext {
  readonly o: Options;
  readonly flags: Readonly<Record<'no-torch' | 'no-compile' | 'no-torch-onnx' | 'no-int8' | 'no-tfjs', boolean | undefined>>;
  /** --quick runs torch.compile on this job only. */
  readonly smallestInference: string | undefined;
  /** tfjs on wasm needs minutes per Gatys or training step (see docs/benchmarks.md): a budget keeps --quick short. */
  readonly tfjsBudget: number;
}

interface RoundOutcomes {
  readonly outcomes: Readonly<Partial<Record<BackendName, Outcome>>>;
  readonly torchVersion?: string;
}

/**
 * One round of one job: stc-onnx, then the peers right after it on the same job, so that all see the same machine load
 * (it drifts over a run), then stc-onnx-int8; stc-tfjs in the first round only (minutes per step on wasm).
 */
async function measureRound(job: Job, ctx: RoundContext, round: number): Promise<RoundOutcomes> {
  const { o, flags } = ctx;
  const tag = o.rounds > 1 ? ` (round ${round} of ${o.rounds})` : '';
  log(`bench: ${job.id} on stc-onnx${tag}`);
  const onnx = await worker(job.id, 'onnx', o, 900_000);
  let pytorch: Outcome = { status: 'skipped', reason: '--no-torch' };
  let torchVersion: string | undefined;
  if (!flags['no-torch']) {
    log(`bench: ${job.id} on PyTorch eager (bench/torch_bench.py)`);
    const t = await torchBench([job.id], o);
    const m = t.jobs.get(job.id);
    pytorch = m ? { status: 'ok', m } : { status: 'failed', reason: t.failures.get(job.id) ?? t.error ?? 'no result' };
    torchVersion = t.version;
  }
  const compiled = await compiledPeer(job, o, flags['no-compile']! || flags['no-torch']!, o.quick && job.id !== ctx.smallestInference);
  let torchOnnx: Outcome;
  if (job.kind !== 'inference') torchOnnx = notApplicable('inference only (torch.onnx.export has no gradient)');
  else if (flags['no-torch-onnx']) torchOnnx = { status: 'skipped', reason: '--no-torch-onnx' };
  else {
    log(`bench: ${job.id} on torch.onnx.export → onnxruntime-node`);
    torchOnnx = await worker(job.id, 'torch-onnx', o, 900_000);
  }
  let int8: Outcome;
  if (!int8Runs(job)) int8 = notApplicable('inference only');
  else if (flags['no-int8']) int8 = { status: 'skipped', reason: '--no-int8' };
  else {
    log(`bench: ${job.id} on stc-onnx-int8`);
    int8 = await worker(job.id, 'onnx-int8', o, 900_000);
  }
  let tfjs: Outcome;
  if (flags['no-tfjs']) tfjs = { status: 'skipped', reason: '--no-tfjs' };
  else if (!tfjsRuns(job, o.quick)) tfjs = { status: 'skipped', reason: 'quick mode (smallest size only)' };
  else if (round > 1) tfjs = { status: 'skipped', reason: 'first round only' };
  else {
    log(`bench: ${job.id} on stc-tfjs`);
    tfjs = await worker(job.id, 'tfjs', { ...o, repeats: o.quick ? 2 : 3, warmup: 1 }, ctx.tfjsBudget);
  }
  const outcomes = { 'stc-onnx': onnx, 'stc-onnx-int8': int8, 'stc-tfjs': tfjs, pytorch, 'pytorch-compile': compiled, 'torch-onnx-ort': torchOnnx };
  return { outcomes, ...(torchVersion !== undefined && { torchVersion }) };
}

/**
 * One job in `o.rounds` rounds, each backend's rounds combined (bench/rounds.ts), with each round's times where there
 * are several; a round in which a backend failed is noted in `notes`.
 */
async function measureJob(job: Job, ctx: RoundContext, notes: string[]): Promise<{ results: JobResult['results']; rounds?: RoundTimes[]; torchVersion?: string }> {
  const { rounds } = ctx.o;
  const perRound: RoundOutcomes[] = [];
  for (let round = 1; round <= rounds; round++) {
    const r = await measureRound(job, ctx, round);
    perRound.push(r);
    for (const [b, out] of Object.entries(r.outcomes) as [BackendName, Outcome][])
      log(`bench:   ${b}: ${out.status === 'ok' ? `${out.m.median_ms.toFixed(1)} ms, ${out.m.gflops.toFixed(1)} GFLOP/s, ${out.m.peak_rss_mb.toFixed(0)} MB` : `${out.status} (${out.reason})`}`);
  }
  if (rounds > 1)
    for (const b of ROUND_BACKENDS)
      perRound.forEach((r, i) => {
        const out = r.outcomes[b];
        if (out?.status === 'failed') notes.push(`${job.id}, ${b}, round ${i + 1} of ${rounds}: failed (${out.reason}).`);
      });
  const combined = (b: BackendName): Outcome => combineRounds(perRound.map((r) => r.outcomes[b] ?? { status: 'skipped', reason: 'not run' }));
  const results: JobResult['results'] = {
    'stc-onnx': combined('stc-onnx'),
    'stc-onnx-int8': combined('stc-onnx-int8'),
    'stc-tfjs': combined('stc-tfjs'),
    pytorch: combined('pytorch'),
    'pytorch-compile': combined('pytorch-compile'),
    'torch-onnx-ort': combined('torch-onnx-ort'),
  };
  const torchVersion = perRound.find((r) => r.torchVersion !== undefined)?.torchVersion;
  return { results, ...(rounds > 1 && { rounds: perRound.map((r) => roundTimes(r.outcomes)) }), ...(torchVersion !== undefined && { torchVersion }) };
}

interface Options {
  readonly rounds: number;
  readonly quick: boolean;
  readonly device: Device;
  readonly threads: number;
  readonly repeats: number;
  readonly warmup: number;
}

function packageVersion(name: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return undefined;
  }
}

function writeAtomic(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

const log = (s: string): void => void process.stderr.write(`${s}\n`);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      device: { type: 'string', default: 'cpu' },
      only: { type: 'string', multiple: true, default: [] },
      threads: { type: 'string' },
      repeats: { type: 'string' },
      warmup: { type: 'string' },
      rounds: { type: 'string' },
      'no-torch': { type: 'boolean', default: false },
      'no-compile': { type: 'boolean', default: false },
      'no-torch-onnx': { type: 'boolean', default: false },
      'no-arbitrary': { type: 'boolean', default: false },
      'no-first-image': { type: 'boolean', default: false },
      'no-tfjs': { type: 'boolean', default: false },
      'no-int8': { type: 'boolean', default: false },
      'no-docs': { type: 'boolean', default: false },
    },
  });
  if (values.device !== 'cpu' && values.device !== 'gpu') throw new Error(`--device must be cpu or gpu, got ${values.device}`);
  if (values.rounds !== undefined && !(Number.isInteger(Number(values.rounds)) && Number(values.rounds) >= 1)) throw new Error(`--rounds must be a positive integer, got ${values.rounds}`);
  const quick = values.quick!;
  const o: Options = {
    quick,
    device: values.device,
    threads: Number(values.threads ?? os.cpus().length),
    repeats: Number(values.repeats ?? (quick ? 3 : 5)),
    rounds: Number(values.rounds ?? (quick ? 1 : 3)),
    warmup: Number(values.warmup ?? (quick ? 1 : 2)),
  };
  const only = values.only!;
  const jobs = JOBS.filter((j) => (j.quick || !quick) && (only.length === 0 || only.some((s) => j.id.includes(s))));
  const loadBefore = os.loadavg();
  const started = Date.now();
  const notes: string[] = [];

  const peakOptions = { ...o, repeats: Math.max(o.repeats, 5), warmup: Math.max(o.warmup, 2) };
  let peakDetail: string | undefined;
  const measurePeak = async (before: string): Promise<number | undefined> => {
    const r = await worker('peak', 'onnx', peakOptions, 120_000);
    if (r.status !== 'ok') {
      notes.push(`Peak micro-benchmark ${before} ${r.status}: ${r.reason}.`);
      return undefined;
    }
    peakDetail ??= r.m.detail ?? 'conv';
    return gflops(r.m.gflop * 1e9, r.m.min_ms);
  };
  // --quick measures the peak once, at the start (a few seconds per measurement would take it past 3 minutes).
  const runPeak = quick ? await measurePeak('at the start') : undefined;
  if (runPeak !== undefined) log(`bench: peak ${runPeak.toFixed(1)} GFLOP/s`);

  const ctx: RoundContext = {
    o,
    flags: values,
    smallestInference: jobs.filter((j) => j.kind === 'inference').sort((a, b) => a.size - b.size)[0]?.id,
    tfjsBudget: quick ? 10_000 : 90_000,
  };
  const stc = new Map<string, { results: JobResult['results']; rounds?: RoundTimes[]; peak?: number }>();
  let torchVersion: string | undefined;
  for (const job of jobs) {
    // The peak again, right before the job: "% of peak" then compares against the machine as it is now.
    const jobPeak = quick ? undefined : await measurePeak(`before ${job.id}`);
    if (jobPeak !== undefined) log(`bench: ${job.id}: peak just before: ${jobPeak.toFixed(1)} GFLOP/s`);
    const measured = await measureJob(job, ctx, notes);
    torchVersion ??= measured.torchVersion;
    // Each ONNX node is at least one dispatch on a GPU: the step's node count for this device (bench/node-counts.ts).
    const nodes = await jobNodeCount(job, o.device);
    log(`bench:   onnx nodes (--device ${o.device}): ${nodes.nodes} (${nodes.byOp.slice(0, 5).map(([op, n]) => `${op} ${n}`).join(', ')})`);
    stc.set(job.id, { results: measured.results, ...(measured.rounds && { rounds: measured.rounds }), ...(jobPeak !== undefined && { peak: jobPeak }) });
  }

  if (values['no-torch']) notes.push('PyTorch not run (--no-torch).');
  const results: JobResult[] = jobs.map((j) => {
    const s = stc.get(j.id)!;
    return { id: j.id, kind: j.kind, size: j.size, batch: j.batch, results: s.results, ...(s.rounds && { rounds: s.rounds }), ...(s.peak !== undefined && { peak: s.peak }) };
  });
  const tfjsEngine = [...stc.values()].map(({ results: r }) => (r['stc-tfjs'].status === 'ok' ? r['stc-tfjs'].m.engine : undefined)).find((e) => e);
  if (tfjsEngine) notes.push(`stc-tfjs ran on ${tfjsEngine}.`);
  notes.push(
    'FLOPs: convolution, transposed-convolution and matmul FLOPs (2 per multiply-add) of the graph actually executed, counted on the IR ' +
      '(for Gatys and training, the differentiated graph: its backward convs are counted directly). PyTorch\'s column uses torch.utils.flop_counter on its own run.',
  );
  if (!values['no-int8'] && jobs.some(int8Runs))
    notes.push(
      'stc-onnx-int8: stc\'s static-QDQ int8 export (src/backends/onnx/quantize.ts, as `stc compile --quantize int8`): int8 per-channel weights ' +
        '(7-bit range, reduceRange) and uint8 activations on every conv but the first and last (float32, keepEnds), calibrated on two seeded 64² noise images ' +
        '(as a user calibrates once, at export; the ranges carry over to the full-size model by tensor name), so its peak RSS is the int8 model\'s; building ' +
        'and calibrating are setup, not timed. ' +
        'Its JSON gflops field is float32-equivalent (the float graph\'s FLOPs over its time).',
    );
  notes.push(
    'pytorch-compile: torch.compile (inductor, default options) of the inference forward, the Gatys loss (its backward compiled by AOTAutograd) and the training loss ' +
      '(forward and backward compiled; Adam eager); compilation is in the warm-up, not timed. torch-onnx-ort: the same Johnson-IN exported by torch.onnx.export ' +
      '(bench/torch_export.py: TorchScript exporter, opset 18, InstanceNormalization nodes) and run by onnxruntime-node with stc\'s session options and threads; ' +
      'exporting is setup. Ratios in every cell are against the fastest of the peers on that job.',
  );
  notes.push(
    'stc-onnx on inference jobs: the per-image time of a folder or video of that size through `stc apply spec.style` (compiled for that size with ' +
      'stc\'s passes, and with Winograd F(4×4, 3×3) on the residual convs, which `--winograd auto` turns on there from 256²; bench/setup.ts folderChoice). ' +
      '`stc run` on one image compiles without Winograd; its time to the first image is the first-image row.',
  );
  notes.push('Weights are seeded random (timing does not depend on values); inputs are seeded noise images; stc and PyTorch use the same shapes, not the same numbers.');
  notes.push(`Peak RSS: each backend and job in its own process (stc: Node + the runtime; PyTorch: Python + torch).`);

  const arbitrary = values['no-arbitrary'] ? undefined : await arbitraryRows(o, notes);
  const firstImage = values['no-first-image'] ? undefined : await firstImageRows(quick ? 2 : 3, o, notes);

  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const argv = process.argv.slice(2).join(' ');
  const doc: BenchDoc = {
    date: new Date(started).toISOString(),
    command: `npm run bench${argv ? ` -- ${argv}` : ''}`,
    mode: quick ? 'quick' : 'full',
    device: o.device,
    machine: {
      cpu,
      cores: os.cpus().length,
      memGiB: os.totalmem() / 2 ** 30,
      node: process.versions.node,
      ort: packageVersion('onnxruntime-node') ?? '?',
      ...(packageVersion('@tensorflow/tfjs') && { tfjs: packageVersion('@tensorflow/tfjs')! }),
      ...(torchVersion && { torch: torchVersion }),
    },
    threads: o.threads,
    load: { before: loadBefore, after: os.loadavg() },
    peak: peakDetail === undefined ? undefined : { gflops: runPeak ?? Math.max(...results.flatMap((r) => (r.peak !== undefined ? [r.peak] : []))), detail: peakDetail },
    jobs: results,
    notes,
    ...(arbitrary && { arbitrary }),
    ...(firstImage && { firstImage }),
  };
  writeAtomic(path.join(HERE, 'results', 'latest.json'), `${JSON.stringify(doc, null, 1)}\n`);
  const md = renderMarkdown(doc);
  if (!values['no-docs']) {
    const docPath = path.join(ROOT, 'docs', 'benchmarks.md');
    let text = '# Benchmarks\n';
    try {
      text = readFileSync(docPath, 'utf8');
    } catch {
      /* first run: start the document */
    }
    writeAtomic(docPath, spliceSection(text, md));
  }
  process.stdout.write(`${md}\n`);
  log(`bench: done in ${((Date.now() - started) / 1000).toFixed(0)} s; wrote bench/results/latest.json${values['no-docs'] ? '' : ' and docs/benchmarks.md'}`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
