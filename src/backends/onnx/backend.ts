/**
 * The ONNX Runtime backend: emit the graph as an ONNX model in memory and run
 * it with onnxruntime-node (CPU execution provider, float32 only).
 */
import { cpus } from 'node:os';
import * as ort from 'onnxruntime-node';
import type { Graph, HostTensor } from '../../compiler/ir/types.ts';
import type { Backend, BackendOptions, CompiledModel, WeightMap } from '../types.ts';
import { GraphBuilder } from '../../compiler/ir/builder.ts';
import { buildModelProto, emitModel } from './emit.ts';
import { useModelSource, writeModelSource, type ModelSource } from './model-file.ts';
import { ALL_PASSES, WINOGRAD_STEM, isConcrete, optimizeGraph, type OptimizeOptions, type PassName } from './optimize/index.ts';
import type { ModelProto } from './proto.ts';
import { elideOutputIdentities } from './elide-identity.ts';
import { loopModel, type StepLoop } from './step-loop.ts';
import { slicesToSplit } from './slices-to-split.ts';
import { CPU_PEEPHOLE_REWRITES, peephole } from './peephole/index.ts';
import { isForwardOp } from '../../compiler/passes/autodiff/index.ts';
import { GpuUnavailableError, createSessionOn, type GpuProviderOptions, type OrtProvider } from './providers.ts';
import { collectGarbage } from '../collect-garbage.ts';
import { DeviceCopier, feedTensor, fetchHost, newTransferCounter, residentOf, type Feed, type ResidentTensor, type TransferCounter } from './resident.ts';

export function toOrtTensor(t: HostTensor): ort.Tensor {
  return new ort.Tensor('float32', t.data, [...t.shape]);
}

export function fromOrtTensor(t: ort.Tensor): HostTensor {
  if (t.type !== 'float32') throw new Error(`onnx backend: expected a float32 output, got ${t.type}`);
  return { shape: t.dims.map(Number), data: t.data as Float32Array };
}

/**
 * Session options: graph optimisation 'all' ('extended' without the NCHWc layout), memory arena on, memory pattern
 * off, intra-op threads = all cores by default (see BackendOptions for each choice).
 */
