/**
 * Does ONNX Runtime's WebGPU graph capture work from onnxruntime-node, and does it pay (issue 19, item 2)?
 *
 * ORT captures only when every input and output of a run lives on the GPU, so this runs the resident Gatys Adam step
 * (runtime/gatys/resident.ts, whose bias corrections come from device-side state, adamStateGraph) with its loss
 * scalars left on the GPU too, fetched by the copier only after the timed loop. Then, in one process:
 *
 *  1. ORT's verbose log (a child process, since the provider logs from native code to stderr): what the WebGPU
 *     provider parsed for `enableGraphCapture`, and whether ORT says it captures or replays;
 *  2. `session.run` timing with and without `ep.webgpuexecutionprovider.enableGraphCapture = '1'` (a session config
 *     entry, SessionOptions.extra), the two sessions alternating step by step from the same start;
 *  3. correctness: both loops' losses over the steps (changing state) against the same loop on the CPU provider.
 *
 *   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json XDG_RUNTIME_DIR=/tmp \
 *     npx tsx bench/graph-capture.ts [--net squeezenet] [--size 32] [--steps 12]
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { buildObjectiveGraphs, LOSS, type ObjectiveGraphs } from '../src/compiler/objective/build.ts';
import type { Graph, HostTensor } from '../src/compiler/ir/types.ts';
import { ADAM_D1, ADAM_D2, mName, newMName, newParamName, newVName, vName, type AdamHyper } from '../src/compiler/passes/adam-update.ts';
import { concreteShapeOf } from '../src/compiler/passes/specialize.ts';
import { buildModelProto, createSessionOn, deviceCopier, GPU_PASSES, sessionOptions, type ResidentTensor } from '../src/backends/onnx/index.ts';
import { optimizeGraph } from '../src/backends/onnx/optimize/index.ts';
import { onnx } from '../src/backends/onnx/proto.ts';
import type { WeightMap } from '../src/backends/types.ts';
import { createGatysEngine, targetFeeds } from '../src/runtime/gatys/engine.ts';
import { ResidentGatysAdam, gatysAdamGraph } from '../src/runtime/gatys/resident.ts';
import { PIXEL_BOUNDS } from '../src/runtime/gatys/run.ts';
import type { GatysNet } from './jobs.ts';
import { gatysSpec, network, noiseImage, randomWeights } from './setup.ts';

const CAPTURE_KEY = 'ep.webgpuexecutionprovider.enableGraphCapture';
const HYPER: AdamHyper = { lr: 2, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

async function objective(net: GatysNet, size: number): Promise<{ graphs: ObjectiveGraphs; weights: WeightMap; feeds: Record<string, HostTensor> }> {
  const spec = gatysSpec(net);
  const loss = network(spec.lossNet);
  const graphs = buildObjectiveGraphs(spec, loss.graph, { size: { H: size, W: size } });
  const weights = await randomWeights(graphs.step, loss.specDir);
  const engine = await createGatysEngine(graphs, weights, 'onnx', { threads: 1 });
  const targets = { ...(await engine.contentTargets(noiseImage(1, size, 2))), ...(await engine.styleTargets(noiseImage(1, size, 3))) };
  await engine.dispose();
  return { graphs, weights, feeds: targetFeeds(graphs, targets, {}) };
}

/** The all-GPU step as an ONNX session on WebGPU, every output in a GPU buffer; `capture` sets the config entry. */
async function session(g: Graph, weights: WeightMap, capture: boolean, verbose = false): Promise<ort.InferenceSession> {
  const proto = buildModelProto(optimizeGraph(g, weights, { passes: GPU_PASSES }), weights, { maxPoolGrad: 'window', reluGrad: 'where' });
  const bytes = onnx.ModelProto.encode(onnx.ModelProto.create(proto)).finish();
  const options = { ...sessionOptions({ threads: 1, nchwc: false }), ...(capture && { extra: { [CAPTURE_KEY]: '1' } }), ...(verbose && { logSeverityLevel: 0 as const, logVerbosityLevel: 0 }) };
  const { session: s, provider } = await createSessionOn(bytes, 'gpu', options, { gpuOutputs: [...g.outputs.keys()] });
  if (provider !== 'webgpu') throw new Error(`graph-capture: needs the WebGPU provider, got ${provider}`);
  return s;
}

