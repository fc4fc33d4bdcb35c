/**
 * Nightly-style spec fuzzer (issue 21): thousands of seeded mutants, each refused with a diagnostic or
 * compiled, loaded and run in onnxruntime-node at a small size, with no stack trace, no mutant over 10 s
 * and no process over 1 GB RSS. Prints those counts.
 *
 *   npx tsx bench/fuzz-specs.ts [--count 2000] [--seed 1] [--size 32] [--time-limit 10] [--rss-limit 1024]
 *
 * Mutants run in worker processes (tools/fuzz/spec-child.ts, through tools/fuzz/pool.ts); replay mutant i
 * with `mutantAt(goodSpecs(), seed, i, mulberry32)` from tools/fuzz/spec-mutants.ts.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { report, runPool, type PoolOptions } from '../tools/fuzz/pool.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const flag = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const count = flag('count', 2000);
const seed = flag('seed', 1);
const size = flag('size', 32);
const opts: PoolOptions = {
  cwd: ROOT,
  args: (from) => [path.join(ROOT, 'tools/fuzz/spec-child.ts'), String(seed), String(from), String(count), String(size)],
  count,
  timeLimitMs: flag('time-limit', 10) * 1000,
  rssLimit: flag('rss-limit', 1024) * 2 ** 20,
};
const t0 = performance.now();
const results = await runPool(opts);
const bad = report(`spec fuzz (seed ${seed}, ${size}x${size}, ${((performance.now() - t0) / 1000).toFixed(0)} s)`, results, opts, console.log);
process.exitCode = bad > 0 ? 1 : 0;
