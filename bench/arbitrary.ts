/**
 * Arbitrary style transfer (specs/arbitrary.style) on stc-onnx against TensorFlow Lite with XNNPACK, in the
 * same run:
 *
 *   npx tsx bench/arbitrary.ts [--models ../shared/models/arbitrary-style] [--threads 2] [--repeats 10]
 *
 * Goals (issue 17): transformation network at 384² in at most 0.8× TFLite's time, style prediction at 256²
 * in at most 1.0×. Both sides use `--threads` intra-op threads on fixed inputs; `warmup` untimed runs, then
 * `repeats` timed runs; medians and best times compared (on a shared, loaded machine the best time is the
 * steadier figure). TFLite runs in bench/tflite_bench.py (tensorflow-cpu); stc's models
 * are compiled by the ONNX backend from the spec with the .tflite weights (float32 compute: the predictor's
 * int8 activations are not reproduced, see test/conformance/arbitrary.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { OnnxBackend } from '../src/backends/onnx/index.ts';
import type { CompiledModel } from '../src/backends/types.ts';
import { compileFile, getNetwork } from '../src/compiler/frontend.ts';
import type { HostTensor } from '../src/compiler/ir/types.ts';
import { specialize } from '../src/compiler/passes/specialize.ts';
import { bindWeights } from '../src/weights/index.ts';

const ROOT = join(import.meta.dirname, '..');

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
}

const models = arg('models', join(ROOT, '../shared/models/arbitrary-style'));
const threads = Number(arg('threads', '2'));
const repeats = Number(arg('repeats', '10'));
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

async function time(model: CompiledModel, feeds: Record<string, HostTensor>): Promise<{ median_ms: number; min_ms: number }> {
  for (let i = 0; i < warmup; i++) await model.run(feeds);
  const t: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await model.run(feeds);
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return { median_ms: t[Math.floor(t.length / 2)]!, min_ms: t[0]! };
}

const predict = await compile('style_predict', 'style_predict_quantized_256.tflite', 256);
const transfer = await compile('style_transfer', 'style_transfer_f16_384.tflite', 384);
const stc = {
  predict_256: await time(predict, { style_image: tensor([1, 3, 256, 256], (i) => (i * 37) % 256) }),
  transfer_384: await time(transfer, { content: tensor([1, 3, 384, 384], (i) => (i * 53) % 256), style: tensor([1, 100, 1, 1], (i) => Math.sin(i)) }),
};
await predict.dispose();
await transfer.dispose();
const py = spawnSync('python3', [join(ROOT, 'bench/tflite_bench.py'), '--models', models, '--threads', String(threads), '--repeats', String(repeats)], { encoding: 'utf8' });
if (py.status !== 0) {
  process.stderr.write(`tflite_bench.py failed (is tensorflow-cpu installed?):\n${py.stderr}\n`);
  process.exit(1);
}
const tfl = JSON.parse(py.stdout) as typeof stc;
const rows = (['transfer_384', 'predict_256'] as const).map((k) => ({
  job: k,
  stc_ms: stc[k].median_ms,
  tflite_ms: tfl[k].median_ms,
  ratio: stc[k].median_ms / tfl[k].median_ms,
  stc_min_ms: stc[k].min_ms,
  tflite_min_ms: tfl[k].min_ms,
  min_ratio: stc[k].min_ms / tfl[k].min_ms,
  goal: k === 'transfer_384' ? 0.8 : 1.0,
}));
process.stdout.write(`${JSON.stringify({ threads, repeats, rows }, null, 1)}\n`);
for (const r of rows)
  process.stderr.write(
    `${r.job}: median stc-onnx ${r.stc_ms.toFixed(1)} ms, TFLite XNNPACK ${r.tflite_ms.toFixed(1)} ms, ratio ${r.ratio.toFixed(2)}; ` +
      `best ${r.stc_min_ms.toFixed(1)} / ${r.tflite_min_ms.toFixed(1)} ms, ratio ${r.min_ratio.toFixed(2)} (goal <= ${r.goal})\n`,
  );