export function sessionOptions(opts: BackendOptions = {}): ort.InferenceSession.SessionOptions {
  return {
    graphOptimizationLevel: opts.nchwc === false ? 'extended' : 'all',
    intraOpNumThreads: opts.threads ?? Math.max(1, cpus().length),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    enableCpuMemArena: opts.memArena ?? true,
    enableMemPattern: opts.memPattern ?? false,
    ...(opts.profilePrefix !== undefined && { enableProfiling: true, profileFilePrefix: opts.profilePrefix }),
    ...(opts.spinning === false && { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
    // Errors only: the library never prints (ONNX's own ceil-mode shape inference disagrees with
    // PyTorch's, which ORT's kernels follow, and would otherwise warn on every run).
    logSeverityLevel: 3,
  };
}

const gpuOptions = (opts: BackendOptions): GpuProviderOptions => ({
  ...(opts.webgpuLayout && { webgpuLayout: opts.webgpuLayout }),
  ...(opts.residentOutputs && { gpuOutputs: opts.residentOutputs }),
});

/** A model running in onnxruntime-node, with the execution provider it runs on. */
export interface OnnxModel extends CompiledModel {
  readonly provider: OrtProvider;
  /**
   * `run`, with preallocated outputs: ORT writes each output named in `outputs` into that tensor's
   * buffer (no allocation); the other outputs are allocated as by `run`. (onnxruntime-node 1.30 also
   * returns a copy of each preallocated output in a new buffer; runInto drops it.)
   * Each preallocated tensor must have its output's exact shape and must not share memory with any
   * feed (an output cannot overwrite the input it is computed from). Returns every output, the
   * preallocated ones as the very objects given.
   */
  runInto(feeds: Readonly<Record<string, HostTensor>>, outputs: Readonly<Record<string, HostTensor>>): Promise<Record<string, HostTensor>>;
  /**
   * `run` for device-resident loops: feeds may be ResidentTensors (outputs of an earlier run on this device); the
   * outputs named in BackendOptions.residentOutputs come back resident, the others on the host.
   */
  runResident(feeds: Readonly<Record<string, Feed>>): Promise<{ host: Record<string, HostTensor>; resident: Record<string, ResidentTensor> }>;
  /** Bytes of host tensors fed and host outputs fetched by this model's runs so far (resident tensors cross nothing). */
  readonly transfer: TransferCounter;
}

/** Whether two tensors' buffers overlap (views of one ArrayBuffer with intersecting byte ranges). */
function sharesMemory(a: HostTensor, b: HostTensor): boolean {
  if (a.data.buffer !== b.data.buffer) return false;
  return a.data.byteOffset < b.data.byteOffset + b.data.byteLength && b.data.byteOffset < a.data.byteOffset + a.data.byteLength;
}

/** Run an already-serialised ONNX model (on the CPU, or on CUDA/WebGPU with `device: 'gpu'`). */
export async function loadOnnxModel(bytes: Uint8Array, opts: BackendOptions = {}): Promise<OnnxModel> {
  const { session, provider } = await createSessionOn(bytes, opts.device ?? 'cpu', sessionOptions(opts), gpuOptions(opts));
  return wrapSession(session, provider, opts.residentOutputs ?? []);
}

/** A DeviceCopier for the device of `opts` (uploads and downloads of ResidentTensors, counted in `counter`). */
export function deviceCopier(opts: BackendOptions, counter: TransferCounter = newTransferCounter()): DeviceCopier {
  const backend = new OnnxBackend();
  return new DeviceCopier((g, o) => backend.compile(g, new Map(), o), opts, counter);
}

function wrapSession(session: ort.InferenceSession, provider: OrtProvider, residentOutputs: readonly string[]): OnnxModel {
  const transfer = newTransferCounter();
  const feedsOf = (feeds: Readonly<Record<string, Feed>>): Record<string, ort.Tensor> => {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = feedTensor(v, transfer);
    return ortFeeds;
  };
  const kept = new Set(residentOutputs);
  const unknown = [...kept].find((name) => !session.outputNames.includes(name));
  if (unknown !== undefined) {
    void session.release();
    throw new Error(`onnx backend: no output ${unknown} to keep resident`);
  }
  return {
    provider,
    transfer,
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(feeds) {
      const res = await session.run(feedsOf(feeds));
      const out: Record<string, HostTensor> = {};
      for (const name of session.outputNames) out[name] = fetchHost(res[name]!, transfer);
      return out;
    },
    async runResident(feeds) {
      const res = await session.run(feedsOf(feeds));
      const host: Record<string, HostTensor> = {};
      const resident: Record<string, ResidentTensor> = {};
      for (const name of session.outputNames) {
        const t = res[name]!;
        // A kept output the GPU provider handed back on the host crossed the boundary: count it (the CUDA provider does).
        if (kept.has(name) && provider !== 'cpu' && t.location === 'cpu') transfer.down += (t.data as Float32Array).byteLength;
        if (kept.has(name)) resident[name] = residentOf(t);
        else host[name] = fetchHost(res[name]!, transfer);
      }
      return { host, resident };
    },
    async runInto(feeds, outputs) {
      const ortFeeds = feedsOf(feeds);
      for (const [name, t] of Object.entries(outputs)) {
        if (!session.outputNames.includes(name)) throw new Error(`onnx backend: runInto: the model has no output ${name}`);
        for (const [k, v] of Object.entries(feeds)) if (sharesMemory(t, v)) throw new Error(`onnx backend: runInto: output ${name} shares memory with input ${k}`);
      }
      // null: ORT allocates that output. A tensor over the caller's Float32Array shares its memory, so ORT writes there.
      const fetches: Record<string, ort.Tensor | null> = {};
      for (const name of session.outputNames) fetches[name] = outputs[name] ? toOrtTensor(outputs[name]) : null;
      const res = await session.run(ortFeeds, fetches);
      const out: Record<string, HostTensor> = {};
      for (const name of session.outputNames) out[name] = outputs[name] ?? fetchHost(res[name]!, transfer);
      for (const t of Object.values(outputs)) transfer.down += t.data.byteLength;
      return out;
    },
    async dispose() {
      await session.release();
    },
  };
}

/** The provider `device: 'gpu'` starts on here, from a one-op session; throws GpuUnavailableError when none does. */
export async function gpuProvider(opts: BackendOptions = {}): Promise<OrtProvider> {
  const b = new GraphBuilder();
  b.output('y', b.add('relu', [b.input('x', [1, 4])], {}));
  const m = await loadOnnxModel(emitModel(b.build(), new Map()), { ...opts, device: 'gpu' });
  await m.dispose();
  return m.provider;
}

/** What `device: 'gpu'` does here: the provider a one-op session starts on, or each provider tried and why it failed. */
export async function probeGpu(
  opts: BackendOptions = {},
): Promise<{ readonly provider: OrtProvider } | { readonly attempts: GpuUnavailableError['attempts'] }> {
  try {
    return { provider: await gpuProvider(opts) };
  } catch (e) {
    if (e instanceof GpuUnavailableError) return { attempts: e.attempts };
    throw e;
  }
}

/**
 * The passes for `device: 'gpu'`: the input normalisation fold and constant folding only. The other rewrites
 * (resize-conv phases, per-tap weight-gradient matmuls, output phases, Winograd, ConvTranspose as Conv) trade one
 * large op for several smaller ones that MLAS runs faster; on a GPU each op is a dispatch, and the H100 profile
 * (docs/benchmarks.md, "GPU") found the steps dispatch-bound, so a GPU graph keeps the fewest, largest ops:
 * autodiff's native Conv/ConvTranspose gradients.
 */
export const GPU_PASSES: readonly PassName[] = ['normalisation', 'fold'];

/** The optimisation passes a backend option set asks for (per device: GPU_PASSES on the GPU). */
export function optimizeOptions(opts: BackendOptions): OptimizeOptions {
  if (opts.device === 'gpu') return { passes: GPU_PASSES };
  const w = opts.winograd;
  if (w === undefined || w === false) return { passes: ALL_PASSES.filter((p) => p !== 'winograd') };
  return w === true ? {} : { winograd: w };
}

/**
 * Whether a graph runs Winograd convs inside a gradient graph; such graphs compile without NCHWc unless `nchwc` is
 * set. The reason first given, an image gradient skewed by ORT's NCHWc transform in an earlier form of the pass, no
 * longer holds (`npx tsx bench/winograd-nchwc.ts --weights DIR` checks it). What remains is memory: the backward pass
 * reads activations in NCHW, so with NCHWc they live in both layouts, a higher peak for a few per cent less time
 * (docs/benchmarks.md, "NCHWc in the Gatys step").
 */
export function winogradGradient(g: Graph): boolean {
  return [...g.values.keys()].some((id) => id.includes(WINOGRAD_STEM)) && g.nodes.some((n) => !isForwardOp(n.op));
}

/**
 * Constant bytes from which compile collects the garbage it leaves (the optimisation passes' derived
 * constants and the emitted model): below it a collection costs more time than the memory is worth.
 */
export const COLLECT_AFTER_BYTES = 16 * 1024 * 1024;

/** Bytes of the constants a graph carries (data held by the graph itself, not the caller's weights). */
function constantBytes(g: Graph): number {
  let n = 0;
  for (const v of g.values.values()) if (v.kind === 'const' && v.data) n += v.data.byteLength;
  return n;
}

/**
 * Optimise, emit and write the model; only the file (and a few facts about the graph) leave this
 * function, so the optimised graph's derived constants and the ModelProto are garbage once it returns.
 */
async function emitSession(
  g: Graph,
  weights: WeightMap,
  opts: BackendOptions,
  wrap: (m: ModelProto) => ModelProto,
): Promise<{ readonly file: ModelSource; readonly constantBytes: number; readonly winograd: boolean }> {
  const { graph, proto } = lowerForDevice(g, weights, opts);
  return { file: await writeModelSource(wrap(proto)), constantBytes: constantBytes(graph), winograd: winogradGradient(graph) };
}

/** The optimised graph and the ModelProto the backend would compile for these options (device-aware). */
function lowerForDevice(g: Graph, weights: WeightMap, opts: BackendOptions): { readonly graph: Graph; readonly proto: ModelProto } {
  const graph = opts.optimize !== false && isConcrete(g) ? optimizeGraph(g, weights, optimizeOptions(opts)) : g;
  // ORT 1.30's WebGPU provider takes MaxPool nodes but fails at run time on their Indices output. On a GPU the
  // ReLU gradient is Where(y > 0, dy, 0) unless asked otherwise: two nodes, not three (Greater, Cast, Mul).
  const gpu = opts.device === 'gpu' ? { maxPoolGrad: 'tiled' as const, reluGrad: 'where' as const } : {};
  const emit = { ...gpu, ...(opts.reluGrad && { reluGrad: opts.reluGrad }) };
  const proto = buildModelProto(graph, weights, emit);
  const shapeOf = (name: string): number[] | undefined => {
    const s = graph.values.get(name)?.shape;
    return s?.every((d): d is number => typeof d === 'number') ? [...s] : undefined;
  };
  // The CPU's own peephole rewrites (peephole/pool-mask.ts); the GPU's list follows below.
  if (opts.device !== 'gpu') return { graph, proto: peephole(proto, shapeOf, new Set(), CPU_PEEPHOLE_REWRITES) };
  const extent = (name: string, axis: number): number | undefined => {
    const d = graph.values.get(name)?.shape[axis];
    return typeof d === 'number' ? d : undefined;
  };
  const symmetric = new Set(graph.inputs.filter((id) => graph.values.get(id)?.symmetric === true));
  return { graph, proto: peephole(slicesToSplit(elideOutputIdentities(proto), extent), shapeOf, symmetric) };
}

/**
 * The ModelProto `compile` would run for these options (device-aware: on the GPU with the GPU's lowerings and
 * peephole rewrites), for tests that run a GPU graph on the CPU provider and for node counts.
 */
export function modelForDevice(g: Graph, weights: WeightMap, opts: BackendOptions = {}): ModelProto {
  return lowerForDevice(g, weights, opts).proto;
}

/** ONNX nodes of the model compiled for these options: the total and the count per op type, most frequent first. */
export interface NodeCount {
  readonly nodes: number;
  readonly byOp: readonly (readonly [string, number])[];
}

/**
 * How many ONNX nodes `compile` would emit for `g` with these options (before ONNX Runtime's own fusions). On a GPU
 * each node is at least one dispatch, so this is the figure `stc info --device gpu` and the bench report per graph.
 */
export function emittedNodeCount(g: Graph, weights: WeightMap, opts: BackendOptions = {}): NodeCount {
  const counts = new Map<string, number>();
  const nodes = lowerForDevice(g, weights, opts).proto.graph?.node ?? [];
  for (const n of nodes) counts.set(n.opType ?? '?', (counts.get(n.opType ?? '?') ?? 0) + 1);
  return { nodes: nodes.length, byOp: [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])) };
}

