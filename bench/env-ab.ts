/**
 * One job compiled twice in one process, once with an environment variable set while it compiles (a variant a
 * pass reads at compile time) and once without, then timed step by step in alternation (A, B, A, B, …), so a
 * drift in the shared machine's load reaches both alike. Prints each variant's median and minimum wall time and
 * median CPU time (user + system, both threads) per step, and the median over steps of the paired ratio B / A.
 *
 *   npx tsx bench/env-ab.ts --job gatys-vgg19-256 --env STC_NO_NARROW=1 --steps 20 --warmup 2 [--no-spin]
 *   npx tsx bench/env-ab.ts --job gatys-vgg19-256 --b-options '{"reluGrad":"mul"}'   # B with other BackendOptions
 *   npx tsx bench/env-ab.ts --job inference-johnson_in-512 --options '{"winograd":{}}' --env STC_X=1   # both with these
 *
 * --no-spin: ONNX Runtime's threads wait without spinning (BackendOptions.spinning false), so a step's CPU time is
 * the work done and not the time waited: on a machine shared with other jobs, CPU time then tells variants apart
 * where wall time cannot (preemption lengthens wall time, not CPU time).
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { jobById } from './jobs.ts';
import { prepareJob, type PreparedJob } from './setup.ts';
import { median } from './stats.ts';
import type { BackendOptions } from '../src/backends/types.ts';

async function prepared(job: string, env: string | undefined, spin: boolean, extra: BackendOptions = {}): Promise<PreparedJob> {
  const [k, v] = env ? env.split('=') : [];
  if (k) process.env[k] = v ?? '1';
  try {
    return await prepareJob(jobById(job), 'onnx', { threads: 2, ...(!spin && { spinning: false }), ...extra });
  } finally {
    if (k) delete process.env[k];
  }
}

async function timed(j: PreparedJob): Promise<{ wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await j.step();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { job: { type: 'string' }, env: { type: 'string' }, steps: { type: 'string', default: '20' }, warmup: { type: 'string', default: '2' }, 'no-spin': { type: 'boolean', default: false }, 'b-options': { type: 'string' }, options: { type: 'string' } } });
  if (!values.job || (!values.env && !values['b-options'])) throw new Error('bench/env-ab: --job and --env NAME=VALUE or --b-options JSON are required');
  const extra = values['b-options'] ? (JSON.parse(values['b-options']) as BackendOptions) : {};
  const both = values.options ? (JSON.parse(values.options) as BackendOptions) : {};
  const a = await prepared(values.job, undefined, !values['no-spin'], both);
  const b = await prepared(values.job, values.env, !values['no-spin'], { ...both, ...extra });
  for (let i = 0; i < Number(values.warmup); i++) (await a.step(), await b.step());
  const ta: { wall: number; cpu: number }[] = [];
  const tb: { wall: number; cpu: number }[] = [];
  for (let i = 0; i < Number(values.steps); i++) {
    // Alternate which goes first, so neither always runs right after the other.
    if (i % 2 === 0) (ta.push(await timed(a)), tb.push(await timed(b)));
    else (tb.push(await timed(b)), ta.push(await timed(a)));
  }
  await a.dispose();
  await b.dispose();
  const row = (name: string, t: { wall: number; cpu: number }[]): string =>
    `${name}: wall median ${median(t.map((x) => x.wall)).toFixed(1)} ms, min ${Math.min(...t.map((x) => x.wall)).toFixed(1)} ms; CPU median ${median(t.map((x) => x.cpu)).toFixed(1)} ms`;
  process.stdout.write(`${values.job}, A = default, B = ${values.env ?? ''} ${values['b-options'] ?? ''}${values.options ? `, both ${values.options}` : ''}, ${values.steps} steps each${values['no-spin'] ? ', no spinning' : ''}\n${row('A', ta)}\n${row('B', tb)}\n`);
  process.stdout.write(`paired B / A: wall ${median(ta.map((x, i) => tb[i]!.wall / x.wall)).toFixed(3)}, CPU ${median(ta.map((x, i) => tb[i]!.cpu / x.cpu)).toFixed(3)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
