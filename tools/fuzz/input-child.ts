/**
 * Worker of bench/fuzz-inputs.ts: runs cases `from` .. `to` − 1 through the CLI's `main` in this process,
 * one JSON line each (`{"start": i}` before, then the outcome, the time and the peak RSS so far).
 * A case is refused when it exits 1 with an `stc: error:` line and no stack frame on stderr.
 *
 *   npx tsx tools/fuzz/input-child.ts SEED FROM TO FIXTURE_DIR [SQUEEZENET_DIR] [KIND,KIND,...]
 *
 * With a list of kinds, case i is the i-th kind (caseOfKind), not a seeded draw: the pinned regressions.
 */
import { existsSync } from 'node:fs';
import { main } from '../../src/cli/main.ts';
import { caseOfKind, inputCase, writeFixtures } from './input-cases.ts';

const [seedText, fromText, toText, dir, lossNet, kindList] = process.argv.slice(2) as [string, string, string, string, string | undefined, string | undefined];
const kinds = kindList ? kindList.split(',') : undefined;
const [seed, from, to] = [Number(seedText), Number(fromText), Number(toText)];
if (!existsSync(`${dir}/tiny.style`)) await writeFixtures(dir);
const protocol = process.stdout.write.bind(process.stdout);
const say = (o: object) => protocol(`${JSON.stringify(o)}\n`);

for (let i = from; i < to; i++) {
  const net = lossNet && existsSync(lossNet) ? lossNet : undefined;
  const c = kinds ? caseOfKind(dir, kinds[i]!, i, net) : inputCase(dir, seed, i, net);
  say({ start: i, kind: c.kind });
  let stderr = '';
  const [outWrite, errWrite] = [process.stdout.write, process.stderr.write];
  process.stdout.write = (() => true) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as typeof process.stderr.write;
  const t0 = performance.now();
  let code: number | undefined;
  let thrown: string | undefined;
  try {
    code = await main(['node', 'stc', ...c.args]);
  } catch (e) {
    thrown = e instanceof Error ? (e.stack ?? e.message) : String(e);
  } finally {
    process.stdout.write = outWrite;
    process.stderr.write = errWrite;
  }
  const ms = performance.now() - t0;
  const stack = thrown ?? (/\n\s+at .+\(.+:\d+:\d+\)/.test(stderr) ? stderr : undefined);
  const outcome = stack ? 'crashed' : code === 0 ? 'ran' : code === 1 && /stc: error: |error:/.test(stderr) ? 'refused' : 'crashed';
  const error = stack ?? (outcome === 'crashed' ? `exit ${code}: ${stderr.slice(0, 300)}` : undefined);
  say({ i, kind: c.kind, outcome, ms, rss: process.resourceUsage().maxRSS * 1024, ...(error && { error: error.split('\n').slice(0, 4).join(' | ') }) });
}