/**
 * The compiled session. When the graph carried at least COLLECT_AFTER_BYTES of constants, the host's copies
 * (derived constants, the ModelProto) are collected after the model is written and before ONNX Runtime reads
 * it, so they are not resident while ORT builds its own copy of every initializer (the session's creation
 * is itself a memory peak: the VGG-19 Gatys step's, with Winograd on its 32² layers).
 */
async function compileSession(g: Graph, weights: WeightMap, opts: BackendOptions, wrap: (m: ModelProto) => ModelProto = (m) => m): Promise<OnnxModel> {
  const { file, constantBytes: bytes, winograd } = await emitSession(g, weights, opts, wrap);
  return useModelSource(file, async (source) => {
    if (bytes >= COLLECT_AFTER_BYTES) collectGarbage();
    const { session, provider } = await createSessionOn(source, opts.device ?? 'cpu', sessionOptions({ ...(winograd && { nchwc: false }), ...opts }), gpuOptions(opts));
    return wrapSession(session, provider, opts.residentOutputs ?? []);
  });
}

export class OnnxBackend implements Backend {
  readonly name = 'onnx' as const;

  /**
   * Runs stc's optimisation passes first on concrete-shape graphs, unless `opts.optimize` is false.
   * When the compiled graph carried at least COLLECT_AFTER_BYTES of constants, they are collected
   * (collectGarbage) once the model is written, before ONNX Runtime reads it (compileSession).
   */
  async compile(g: Graph, weights: WeightMap, opts: BackendOptions = {}): Promise<OnnxModel> {
    return compileSession(g, weights, opts);
  }

  /**
   * `g` compiled as one step of a loop: a run takes K stacked per-step inputs and runs K steps
   * (step-loop.ts has the model's interface). Compiled as `compile` compiles `g`, then wrapped.
   */
  async compileStepLoop(g: Graph, weights: WeightMap, loop: StepLoop, opts: BackendOptions = {}): Promise<OnnxModel> {
    return compileSession(g, weights, opts, (m) => loopModel(m, loop));
  }
}