interface Loop {
  readonly name: string;
  readonly session: ort.InferenceSession;
  state: Record<string, ort.Tensor>;
  readonly losses: ort.Tensor[];
  readonly ms: number[];
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { net: { type: 'string', default: 'squeezenet' }, size: { type: 'string', default: '32' }, steps: { type: 'string', default: '12' }, 'log-probe': { type: 'boolean', default: false } } });
  const net = values.net as GatysNet;
  const size = Number(values.size);
  const steps = Number(values.steps);
  // Before the first session: ORT reads the log level when its environment starts.
  if (values['log-probe']) ort.env.logLevel = 'verbose';
  const { graphs, weights, feeds } = await objective(net, size);
  const image = graphs.imageInput;
  const g = gatysAdamGraph(graphs, HYPER, { bounds: PIXEL_BOUNDS });
  if (values['log-probe']) {
    const s = await session(g, weights, true, true);
    // Two runs: ORT captures after its first regular run when the provider has capture on, and says so.
    for (let i = 0; i < 2; i++) await s.run(Object.fromEntries(s.inputNames.map((n) => [n, new ort.Tensor('float32', new Float32Array(concreteShapeOf(g, n).reduce((a, c) => a * c, 1)).fill(i === 0 ? 1 : 0.5), concreteShapeOf(g, n))])));
    await s.release();
    return;
  }
  const copier = deviceCopier({ device: 'gpu' });
  const shape = concreteShapeOf(graphs.step, image);
  const x0 = noiseImage(1, size, 1);
  const up = async (t: HostTensor): Promise<ort.Tensor> => (await copier.upload(t)).ort;
  const fixed: Record<string, ort.Tensor> = {};
  for (const [k, t] of Object.entries(feeds)) fixed[k] = await up(t);
  const start = async (): Promise<Record<string, ort.Tensor>> => ({
    [image]: await up(x0),
    [mName(image)]: await up({ shape, data: new Float32Array(x0.data.length) }),
    [vName(image)]: await up({ shape, data: new Float32Array(x0.data.length) }),
    [ADAM_D1]: await up({ shape: [1], data: Float32Array.of(0) }),
    [ADAM_D2]: await up({ shape: [1], data: Float32Array.of(0) }),
  });
  const loops: Loop[] = [];
  for (const capture of [false, true]) loops.push({ name: capture ? 'capture' : 'plain', session: await session(g, weights, capture), state: await start(), losses: [], ms: [] });
  const carried: Record<string, string> = { [image]: newParamName(image), [mName(image)]: newMName(image), [vName(image)]: newVName(image), [ADAM_D1]: newParamName(ADAM_D1), [ADAM_D2]: newParamName(ADAM_D2) };
  for (let i = 0; i < steps; i++)
    for (const l of i % 2 === 0 ? loops : [...loops].reverse()) {
      const t0 = performance.now();
      const out = await l.session.run({ ...fixed, ...l.state });
      l.ms.push(performance.now() - t0);
      l.state = Object.fromEntries(Object.entries(carried).map(([input, output]) => [input, out[output]!]));
      l.losses.push(out[LOSS]!);
    }
  // The reference: the same loop on the CPU provider.
  const ref = await ResidentGatysAdam.create(graphs, weights, feeds, HYPER, { threads: 1 }, { bounds: PIXEL_BOUNDS });
  await ref.start(x0.data);
  const refLosses: number[] = [];
  for (let i = 0; i < steps; i++) refLosses.push((await ref.step()).loss);
  await ref.dispose();
  const down = async (t: ort.Tensor): Promise<number> => (await copier.download({ shape: t.dims.map(Number), ort: t } as ResidentTensor)).data[0]!;
  console.log(`graph-capture: ${net} Gatys Adam step at ${size}², ${g.nodes.length} IR nodes, ${steps} steps per loop, alternating; ${new Date().toISOString()}`);
  for (const l of loops) {
    const losses = await Promise.all(l.losses.map(down));
    const err = Math.max(...losses.map((v, i) => Math.abs(v - refLosses[i]!) / Math.abs(refLosses[i]!)));
    const warm = l.ms.slice(2);
    console.log(`  ${l.name.padEnd(7)}: session.run median ${median(warm).toFixed(1)} ms (steps 3-${steps}; first two ${l.ms.slice(0, 2).map((m) => m.toFixed(0)).join(', ')} ms); losses ${losses[0]!.toExponential(4)} → ${losses.at(-1)!.toExponential(4)}, max relative difference from the CPU ${err.toExponential(2)}`);
  }
  for (const l of loops) await l.session.release();
  await copier.dispose();
  logProbe(net, size);
}

/** Run this script's --log-probe in a child with ORT's verbose log and report what it says about graph capture. */
function logProbe(net: string, size: number): void {
  const r = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!, '--log-probe', '--net', net, '--size', String(size)], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const lines = `${r.stdout}\n${r.stderr}`.split('\n');
  // The session's own options list its config entries at the end of one long line: keep just that part.
  const said = lines
    .filter((l) => /graph capture|Replaying|enableGraphCapture/i.test(l))
    .map((l) => (l.includes('config_options') ? `session config_options: ${l.slice(l.indexOf('config_options: {') + 17).trim()}` : l.replace(/^.*?\] /, '')).slice(0, 200));
  const programs = lines.filter((l) => l.includes('Starting program')).length;
  console.log(`  ORT verbose log of a session created with ${CAPTURE_KEY} = 1, two runs (exit ${r.status}):`);
  for (const l of [...new Set(said)]) console.log(`    ${l}`);
  // A replayed run submits recorded commands without recording them again, so it logs no programs.
  console.log(`    ${programs} WebGPU programs recorded over the two runs (a replay would record none)`);
}

await main();
