/**
 * int8 vs float32 inference of the bench's Johnson-IN transformer in one process, runs interleaved
 * (fp32, int8, fp32, int8, ...) so both see the same machine load; prints medians and their ratio.
 *
 *   npx tsx bench/quantize.ts [--size 512] [--repeats 7] [--warmup 2] [--threads 2]
 *
 * The int8 model is stc's QDQ export (src/backends/onnx/quantize.ts) calibrated on two noise images,
 * built as `npm run bench`'s stc-onnx-int8 column builds it (bench/setup.ts int8Model); weights are the
 * bench's seeded random ones (timing does not depend on values). The bench runs fp32 and int8 in separate
 * processes; this script interleaves them in one, for a ratio less exposed to load drift.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { OnnxBackend } from '../src/backends/onnx/index.ts';
import { int8Model, johnsonInference, noiseImage } from './setup.ts';
import { TIMING_OPTIONS, median, round } from './stats.ts';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: TIMING_OPTIONS,
  });
  const size = Number(values.size);
  const opts = { threads: Number(values.threads) };
  const { graph: g, weights, input } = await johnsonInference(size);
  const fp32 = await new OnnxBackend().compile(g, weights, opts);
  const int8 = await int8Model(g, weights, opts);
  const feeds = { [input]: noiseImage(1, size, 1) };
  const times = { fp32: [] as number[], int8: [] as number[] };
  for (let i = 0; i < Number(values.warmup) + Number(values.repeats); i++)
    for (const [name, m] of [['fp32', fp32], ['int8', int8]] as const) {
      const t = performance.now();
      await m.run(feeds);
      if (i >= Number(values.warmup)) times[name].push(performance.now() - t);
    }
  await Promise.all([fp32.dispose(), int8.dispose()]);
  const [f, q] = [median(times.fp32), median(times.int8)];
  const result = { job: `inference-johnson_in-${size}`, threads: opts.threads, fp32_ms: round(f), int8_ms: round(q), ratio: round(q / f, 3), times_ms: { fp32: times.fp32.map((t) => round(t)), int8: times.int8.map((t) => round(t)) } };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.stderr.write(`johnson-in ${size}²: fp32 ${f.toFixed(0)} ms, int8 ${q.toFixed(0)} ms, int8/fp32 = ${(q / f).toFixed(2)}×\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
