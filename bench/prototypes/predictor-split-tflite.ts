/**
 * The split predictor of predictor_split.py in bench/arbitrary.ts' regime: one prediction per round, each followed
 * by TensorFlow Lite's (tflite_bench.py --serve, 2 threads), the whole model and the split one alternating in one
 * Node process. Prints medians, best times and the paired ratios.
 *
 *   npx tsx bench/prototypes/predictor-split-tflite.ts DIR LAYER [ROUNDS] [--models ../shared/models/arbitrary-style]
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';

const ROOT = resolve(import.meta.dirname, '../..');
const { values, positionals } = parseArgs({ allowPositionals: true, options: { models: { type: 'string', default: join(ROOT, '../shared/models/arbitrary-style') } } });
const [dir, layer, roundsArg] = positionals;
if (!dir || !layer) throw new Error('usage: predictor-split-tflite.ts DIR LAYER [ROUNDS]');
const rounds = Number(roundsArg ?? 100);
const options = (threads: number): ort.InferenceSession.SessionOptions => ({
  graphOptimizationLevel: 'all', intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', enableCpuMemArena: true, enableMemPattern: false, logSeverityLevel: 3,
});
const whole = await ort.InferenceSession.create(readFileSync(join(dir, 'whole.onnx')), options(2));
const first = await ort.InferenceSession.create(readFileSync(join(dir, `A_${layer}.onnx`)), options(2));
const rest = await ort.InferenceSession.create(readFileSync(join(dir, `B_${layer}.onnx`)), options(1));
const pixels = new Float32Array(3 * 256 * 256).map((_, i) => (i * 37) % 256);
const image = (): ort.Tensor => new ort.Tensor('float32', pixels, [1, 3, 256, 256]);
const runWhole = async (): Promise<ort.Tensor> => (await whole.run({ style_image: image() })).style_vector!;
const runSplit = async (): Promise<ort.Tensor> => {
  const cut = (await first.run({ style_image: image() }))[first.outputNames[0]!]!;
  return (await rest.run({ [rest.inputNames[0]!]: cut })).style_vector!;
};
const [w, s] = [(await runWhole()).data as Float32Array, (await runSplit()).data as Float32Array];
if (w.some((v, i) => v !== s[i])) throw new Error('the split model does not reproduce the whole one');

const py = spawn('python3', [join(ROOT, 'bench/tflite_bench.py'), '--models', values.models, '--threads', '2', '--serve'], { stdio: ['pipe', 'pipe', 'ignore'] });
const lines = createInterface({ input: py.stdout })[Symbol.asyncIterator]();
const next = async (): Promise<string> => String((await lines.next()).value);
if ((await next()) !== 'ready') throw new Error('tflite_bench.py --serve did not start');
const tflite = async (): Promise<number> => {
  py.stdin.write('predict_256\n');
  return Number(await next());
};
const timed = async (f: () => Promise<unknown>): Promise<number> => {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
};
const t = { whole: [] as number[], split: [] as number[], tfliteAfterWhole: [] as number[], tfliteAfterSplit: [] as number[] };
for (let r = -5; r < rounds; r++) {
  const [a, b, c, d] = [await timed(runWhole), await tflite(), await timed(runSplit), await tflite()];
  if (r < 0) continue;
  t.whole.push(a), t.tfliteAfterWhole.push(b), t.split.push(c), t.tfliteAfterSplit.push(d);
}
py.stdin.end();
const median = (x: readonly number[]): number => [...x].sort((p, q) => p - q)[x.length >> 1]!;
const paired = (x: readonly number[], y: readonly number[]): string => median(x.map((v, i) => v / y[i]!)).toFixed(3);
for (const [k, v] of Object.entries(t)) console.log(`${k.padEnd(18)} median ${median(v).toFixed(3)} ms  best ${Math.min(...v).toFixed(3)}`);
console.log(`paired: whole/TFLite ${paired(t.whole, t.tfliteAfterWhole)}  split/TFLite ${paired(t.split, t.tfliteAfterSplit)}  split/whole ${paired(t.split, t.whole)}`);
