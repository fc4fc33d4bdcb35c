/**
 * `stc apply`'s per-image cost with and without `--winograd` (backends/onnx/winograd-model.ts on the exported model),
 * in one process, runs interleaved: the bench's Johnson-IN with seeded random weights, exported as `stc export` writes
 * it (symbolic N, H, W), loaded by loadImageModel as apply loads it, with and without Winograd, then `--repeats` runs
 * of each on a noise image at `--size`, alternating. Prints load times, medians and the paired ratio (median over
 * iterations of Winograd's time over the direct model's), wall and CPU time (process.cpuUsage, all threads).
 *
 *   npx tsx bench/apply-winograd.ts [--size 512] [--repeats 7] [--warmup 2] [--threads 2] [--batch 1]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { specialize } from '../src/compiler/passes/specialize.ts';
import { exportOnnx } from '../src/runtime/train/export.ts';
import { loadImageModel, type ImageModel } from '../src/runtime/apply/model.ts';
import { network, noiseImage, randomWeights } from './setup.ts';
import { TIMING_OPTIONS, median, round } from './stats.ts';

const { values } = parseArgs({
  options: {
    ...TIMING_OPTIONS,
    batch: { type: 'string', default: '1' },
  },
});
const size = Number(values.size);
const net = network('johnson_in');
// Weights bound on a concrete copy (the random initialisers need shapes); the graph exported stays symbolic.
const weights = await randomWeights(specialize(net.graph, { N: 1, H: 64, W: 64 }), net.specDir);
const dir = await mkdtemp(join(tmpdir(), 'stc-apply-winograd-'));
const file = join(dir, 'johnson_in.onnx');
await exportOnnx(file, net.graph, weights);
const loaded: [string, ImageModel, number][] = [];
for (const winograd of [false, true]) {
  const t = performance.now();
  const m = await loadImageModel(file, { threads: Number(values.threads), winograd });
  loaded.push([winograd ? `apply --winograd on (${m.winogradConvs} convs)` : 'apply --winograd off', m, performance.now() - t]);
}
const x = noiseImage(Number(values.batch), size, 1);
const wall = loaded.map(() => [] as number[]);
const cpu = loaded.map(() => [] as number[]);
for (let i = 0; i < Number(values.warmup) + Number(values.repeats); i++)
  for (const [k, [, m]] of loaded.entries()) {
    const t = performance.now();
    const c = process.cpuUsage();
    await m.run(x);
    const used = process.cpuUsage(c);
    if (i < Number(values.warmup)) continue;
    wall[k]!.push(performance.now() - t);
    cpu[k]!.push((used.user + used.system) / 1000);
  }
for (const [, m] of loaded) await m.dispose();
await rm(dir, { recursive: true, force: true });
const paired = (a: number[], b: number[]) => round(median(a.map((v, i) => v / b[i]!)), 3);
const rows = loaded.map(([name, , load], k) => ({ name, load_ms: round(load), median_ms: round(median(wall[k]!)), min_ms: round(Math.min(...wall[k]!)), times_ms: wall[k]!.map((v) => round(v)), cpu_ms: cpu[k]!.map((v) => round(v)) }));
const ratio = { wall: paired(wall[1]!, wall[0]!), cpu: paired(cpu[1]!, cpu[0]!) };
process.stdout.write(`${JSON.stringify({ job: `apply-johnson_in-${size}`, threads: Number(values.threads), batch: Number(values.batch), date: new Date().toISOString(), rows, winograd_over_direct: ratio })}\n`);
for (const r of rows) process.stderr.write(`${r.name}: load ${r.load_ms.toFixed(0)} ms, median ${r.median_ms.toFixed(0)} ms, min ${r.min_ms.toFixed(0)} ms\n`);
process.stderr.write(`Winograd / direct, paired: wall ${ratio.wall}, CPU ${ratio.cpu}\n`);
