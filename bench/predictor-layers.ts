/**
 * Where the int8 style predictor's time goes, layer by layer, against XNNPACK: ONNX Runtime's per-node
 * kernel times for stc's int8 predictor (the model `stc transfer --predictor-int8` runs) next to each conv
 * layer of the same shapes run alone by TensorFlow Lite's XNNPACK delegate (bench/xnnpack_layers.py), both
 * on one thread.
 *
 *   npx tsx bench/predictor-layers.ts [--models ../shared/models/arbitrary-style] [--runs 100]
 *
 * ORT: the per-node minimum over `runs` profiled runs (`profilePrefix`), so a loaded machine's slow runs
 * drop out; its nodes other than the convs (quantise, pad, transpose, residual adds, mean, the float last
 * conv) are summed as one line. XNNPACK: each conv layer as its own int8 TFLite model, minimum over `runs`
 * invokes. The per-layer sum is not TFLite's whole-model time (bench/arbitrary.ts measures that); it says
 * which kinds of layer account for the gap.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadOnnxModel } from '../src/backends/onnx/index.ts';
import { compileFile, getNetwork } from '../src/compiler/frontend.ts';
import type { Conv2dAttrs, Graph } from '../src/compiler/ir/types.ts';
import { specialize } from '../src/compiler/passes/specialize.ts';
import { int8PredictorBytes } from '../src/runtime/arbitrary/pipeline.ts';
import { STYLE_SIZE } from '../src/runtime/arbitrary/style-image.ts';
import { uniformTensor } from '../src/verify/det.ts';
import { bindWeights } from '../src/weights/index.ts';

const ROOT = join(import.meta.dirname, '..');

/** One conv layer as bench/xnnpack_layers.py builds it. */
interface Layer {
  readonly name: string;
  readonly size: number;
  readonly cin: number;
  readonly cout: number;
  readonly kernel: number;
  readonly stride: number;
  readonly depthwise: boolean;
  readonly relu6: boolean;
}

/** The graph's conv2d layers (square inputs, as the predictor's), each with whether a clip (ReLU6) follows it. */
function convLayers(g: Graph): Layer[] {
  const clipped = new Set(g.nodes.filter((n) => n.op === 'clip').map((n) => n.inputs[0]!));
  return g.nodes
    .filter((n) => n.op === 'conv2d')
    .map((n) => {
      const [, cin, size] = g.values.get(n.inputs[0]!)!.shape as number[];
      const [cout, , kernel] = g.values.get(n.inputs[1]!)!.shape as number[];
      const { strides, group } = n.attrs as Conv2dAttrs;
      const name = n.outputs[0]!;
      return { name, size: size!, cin: cin!, cout: cout!, kernel: kernel!, stride: strides[0]!, depthwise: group > 1 && group === cin, relu6: clipped.has(name) };
    });
}

const kindOf = (l: Layer): string => (l.depthwise ? 'depthwise 3x3' : l.kernel > 1 ? `conv ${l.kernel}x${l.kernel}` : l.relu6 ? 'pointwise + relu6' : 'pointwise linear');

interface ProfileEvent {
  readonly cat: string;
  readonly name: string;
  readonly dur: number;
}

