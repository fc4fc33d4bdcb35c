/**
 * Two variants of one stc-onnx job in one process, steps interleaved (A B, B A, A B, …), so a drift in a shared
 * machine's load reaches both alike: the median over pairs of B's step time over A's is the figure to read (below
 * 1: B is faster). A variant is a JSON object of BackendOptions plus, under "env", environment variables set while
 * it is prepared (an experiment's switch read at compile time).
 *
 * With --profile, both sessions record ONNX Runtime's per-node profile over the same interleaved steps, and the
 * kernel time per op type (ms per step) is printed side by side, with ORT's own run time per step (model_run): on a
 * loaded machine a per-op-type comparison in the same window says where a variant gains or loses even when the
 * step times scatter by ±30% (docs/benchmarks.md, "Training step at 128², batch 2").
 *
 * --detail OpA,OpB (with --profile) adds each node of those op types, per session (nodes are named after the IR
 * values they lower, so a rewritten node and its replacement can be matched by hand).
 *
 *   npx tsx bench/step-ab.ts --job train-johnson_in-b2-128 --b '{"memPattern":true}' [--a '{}'] [--pairs 12] [--warmup 2] [--profile [--detail Pad,Resize]]
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { BackendOptions } from '../src/backends/types.ts';
import { jobById } from './jobs.ts';
import { type PreparedJob, prepareJob } from './setup.ts';
import { median } from './stats.ts';
import { kernelEvents, type ProfileEvent } from './ort-profile.ts';

interface Variant extends BackendOptions {
  readonly env?: Readonly<Record<string, string>>;
}

async function prepare(jobId: string, v: Variant, profileDir: string | undefined): Promise<PreparedJob> {
  const { env = {}, ...opts } = v;
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await prepareJob(jobById(jobId), 'onnx', { threads: 2, ...opts, ...(profileDir && { profilePrefix: path.join(profileDir, 'ort') }) });
  } finally {
    for (const [k, old] of Object.entries(saved)) if (old === undefined) delete process.env[k];
    else process.env[k] = old;
  }
}

/** Milliseconds per optimiser step of one call. */
async function timed(job: PreparedJob): Promise<number> {
  const t0 = performance.now();
  await job.step();
  return (performance.now() - t0) / (job.stepsPerCall ?? 1);
}

/** Kernel ms per step by op type, and ORT's run time of each step, from the step model's profile (the largest file). */
function profileOf(dir: string, steps: number, detail: readonly string[]): { readonly byOp: Map<string, number>; readonly runs: number[]; readonly nodes: Map<string, number> } {
  const files = readdirSync(dir).map((f) => path.join(dir, f));
  const file = files.sort((a, b) => readFileSync(b).length - readFileSync(a).length)[0];
  if (!file) throw new Error('bench/step-ab: ONNX Runtime wrote no profile');
  const events = JSON.parse(readFileSync(file, 'utf8')) as ProfileEvent[];
  const byOp = new Map<string, number>();
  const nodes = new Map<string, number>();
  const runs: number[] = [];
  for (const e of events) if (e.cat === 'Session' && e.name === 'model_run') runs.push(e.dur / 1000);
  for (const e of kernelEvents(events)) {
    const op = e.args?.op_name ?? '?';
    byOp.set(op, (byOp.get(op) ?? 0) + e.dur / 1000 / steps);
    const name = `${op} ${e.name.replace(/_kernel_time$/, '')}`;
    if (detail.includes(op)) nodes.set(name, (nodes.get(name) ?? 0) + e.dur / 1000 / steps);
  }
  return { byOp, runs, nodes };
}

function printProfiles(a: ReturnType<typeof profileOf>, b: ReturnType<typeof profileOf>, warmup: number): void {
  const sum = (m: Map<string, number>): number => [...m.values()].reduce((x, y) => x + y, 0);
  const [ra, rb] = [a.runs.slice(warmup), b.runs.slice(warmup)];
  const paired = ra.map((t, i) => rb[i]! / t);
  console.log(`kernel ms per step: A ${sum(a.byOp).toFixed(1)}, B ${sum(b.byOp).toFixed(1)} (B / A ${(sum(b.byOp) / sum(a.byOp)).toFixed(3)}); ORT run time B / A per pair: median ${median(paired).toFixed(3)}`);
  const ops = [...new Set([...a.byOp.keys(), ...b.byOp.keys()])];
  const most = (op: string): number => Math.max(a.byOp.get(op) ?? 0, b.byOp.get(op) ?? 0);
  for (const op of ops.sort((x, y) => most(y) - most(x)).slice(0, 24)) {
    console.log(`  ${op.padEnd(24)} ${(a.byOp.get(op) ?? 0).toFixed(1).padStart(8)} ${(b.byOp.get(op) ?? 0).toFixed(1).padStart(8)}`);
  }
  for (const [tag, p] of [['A', a], ['B', b]] as const) {
    for (const [name, ms] of [...p.nodes].sort((x, y) => y[1] - x[1]).slice(0, 20)) console.log(`  ${tag} ${ms.toFixed(2).padStart(7)} ms  ${name}`);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      job: { type: 'string', default: 'train-johnson_in-b2-128' },
      a: { type: 'string', default: '{}' },
      b: { type: 'string', default: '{}' },
      pairs: { type: 'string', default: '12' },
      warmup: { type: 'string', default: '2' },
      profile: { type: 'boolean', default: false },
      detail: { type: 'string', default: '' },
    },
  });
  const warmup = Number(values.warmup);
  const pairs = Number(values.pairs);
  const dirs = values.profile ? [mkdtempSync(path.join(tmpdir(), 'stc-ab-')), mkdtempSync(path.join(tmpdir(), 'stc-ab-'))] : [undefined, undefined];
  try {
    const a = await prepare(values.job!, JSON.parse(values.a!) as Variant, dirs[0]);
    const b = await prepare(values.job!, JSON.parse(values.b!) as Variant, dirs[1]);
    for (let i = 0; i < warmup; i++) (await a.step(), await b.step());
    const ta: number[] = [];
    const tb: number[] = [];
    for (let i = 0; i < pairs; i++) {
      // Alternate which goes first, so neither always follows the other's cache state.
      if (i % 2 === 0) (ta.push(await timed(a)), tb.push(await timed(b)));
      else (tb.push(await timed(b)), ta.push(await timed(a)));
    }
    // Disposing writes the profiles.
    await a.dispose();
    await b.dispose();
    const ratios = ta.map((t, i) => tb[i]! / t);
    const r = (x: number): number => Math.round(x * 10) / 10;
    console.log(`A ${values.a}: median ${r(median(ta))} ms, min ${r(Math.min(...ta))} ms`);
    console.log(`B ${values.b}: median ${r(median(tb))} ms, min ${r(Math.min(...tb))} ms`);
    console.log(`B / A per pair: median ${median(ratios).toFixed(3)} (range ${Math.min(...ratios).toFixed(3)}-${Math.max(...ratios).toFixed(3)}); minima ${(Math.min(...tb) / Math.min(...ta)).toFixed(3)}`);
    const detail = values.detail!.split(',').filter(Boolean);
    // Per optimiser step: a training job's call runs several (bench/setup.ts, stepsPerCall).
    const steps = (j: PreparedJob): number => (warmup + pairs) * (j.stepsPerCall ?? 1);
    if (dirs[0] && dirs[1]) printProfiles(profileOf(dirs[0], steps(a), detail), profileOf(dirs[1], steps(b), detail), warmup);
  } finally {
    for (const d of dirs) if (d) rmSync(d, { recursive: true, force: true });
  }
}

await main();
