/**
 * What a compile for one image size costs against what it saves (runtime/apply/compiled-model.ts,
 * SPECIALIZE_MIN_PIXELS): Johnson-IN compiled for a size with stc's passes (as `stc apply spec.style` does for a
 * folder's size) against the size-free network compiled once (symbolic N, H, W, as an exported model). For each size:
 * the compile's wall time, the per-image time of both at batch 1 (runs interleaved, after one untimed run each), and
 * the images of that size from which the compile pays for itself (compile time over the per-image saving).
 *
 *   npx tsx bench/specialize-cost.ts [--sizes 256x192,256x256,512x384] [--repeats 7] [--threads 2]
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { OnnxBackend } from '../src/backends/onnx/index.ts';
import { specialize } from '../src/compiler/passes/specialize.ts';
import { sizeEnv } from '../src/cli/load-spec.ts';
import { median, round } from './stats.ts';
import { network, noiseImage, randomWeights } from './setup.ts';

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '256x192,256x256,512x384' }, repeats: { type: 'string', default: '7' }, threads: { type: 'string', default: '2' } } });
const opts = { threads: Number(values.threads) };
// The bench's Johnson-IN as declared (N, H and W symbolic), with seeded random weights bound once, as apply-spec.ts binds them.
const net = network('johnson_in');
const symbolic = net.graph;
const input = symbolic.inputs[0]!;
const weights = await randomWeights(symbolic, net.specDir);
const t0 = performance.now();
const sizeFree = await new OnnxBackend().compile(symbolic, weights, opts);
const freeCompileMs = performance.now() - t0;
const rows = [];
for (const spec of values.sizes!.split(',')) {
  const [w, h] = spec.split('x').map(Number) as [number, number];
  const c0 = performance.now();
  const own = await new OnnxBackend().compile(specialize(symbolic, sizeEnv(symbolic, { height: h, width: w })), weights, opts);
  const compileMs = performance.now() - c0;
  const x = { shape: [1, 3, h, w], data: noiseImage(1, Math.max(h, w), 1).data.subarray(0, 3 * h * w) };
  const times = { own: [] as number[], free: [] as number[] };
  for (let i = 0; i <= Number(values.repeats); i++)
    for (const [name, m] of [['own', own], ['free', sizeFree]] as const) {
      const s = performance.now();
      await m.run({ [input]: x });
      if (i > 0) times[name].push(performance.now() - s);
    }
  await own.dispose();
  const saving = median(times.free) - median(times.own);
  const breakEven = saving > 0 ? compileMs / saving : Infinity;
  rows.push({ size: spec, compile_ms: round(compileMs), own_ms: round(median(times.own)), size_free_ms: round(median(times.free)), break_even_images: round(breakEven, 1), break_even_pixels: Math.round(breakEven * w * h) });
}
await sizeFree.dispose();
process.stdout.write(`${JSON.stringify({ date: new Date().toISOString(), threads: opts.threads, size_free_compile_ms: round(freeCompileMs), rows })}\n`);
for (const r of rows)
  process.stderr.write(`${r.size}: compile ${r.compile_ms.toFixed(0)} ms; per image ${r.own_ms.toFixed(1)} ms compiled for the size, ${r.size_free_ms.toFixed(1)} ms size-free; pays after ${r.break_even_images} images (${(r.break_even_pixels / 65536).toFixed(1)} × 256² pixels)\n`);
