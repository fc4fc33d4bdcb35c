/**
 * stc's compiled Johnson-IN against a generic export of the same network on the same runtime, in one process,
 * runs interleaved (stc, export, stc, export, ...) so all see the same machine load: stc-onnx (fp32, default
 * options, or `--stc-flags`-style variants below), torch.onnx.export's graph (bench/torch_export.py) with stc's
 * session options and threads, and stc's int8 QDQ model. Prints medians, minima and ratios to the export.
 *
 *   npx tsx bench/vs-export.ts [--size 512] [--repeats 7] [--warmup 2] [--threads 2] [--winograd] [--nchwc-off] [--no-int8] [--int8-first] [--int8-nchwc-off] [--int8-nchw-phases] [--no-phase-tail] [--no-phase-taps]
 *
 * --winograd adds an stc-onnx variant with the Winograd conv rewrite forced on (BackendOptions.winograd);
 * --nchwc-off one without ORT's NCHWc layout (graph optimisation 'extended': no reorders around instance norm);
 * --int8-first an int8 variant with the first conv quantised too (QuantizeOptions.keepEnds 'last'); --int8-nchwc-off
 * one on graph optimisation 'extended' (no NCHWc reorders around the float convs, no NHWC transposes around QLinearConv);
 * --int8-nchw-phases one with the upsampling convs' phase shuffle left in NCHW (QuantizeOptions.channelsLastPhases false:
 * the int8 model before channels-last-phases.ts); --no-phase-tail one without the last upsampling kept in phase space
 * (optimize/phase-tail.ts: the fp32 model before it); --no-phase-taps one with the upsampling convs' phases on the
 * merged 3×3 taps (optimize/resize-conv.ts without splitTaps: the fp32 model before it).
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { OnnxBackend, loadOnnxModel } from '../src/backends/onnx/index.ts';
import { optimizeOptions } from '../src/backends/onnx/backend.ts';
import { type PassName, optimizeGraph } from '../src/backends/onnx/optimize/index.ts';
import type { CompiledModel } from '../src/backends/types.ts';
import type { HostTensor } from '../src/compiler/ir/types.ts';
import { CALIBRATION_SIZE, int8Model, johnsonInference, noiseImage, torchExport } from './setup.ts';
import { TIMING_OPTIONS, median, round } from './stats.ts';

const { values } = parseArgs({
  options: {
    ...TIMING_OPTIONS,
    winograd: { type: 'boolean', default: false },
    'nchwc-off': { type: 'boolean', default: false },
    'no-int8': { type: 'boolean', default: false },
    'int8-first': { type: 'boolean', default: false },
    'int8-nchwc-off': { type: 'boolean', default: false },
    'int8-nchw-phases': { type: 'boolean', default: false },
    'no-phase-tail': { type: 'boolean', default: false },
    'no-phase-taps': { type: 'boolean', default: false },
  },
});
const size = Number(values.size);
const opts = { threads: Number(values.threads) };
const { graph: g, weights, input } = await johnsonInference(size);
const x = noiseImage(1, size, 1);
const models: [string, CompiledModel, Record<string, HostTensor>][] = [];
models.push(['stc-onnx', await new OnnxBackend().compile(g, weights, opts), { [input]: x }]);
const exported = await loadOnnxModel(torchExport(size), opts);
models.push(['torch-onnx-ort', exported, { [exported.inputNames[0]!]: x }]);
if (values.winograd) models.push(['stc-onnx --winograd', await new OnnxBackend().compile(g, weights, { ...opts, winograd: {} }), { [input]: x }]);
/** stc-onnx with one optimisation pass left out. */
async function without(pass: PassName, label: string): Promise<void> {
  const passes = (optimizeOptions(opts).passes ?? []).filter((p) => p !== pass);
  models.push([label, await new OnnxBackend().compile(optimizeGraph(g, weights, { passes }), weights, { ...opts, optimize: false }), { [input]: x }]);
}
if (values['no-phase-tail']) await without('phaseTail', 'stc-onnx, no phase tail');
if (values['no-phase-taps']) await without('phaseTaps', 'stc-onnx, 3x3 phase taps');
if (values['nchwc-off']) models.push(['stc-onnx --nchwc off', await new OnnxBackend().compile(g, weights, { ...opts, nchwc: false }), { [input]: x }]);
const calibrationGraph = (await johnsonInference(CALIBRATION_SIZE)).graph;
if (!values['no-int8']) models.push(['stc-onnx-int8', await int8Model(g, weights, opts, calibrationGraph), { [input]: x }]);
if (values['int8-nchwc-off']) models.push(['stc-onnx-int8, NCHWc off', await int8Model(g, weights, { ...opts, nchwc: false }, calibrationGraph), { [input]: x }]);
if (values['int8-nchw-phases']) models.push(['stc-onnx-int8, NCHW phase shuffle', await int8Model(g, weights, { ...opts, channelsLastPhases: false }, calibrationGraph), { [input]: x }]);
if (values['int8-first']) models.push(['stc-onnx-int8, first conv quantised', await int8Model(g, weights, { ...opts, keepEnds: 'last' }, calibrationGraph), { [input]: x }]);
const times = new Map<string, number[]>(models.map(([n]) => [n, []]));
// CPU time (user + system, all threads) per run too: on the shared machine it moves less with the load than wall time.
const cpu = new Map<string, number[]>(models.map(([n]) => [n, []]));
for (let i = 0; i < Number(values.warmup) + Number(values.repeats); i++)
  for (const [name, m, feeds] of models) {
    const t = performance.now();
    const c = process.cpuUsage();
    await m.run(feeds);
    const used = process.cpuUsage(c);
    if (i < Number(values.warmup)) continue;
    times.get(name)!.push(performance.now() - t);
    cpu.get(name)!.push((used.user + used.system) / 1000);
  }
await Promise.all(models.map(([, m]) => m.dispose()));
const ref = median(times.get('torch-onnx-ort')!);
const rows = models.map(([name]) => {
  const t = times.get(name)!;
  return { name, median_ms: round(median(t)), min_ms: round(Math.min(...t)), vs_export: round(median(t) / ref, 3), times_ms: t.map((v) => round(v)), cpu_ms: cpu.get(name)!.map((v) => round(v)) };
});
process.stdout.write(`${JSON.stringify({ job: `inference-johnson_in-${size}`, threads: opts.threads, date: new Date().toISOString(), rows })}\n`);
for (const r of rows) process.stderr.write(`${r.name}: median ${r.median_ms.toFixed(0)} ms, min ${r.min_ms.toFixed(0)} ms, ${r.vs_export.toFixed(2)}× the export\n`);
