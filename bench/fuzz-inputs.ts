/**
 * Nightly-style image and weights fuzzer (issue 21) over `run`, `apply`, `stylize` and `quilt`: every case
 * (tools/fuzz/input-cases.ts) must succeed or end in one error line with exit code 1; no stack trace, no
 * case over 10 s, no worker over 1 GB RSS. Prints those counts. `stylize` cases need ../shared's SqueezeNet.
 *
 *   npx tsx bench/fuzz-inputs.ts [--count 400] [--seed 1] [--time-limit 10] [--rss-limit 1024]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { report, runPool, type PoolOptions } from '../tools/fuzz/pool.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const flag = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const count = flag('count', 400);
const seed = flag('seed', 1);
const dir = mkdtempSync(path.join(tmpdir(), 'stc-fuzz-inputs-'));
const squeezenet = path.join(ROOT, '../shared/weights/squeezenet1_1');
const opts: PoolOptions = {
  cwd: ROOT,
  args: (from) => [path.join(ROOT, 'tools/fuzz/input-child.ts'), String(seed), String(from), String(count), dir, squeezenet],
  count,
  timeLimitMs: flag('time-limit', 10) * 1000,
  rssLimit: flag('rss-limit', 1024) * 2 ** 20,
};
const t0 = performance.now();
try {
  const results = await runPool(opts);
  const bad = report(`input fuzz (seed ${seed}, ${((performance.now() - t0) / 1000).toFixed(0)} s)`, results, opts, console.log);
  process.exitCode = bad > 0 ? 1 : 0;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