/** ORT's per-node minimum kernel time (µs) over the runs, keyed by the IR value a node lowers (its name before '/'). */
async function ortNodeTimes(bytes: Uint8Array, runs: number): Promise<Map<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'stc-predictor-layers-'));
  try {
    const model = await loadOnnxModel(bytes, { threads: 1, profilePrefix: join(dir, 'ort') });
    const image = uniformTensor([1, 3, STYLE_SIZE, STYLE_SIZE], 'predictor-layers', 0, 255);
    for (let i = 0; i < runs + 3; i++) await model.run({ [model.inputNames[0]!]: image });
    await model.dispose();
    const file = readdirSync(dir).sort().pop();
    if (!file) throw new Error('bench/predictor-layers: ONNX Runtime wrote no profile');
    const best = new Map<string, number>();
    for (const e of JSON.parse(readFileSync(join(dir, file), 'utf8')) as ProfileEvent[]) {
      if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
      const node = e.name.slice(0, -'_kernel_time'.length);
      best.set(node, Math.min(best.get(node) ?? Infinity, e.dur));
    }
    const byValue = new Map<string, number>();
    for (const [node, us] of best) {
      const key = node.includes('/') ? node.slice(0, node.indexOf('/')) : `(${node})`;
      byValue.set(key, (byValue.get(key) ?? 0) + us);
    }
    return byValue;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function xnnpackTimes(layers: readonly Layer[], runs: number): Promise<Record<string, number>> {
  const py = spawn('python3', [join(ROOT, 'bench/xnnpack_layers.py'), '--runs', String(runs)], { stdio: ['pipe', 'pipe', 'ignore'] });
  py.stdin.end(JSON.stringify(layers));
  let out = '';
  for await (const chunk of py.stdout) out += String(chunk);
  const code = await new Promise<number | null>((resolve) => py.on('close', resolve));
  if (code !== 0) throw new Error(`bench/xnnpack_layers.py exited with ${code} (is tensorflow-cpu installed?)`);
  return JSON.parse(out) as Record<string, number>;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { models: { type: 'string', default: join(ROOT, '../shared/models/arbitrary-style') }, runs: { type: 'string', default: '100' } } });
  const runs = Number(values.runs);
  const net = getNetwork(compileFile(join(ROOT, 'specs/arbitrary.style')).module!, 'style_predict')!;
  const g = specialize(net.graph, { N: 1, H: STYLE_SIZE, W: STYLE_SIZE });
  const weights = await bindWeights(g, net.weights!, { specDir: net.specDir, pathOverride: join(values.models, 'style_predict_quantized_256.tflite') });
  const layers = convLayers(g);
  const ort = await ortNodeTimes(await int8PredictorBytes(g, weights), runs);
  const xnn = await xnnpackTimes(layers, runs);
  const kinds = new Map<string, { ort: number; xnn: number }>();
  const lines = ['layer                          kind                ORT µs  XNNPACK µs  ratio'];
  for (const l of layers) {
    const [o, x] = [ort.get(l.name), xnn[l.name]];
    ort.delete(l.name);
    if (o === undefined || x === undefined) continue; // the last conv runs in float32 in stc (its own line below)
    const k = kinds.get(kindOf(l)) ?? { ort: 0, xnn: 0 };
    kinds.set(kindOf(l), { ort: k.ort + o, xnn: k.xnn + x });
    lines.push(`${l.name.padEnd(30)} ${kindOf(l).padEnd(18)} ${o.toFixed(0).padStart(7)} ${x.toFixed(0).padStart(11)}  ${(o / x).toFixed(2)}`);
  }
  lines.push('', 'per kind of layer:');
  for (const [k, t] of kinds) lines.push(`  ${k.padEnd(18)} ORT ${t.ort.toFixed(0).padStart(5)} µs, XNNPACK ${t.xnn.toFixed(0).padStart(5)} µs, ratio ${(t.ort / t.xnn).toFixed(2)}`);
  const sum = (f: (t: { ort: number; xnn: number }) => number): number => [...kinds.values()].reduce((a, t) => a + f(t), 0);
  const rest = [...ort].sort((a, b) => b[1] - a[1]);
  lines.push(`  all int8 convs     ORT ${sum((t) => t.ort).toFixed(0).padStart(5)} µs, XNNPACK ${sum((t) => t.xnn).toFixed(0).padStart(5)} µs, ratio ${(sum((t) => t.ort) / sum((t) => t.xnn)).toFixed(2)}`);
  lines.push(`ORT's other nodes: ${rest.reduce((a, [, us]) => a + us, 0).toFixed(0)} µs (${rest.map(([k, us]) => `${k} ${us.toFixed(0)}`).join(', ')})`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
