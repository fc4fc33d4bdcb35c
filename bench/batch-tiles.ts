/**
 * Issue 22's "batching tiles in apply" candidate, measured before building it: Johnson-IN on ONNX Runtime at one
 * tile size, a batch of K tiles in one run against K runs of one tile, interleaved in one process (same load).
 * Prints per-tile medians and their ratio; batching in apply is only worth building if the ratio is well below 1.
 *
 *   npx tsx bench/batch-tiles.ts [--tile 512] [--batch 4] [--repeats 5] [--threads 2]
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { OnnxBackend } from '../src/backends/onnx/index.ts';
import type { CompiledModel } from '../src/backends/types.ts';
import { specialize } from '../src/compiler/passes/specialize.ts';
import { network, noiseImage, randomWeights } from './setup.ts';
import { median } from './stats.ts';

const { values } = parseArgs({ options: { tile: { type: 'string', default: '512' }, batch: { type: 'string', default: '4' }, repeats: { type: 'string', default: '5' }, threads: { type: 'string', default: '2' } } });
const [tile, k, repeats, threads] = [Number(values.tile), Number(values.batch), Number(values.repeats), Number(values.threads)];
const net = network('johnson_in');

async function compile(batch: number): Promise<{ model: CompiledModel; input: string }> {
  const g = specialize(net.graph, { N: batch, H: tile, W: tile });
  return { model: await new OnnxBackend().compile(g, await randomWeights(g, net.specDir), { threads }), input: g.inputs[0]! };
}

const one = await compile(1);
const many = await compile(k);
const x1 = noiseImage(1, tile, 1);
const xk = { shape: [k, 3, tile, tile], data: new Float32Array(k * x1.data.length).map((_, i) => x1.data[i % x1.data.length]!) };
const timeIt = async (f: () => Promise<unknown>): Promise<number> => {
  const t = performance.now();
  await f();
  return performance.now() - t;
};
const [singles, batched]: [number[], number[]] = [[], []];
for (let r = -1; r < repeats; r++) {
  const s = await timeIt(async () => {
    for (let i = 0; i < k; i++) await one.model.run({ [one.input]: x1 });
  });
  const b = await timeIt(() => many.model.run({ [many.input]: xk }));
  if (r >= 0) singles.push(s / k), batched.push(b / k);
}
const [ms1, msk] = [median(singles), median(batched)];
console.log(`${tile}² tiles, ${threads} threads: ${k} runs of one tile ${ms1.toFixed(1)} ms per tile, one run of ${k} tiles ${msk.toFixed(1)} ms per tile: ${(msk / ms1).toFixed(2)}×`);
await one.model.dispose();
await many.model.dispose();
