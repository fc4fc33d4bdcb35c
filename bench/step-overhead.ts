/**
 * Where one bench job's step time goes beyond its kernels, run by run: the step's wall time in JS, ORT's own
 * `model_run` span for the same run, and the sum of the kernel times inside that span. So wall − model_run is
 * the time outside ONNX Runtime's executor (onnxruntime-node's conversion of feeds and outputs, the promise
 * hand-off, garbage collection, the step's own JS), and model_run − kernels the executor's time between kernels.
 * ORT's profiler is on, which lengthens both gaps a little; read them as upper bounds.
 *
 *   npx tsx bench/step-overhead.ts --job train-johnson_in-b2-128 [--runs 8] [--warmup 2] [--threads 2]
 *
 * For a step that runs one session once (the training and Gatys steps; inference jobs too). The training job's run
 * takes several optimiser steps (one ONNX Loop); its figures are per optimiser step.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { jobById } from './jobs.ts';
import { prepareJob } from './setup.ts';
import { kernelEvents, type ProfileEvent } from './ort-profile.ts';

const median = (x: readonly number[]): number => [...x].sort((a, b) => a - b)[x.length >> 1]!;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { job: { type: 'string' }, runs: { type: 'string', default: '8' }, warmup: { type: 'string', default: '2' }, threads: { type: 'string', default: '2' } } });
  if (!values.job) throw new Error('bench/step-overhead: --job ID is required');
  const [runs, warmup] = [Number(values.runs), Number(values.warmup)];
  const dir = mkdtempSync(path.join(tmpdir(), 'stc-step-overhead-'));
  try {
    const job = await prepareJob(jobById(values.job), 'onnx', { threads: Number(values.threads), profilePrefix: path.join(dir, 'ort') });
    const walls: number[] = [];
    for (let i = 0; i < warmup + runs; i++) {
      const t0 = performance.now();
      await job.step();
      walls.push(performance.now() - t0);
    }
    await job.dispose();
    // ORT names each file <prefix>_<timestamp>.json: the newest is the step model's (disposed last).
    const events = JSON.parse(readFileSync(path.join(dir, readdirSync(dir).sort().pop()!), 'utf8')) as ProfileEvent[];
    const spans = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts);
    if (spans.length !== warmup + runs) throw new Error(`bench/step-overhead: ${spans.length} model runs for ${warmup + runs} steps (one session run per call expected)`);
    const kernels = kernelEvents(events);
    // Per optimiser step: a training job's session run takes several (bench/setup.ts, stepsPerCall).
    const k = job.stepsPerCall ?? 1;
    const rows = spans.slice(warmup).map((span, i) => {
      const inside = kernels.filter((e) => e.ts >= span.ts && e.ts + e.dur <= span.ts + span.dur);
      return { wall: walls[warmup + i]! / k, run: span.dur / 1000 / k, kernels: inside.reduce((s, e) => s + e.dur, 0) / 1000 / k, nodes: inside.length / k };
    });
    if (k > 1) process.stdout.write(`${k} optimiser steps per session run; figures per step\n`);
    for (const r of rows) process.stdout.write(`step wall ${r.wall.toFixed(1)} ms = ORT model_run ${r.run.toFixed(1)} (kernels ${r.kernels.toFixed(1)}, between them ${(r.run - r.kernels).toFixed(1)}, ${r.nodes} nodes) + outside ORT ${(r.wall - r.run).toFixed(1)}\n`);
    const m = (f: (r: (typeof rows)[number]) => number): string => median(rows.map(f)).toFixed(1);
    process.stdout.write(`${values.job}, medians over ${runs} steps: wall ${m((r) => r.wall)} ms, model_run ${m((r) => r.run)}, kernels ${m((r) => r.kernels)}, between kernels ${m((r) => r.run - r.kernels)}, outside ORT ${m((r) => r.wall - r.run)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
