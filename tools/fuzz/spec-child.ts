/**
 * Worker of bench/fuzz-specs.ts: checks mutants `from` .. `to` − 1 of a seeded run, one JSON line each
 * (`{"start": i}` before, then the outcome with the time and the process's peak RSS so far).
 *
 *   npx tsx tools/fuzz/spec-child.ts SEED FROM TO SIZE
 */
import { mulberry32 } from '../../src/util/prng.ts';
import { checkSpec } from './spec-check.ts';
import { goodSpecs, mutantAt } from './spec-mutants.ts';

const [seed, from, to, size] = process.argv.slice(2).map(Number) as [number, number, number, number];
const base = goodSpecs();
for (let i = from; i < to; i++) {
  const m = mutantAt(base, seed, i, mulberry32);
  process.stdout.write(`${JSON.stringify({ start: i, kind: m.kind })}\n`);
  const t0 = performance.now();
  const o = await checkSpec(m, { size });
  const ms = performance.now() - t0;
  const rss = process.resourceUsage().maxRSS * 1024;
  process.stdout.write(`${JSON.stringify({ i, kind: m.kind, outcome: o.kind, ms, rss, ...(o.kind === 'crashed' && { error: o.error.split('\n').slice(0, 4).join(' | ') }) })}\n`);
}
