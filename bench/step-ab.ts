/**
 * Two variants of one stc-onnx job in one process, steps interleaved (A, B, B, A, A, B, …), so a drift in a
 * shared machine's load reaches both alike: the median over pairs of B's step time over A's is the figure to
 * read (below 1: B is faster). A variant is a JSON object of BackendOptions plus, under "env", environment
 * variables set while it is prepared (for an experiment's switch read at compile time).
 *
 *   npx tsx bench/step-ab.ts --job train-johnson_in-b2-128 --b '{"memPattern":true}' [--a '{}'] [--pairs 12] [--warmup 2]
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { BackendOptions } from '../src/backends/types.ts';
import { jobById } from './jobs.ts';
import { type PreparedJob, prepareJob } from './setup.ts';
import { median } from './stats.ts';

interface Variant extends BackendOptions {
  readonly env?: Readonly<Record<string, string>>;
}

async function prepare(jobId: string, v: Variant): Promise<PreparedJob> {
  const { env = {}, ...opts } = v;
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await prepareJob(jobById(jobId), 'onnx', { threads: 2, ...opts });
  } finally {
    for (const [k, old] of Object.entries(saved)) if (old === undefined) delete process.env[k];
    else process.env[k] = old;
  }
}

async function timed(job: PreparedJob): Promise<number> {
  const t0 = performance.now();
  await job.step();
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      job: { type: 'string', default: 'train-johnson_in-b2-128' },
      a: { type: 'string', default: '{}' },
      b: { type: 'string', default: '{}' },
      pairs: { type: 'string', default: '12' },
      warmup: { type: 'string', default: '2' },
    },
  });
  const [a, b] = [await prepare(values.job!, JSON.parse(values.a!) as Variant), await prepare(values.job!, JSON.parse(values.b!) as Variant)];
  for (let i = 0; i < Number(values.warmup); i++) (await a.step(), await b.step());
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < Number(values.pairs); i++) {
    // Alternate which goes first, so neither always follows the other's cache state.
    if (i % 2 === 0) (ta.push(await timed(a)), tb.push(await timed(b)));
    else (tb.push(await timed(b)), ta.push(await timed(a)));
  }
  await a.dispose();
  await b.dispose();
  const ratios = ta.map((t, i) => tb[i]! / t);
  const r = (x: number): number => Math.round(x * 10) / 10;
  console.log(`A ${values.a}: median ${r(median(ta))} ms, min ${r(Math.min(...ta))} ms`);
  console.log(`B ${values.b}: median ${r(median(tb))} ms, min ${r(Math.min(...tb))} ms`);
  console.log(`B / A per pair: median ${median(ratios).toFixed(3)} (range ${Math.min(...ratios).toFixed(3)}-${Math.max(...ratios).toFixed(3)}); minima ${(Math.min(...tb) / Math.min(...ta)).toFixed(3)}`);
}

await main();
