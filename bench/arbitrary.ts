/**
 * Arbitrary style transfer (specs/arbitrary.style) on stc-onnx against TensorFlow Lite with XNNPACK, in the
 * same run, alternating:
 *
 *   npx tsx bench/arbitrary.ts [--models ../shared/models/arbitrary-style] [--threads 2] [--repeats 10] [--jobs predict_256_int8_default,predict_256_float32]
 *
 * Goals (issue 17): transformation network at 384² in at most 0.8× TFLite's time, style prediction at 256²
 * in at most 1.0×. Both sides use `--threads` intra-op threads on fixed inputs. TFLite runs in
 * bench/tflite_bench.py --serve (tensorflow-cpu), one invoke() per request, timed there (invoke only: its
 * inputs are set once); stc's side times model.run (feeds wrapped, outputs returned), so stc carries the
 * extra. Each repetition runs every stc variant of a job and then TFLite's, back to back, so both see the
 * same load: `warmup` untimed rounds, then `repeats` timed ones. Reported: medians, best times, and the
 * median of the per-repetition ratios (the steadiest figure on a loaded machine). stc's models are compiled
 * by the ONNX backend from the spec with the .tflite weights. Jobs: transfer_384, the transformation network
 * in float32 (f16 weights); predict_256_int8_default, the style predictor as stc builds it by default on the
 * CPU (`stc transfer` without --predictor-precision): the int8 QDQ model on the .tflite file's activation
 * scales; predict_256_float32, the predictor in float32 (dequantised int8 weights, `--predictor-precision
 * float32`); predict_256_int8_nospin, the default with ORT's spinning off. Each row's `what` says so in the
 * JSON. `--jobs` (comma-separated) runs only those jobs: without
 * transfer_384 the predictor rounds are not interleaved with a 384² network's, whose cache and scheduler footprint
 * a loaded machine's 2 ms predictor timings otherwise carry.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { OnnxBackend } from '../src/backends/onnx/index.ts';
import type { CompiledModel } from '../src/backends/types.ts';
import { compileFile, getNetwork } from '../src/compiler/frontend.ts';
import type { HostTensor } from '../src/compiler/ir/types.ts';
import { specialize } from '../src/compiler/passes/specialize.ts';
import { StylePredictor } from '../src/runtime/arbitrary/pipeline.ts';
import { bindWeights } from '../src/weights/index.ts';

const ROOT = join(import.meta.dirname, '..');

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
}

const models = arg('models', join(ROOT, '../shared/models/arbitrary-style'));
const threads = Number(arg('threads', '2'));
const repeats = Number(arg('repeats', '10'));
const only = arg('jobs', '').split(',').filter((j) => j !== '');
const warmup = 2;

async function compile(name: string, file: string, size: number): Promise<CompiledModel> {
  const mod = compileFile(join(ROOT, 'specs/arbitrary.style')).module!;
  const net = getNetwork(mod, name)!;
  const g = specialize(net.graph, { N: 1, H: size, W: size });
  return new OnnxBackend().compile(g, await bindWeights(g, net.weights!, { specDir: net.specDir, pathOverride: join(models, file) }), { threads });
}

function tensor(shape: number[], f: (i: number) => number): HostTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, data: Float32Array.from({ length: n }, (_, i) => f(i)) };
}

/** TFLite in a child process: `run(job)` times one invoke() there. */
async function tflite(): Promise<{ run(job: string): Promise<number>; close(): void }> {
  const py = spawn('python3', [join(ROOT, 'bench/tflite_bench.py'), '--models', models, '--threads', String(threads), '--serve'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: py.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => {
    const r = await lines.next();
    if (r.done) throw new Error('tflite_bench.py --serve ended (is tensorflow-cpu installed?)');
    return r.value;
  };
  if ((await next()) !== 'ready') throw new Error('tflite_bench.py --serve did not start');
  return {
    async run(job) {
      py.stdin.write(`${job}\n`);
      return Number(await next());
    },
    close: () => py.stdin.end(),
  };
}

async function timed(f: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}

const median = (t: readonly number[]): number => [...t].sort((a, b) => a - b)[Math.floor(t.length / 2)]!;

const styleImage = tensor([1, 3, 256, 256], (i) => (i * 37) % 256);
const net = getNetwork(compileFile(join(ROOT, 'specs/arbitrary.style')).module!, 'style_predict')!;
const predictorWeights = join(models, 'style_predict_quantized_256.tflite');
const predictDefault = await StylePredictor.load(net, { weights: predictorWeights, threads });
if (predictDefault.precision !== 'int8') throw new Error(`bench/arbitrary: the default predictor resolved to ${predictDefault.precision}, not int8: does ${predictorWeights} carry activation scales?`);
const predictFloat32 = await StylePredictor.load(net, { weights: predictorWeights, threads, precision: 'float32' });
const predictNoSpin = await StylePredictor.load(net, { weights: predictorWeights, threads, spinning: false });
const transfer = await compile('style_transfer', 'style_transfer_f16_384.tflite', 384);
const transferFeeds = { content: tensor([1, 3, 384, 384], (i) => (i * 53) % 256), style: tensor([1, 100, 1, 1], (i) => Math.sin(i)) };
const tfl = await tflite();
/** Each job's stc variants and the TFLite job they are compared with. */
const allJobs = [
  { job: 'transfer_384', what: 'transformation network at 384², float32 (f16 weights), the default', tflite: 'transfer_384', goal: 0.8, stc: () => transfer.run(transferFeeds) },
  { job: 'predict_256_int8_default', what: "style predictor at 256², stc's default on the CPU: int8 on the .tflite file's activation scales", tflite: 'predict_256', goal: 1.0, stc: () => predictDefault.predict(styleImage) },
  { job: 'predict_256_float32', what: 'style predictor at 256², float32 (--predictor-precision float32)', tflite: 'predict_256', goal: 1.0, stc: () => predictFloat32.predict(styleImage) },
  { job: 'predict_256_int8_nospin', what: "style predictor at 256², the default with ORT's worker spinning off", tflite: 'predict_256', goal: 1.0, stc: () => predictNoSpin.predict(styleImage) },
];
const unknown = only.filter((j) => !allJobs.some((a) => a.job === j));
if (unknown.length > 0) throw new Error(`bench/arbitrary: unknown job ${unknown.join(', ')} (jobs: ${allJobs.map((a) => a.job).join(', ')})`);
const jobs = only.length === 0 ? allJobs : allJobs.filter((j) => only.includes(j.job));
const times = new Map(jobs.map((j) => [j.job, { stc: [] as number[], tflite: [] as number[] }]));
for (let r = -warmup; r < repeats; r++)
  for (const j of jobs) {
    const [a, b] = [await timed(j.stc), await tfl.run(j.tflite)];
    if (r < 0) continue;
    times.get(j.job)!.stc.push(a);
    times.get(j.job)!.tflite.push(b);
  }
tfl.close();
await Promise.all([predictDefault.dispose(), predictFloat32.dispose(), predictNoSpin.dispose(), transfer.dispose()]);
const rows = jobs.map(({ job, what, goal }) => {
  const t = times.get(job)!;
  return {
    job,
    what,
    stc_ms: median(t.stc),
    tflite_ms: median(t.tflite),
    ratio: median(t.stc) / median(t.tflite),
    stc_min_ms: Math.min(...t.stc),
    tflite_min_ms: Math.min(...t.tflite),
    min_ratio: Math.min(...t.stc) / Math.min(...t.tflite),
    paired_ratio: median(t.stc.map((x, i) => x / t.tflite[i]!)),
    goal,
  };
});
process.stdout.write(`${JSON.stringify({ threads, repeats, rows }, null, 1)}\n`);
for (const r of rows)
  process.stderr.write(
    `${r.job}: median stc-onnx ${r.stc_ms.toFixed(1)} ms, TFLite XNNPACK ${r.tflite_ms.toFixed(1)} ms, ratio ${r.ratio.toFixed(2)}; ` +
      `best ${r.stc_min_ms.toFixed(1)} / ${r.tflite_min_ms.toFixed(1)} ms, ratio ${r.min_ratio.toFixed(2)}; ` +
      `median of paired ratios ${r.paired_ratio.toFixed(2)} (goal <= ${r.goal})\n`,
  );
