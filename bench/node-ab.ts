/**
 * Per-node minima of one job compiled twice in one process, A as is and B with an environment variable set while
 * it compiles (a pass's switch read at compile time), steps alternated (A, B, A, B, …). Both sessions record ONNX
 * Runtime's profile; each node's fastest run is its time (on a shared machine the minimum moves far less than the
 * mean). Prints the sums of per-node minima, each Conv whose output is a weight gradient's [C, O, k, k] for k = 4
 * or 9 (autodiff's transposed-conv form: a 3×3 stride-2 conv's 4×4, or a 9×9 kernel's), and the nodes of each
 * rewritten weight gradient (named `<dW value>.taps…` or `.swapped…` by optimize/weight-grad.ts) summed per
 * gradient and per op type; `--match TEXT` also lists every node whose name contains TEXT.
 *
 *   npx tsx bench/node-ab.ts --job train-johnson_in-b2-128 --env STC_X=0 --steps 10 [--warmup 2] [--match SpaceToDepth]
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { jobById } from './jobs.ts';
import { type PreparedJob, prepareJob } from './setup.ts';
import { fastestPerNode, type ProfileEvent } from './ort-profile.ts';

async function prepared(job: string, env: string | undefined, dir: string): Promise<PreparedJob> {
  const [k, v] = env ? env.split('=') : [];
  if (k) process.env[k] = v ?? '1';
  try {
    return await prepareJob(jobById(job), 'onnx', { threads: 2, profilePrefix: path.join(dir, 'ort') });
  } finally {
    if (k) delete process.env[k];
  }
}

/** Each node's fastest kernel run, from the step model's profile (the largest file in `dir`). */
function nodeMinima(dir: string): ProfileEvent[] {
  const files = readdirSync(dir).map((f) => path.join(dir, f));
  const file = files.sort((a, b) => readFileSync(b).length - readFileSync(a).length)[0];
  if (!file) throw new Error('bench/node-ab: ONNX Runtime wrote no profile');
  return fastestPerNode(JSON.parse(readFileSync(file, 'utf8')) as ProfileEvent[]);
}

const shapes = (l: readonly Record<string, number[]>[] | undefined): string => (l ?? []).map((r) => `[${Object.values(r)[0]!.join(',')}]`).join(' ');
const ms = (e: ProfileEvent): number => e.dur / 1000;

function report(tag: string, nodes: readonly ProfileEvent[], match: string | undefined): void {
  console.log(`${tag}: sum of per-node minima ${nodes.reduce((s, e) => s + ms(e), 0).toFixed(1)} ms`);
  const groups = new Map<string, Map<string, number>>();
  for (const e of nodes) {
    const name = e.name.replace(/_kernel_time$/, '');
    const op = e.args?.op_name ?? '?';
    const out = shapes(e.args?.output_type_shape);
    const line = `  ${tag} ${ms(e).toFixed(2).padStart(7)} ms  ${op} ${name} ${shapes(e.args?.input_type_shape)} -> ${out}`;
    if ((op === 'Conv' && /^\[\d+,\d+,(4,4|9,9)\]$/.test(out)) || (match && name.includes(match))) console.log(line);
    const stem = /^(?:peephole_)*(.*?)\.(taps|swapped)/.exec(name)?.[1];
    if (stem === undefined) continue;
    const g = groups.get(stem) ?? new Map<string, number>();
    g.set(op, (g.get(op) ?? 0) + ms(e));
    groups.set(stem, g);
  }
  const total = (g: Map<string, number>): number => [...g.values()].reduce((a, b) => a + b, 0);
  for (const [stem, g] of [...groups].sort((x, y) => total(y[1]) - total(x[1]))) {
    console.log(`  ${tag} ${total(g).toFixed(2).padStart(7)} ms  ${stem}: ${[...g].map(([op, t]) => `${op} ${t.toFixed(2)}`).join(', ')}`);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { job: { type: 'string' }, env: { type: 'string' }, steps: { type: 'string', default: '10' }, warmup: { type: 'string', default: '2' }, match: { type: 'string' } } });
  if (!values.job || !values.env) throw new Error('bench/node-ab: --job and --env NAME=VALUE are required');
  const dirs = [mkdtempSync(path.join(tmpdir(), 'stc-node-ab-')), mkdtempSync(path.join(tmpdir(), 'stc-node-ab-'))] as const;
  try {
    const a = await prepared(values.job, undefined, dirs[0]);
    const b = await prepared(values.job, values.env, dirs[1]);
    const wall: [number[], number[]] = [[], []];
    for (let i = 0; i < Number(values.warmup) + Number(values.steps); i++) {
      for (const [k, j] of (i % 2 === 0 ? [[0, a], [1, b]] : [[1, b], [0, a]]) as [0 | 1, PreparedJob][]) {
        const t0 = performance.now();
        await j.step();
        if (i >= Number(values.warmup)) wall[k].push(performance.now() - t0);
      }
    }
    // Disposing writes the profiles.
    await a.dispose();
    await b.dispose();
    console.log(`${values.job}, A = default, B = ${values.env}, ${values.steps} steps each; wall min A ${Math.min(...wall[0]).toFixed(1)} ms, B ${Math.min(...wall[1]).toFixed(1)} ms`);
    report('A', nodeMinima(dirs[0]), values.match);
    report('B', nodeMinima(dirs[1]), values.match);
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
