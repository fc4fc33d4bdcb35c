/**
 * An image model compiled from a spec, one ONNX session per input size (`stc apply spec.style …`). Unlike an exported
 * model (model.ts), whose N, H and W are symbolic, each size is compiled with all of stc's optimisation passes for
 * that size (and with Winograd when the job asks for it: winograd-choice.ts), which is what makes it faster per image.
 * Compiling costs a few hundred milliseconds, so the sessions of the last few sizes are kept: a folder of photos of
 * one size or a video compiles once (twice when the last batch is smaller).
 *
 * A folder of photos of many sizes would compile for most of its images, and a compile costs more than the passes save
 * on a few images: sizes with little work (sizeFreeSizes) run instead on one size-free session, the network with
 * symbolic N, H and W compiled once without the size-dependent passes, as an exported model is.
 *
 * Images run whole: a compiled spec has no whole-image statistics variant for instance norm, so it cannot be tiled
 * without seams; the caller bounds the image size instead (MAX_WHOLE_PIXELS).
 */
import { performance } from 'node:perf_hooks';
import { OnnxBackend } from '../../backends/onnx/index.ts';
import { optimizeOptions } from '../../backends/onnx/backend.ts';
import { optimizeGraph, winogradConvCount } from '../../backends/onnx/optimize/index.ts';
import type { BackendOptions, CompiledModel, Device, WeightMap } from '../../backends/types.ts';
import type { Graph } from '../../compiler/ir/types.ts';
import type { ImageModel } from './model.ts';
import { AUTO_TILE_PIXELS } from './stylize.ts';

/** An input batch's size, for which the network is specialised and compiled. */
export interface BatchSize {
  readonly batch: number;
  readonly height: number;
  readonly width: number;
}

/** The network at one size: its graph (one image input, the image output first) and bound weights. */
export type NetworkAt = (size: BatchSize) => { readonly graph: Graph; readonly weights: WeightMap };

/** One compile, reported as it finishes: of one size, or of the size-free session (sizes 0). */
export interface CompileEvent extends BatchSize {
  readonly sizeFree: boolean;
  readonly winogradConvs: number;
  readonly ms: number;
}

export interface CompiledImageModelOptions {
  readonly threads?: number;
  readonly device?: Device;
  /** The wide 3×3 convs as Winograd F(4×4, 3×3) (the CPU only; winograd-choice.ts decides). */
  readonly winograd?: boolean;
  /** Sessions kept (default 2: a size's full batches and its last, smaller one). */
  readonly keep?: number;
  readonly onCompile?: (e: CompileEvent) => void;
  /** Sizes (sizeKey) that run on the size-free network's one session instead of a compile of their own. */
  readonly sizeFree?: { readonly network: SizeFreeNetwork; readonly sizes: ReadonlySet<string> };
}

/** The network with symbolic N, H and W (one image input, the image output first) and its bound weights. */
export type SizeFreeNetwork = () => { readonly graph: Graph; readonly weights: WeightMap };

/** An image size as CompiledImageModelOptions.sizeFree names it. */
export const sizeKey = (height: number, width: number): string => `${height}x${width}`;

/**
 * Work (pixels of all its images) from which an image size gets a compile of its own; below it, the size runs on the
 * size-free session. Set a little above the work after which a compile paid for itself on Johnson-IN, since the first
 * run of a new session costs more (bench/specialize-cost.ts; docs/benchmarks.md, "`stc apply` on a spec", its paragraph
 * "Folders of many sizes"). Eight 256² images, as for `--winograd auto` (winograd-choice.ts).
 */
export const SPECIALIZE_MIN_PIXELS = 8 * 256 * 256;

/** How many of a job's images have one size. */
export interface SizeCount {
  readonly height: number;
  readonly width: number;
  readonly images: number;
}

/** The sizes of a job's images (keyed by sizeKey) that get no compile of their own. */
export function sizeFreeSizes(counts: ReadonlyMap<string, SizeCount>): Set<string> {
  return new Set([...counts].filter(([, c]) => c.images * c.height * c.width < SPECIALIZE_MIN_PIXELS).map(([k]) => k));
}

/** Largest image (pixels) a compiled spec runs: apply tiles larger ones (stylize.ts), which a compiled spec cannot do (see above). */
export const MAX_WHOLE_PIXELS = AUTO_TILE_PIXELS;

interface Entry {
  readonly model: CompiledModel;
  readonly input: string;
  readonly output: string;
}

/** A graph to compile with Winograd on the ONNX CPU path, and the options to compile it with. */
export interface WinogradGraph {
  readonly graph: Graph;
  readonly options: BackendOptions;
  /** Convs it runs as Winograd. */
  readonly convs: number;
}

/**
 * `graph` optimised with Winograd here, so that its Winograd convs can be counted (and its working memory estimated:
 * the transformed kernels and tiles are part of it), then compiled as it is, not optimised a second time.
 */
export function withWinograd(graph: Graph, weights: WeightMap, opts: BackendOptions): WinogradGraph {
  const optimized = optimizeGraph(graph, weights, optimizeOptions({ ...opts, winograd: true }));
  return { graph: optimized, options: { ...opts, winograd: true, optimize: false }, convs: winogradConvCount(optimized) };
}

async function compileAt(networkAt: NetworkAt, size: BatchSize | undefined, opts: CompiledImageModelOptions): Promise<Entry & { winogradConvs: number }> {
  const { graph, weights } = size ? networkAt(size) : opts.sizeFree!.network();
  const input = graph.inputs[0];
  const output = [...graph.outputs.keys()][0];
  if (graph.inputs.length !== 1 || input === undefined || output === undefined) throw new Error('compiledImageModel: the network needs one image input and an output');
  const base = { ...(opts.threads !== undefined && { threads: opts.threads }), ...(opts.device && { device: opts.device }) };
  const backend = new OnnxBackend();
  if (!size || !opts.winograd || (opts.device ?? 'cpu') !== 'cpu') return { model: await backend.compile(graph, weights, base), input, output, winogradConvs: 0 };
  const w = withWinograd(graph, weights, base);
  return { model: await backend.compile(w.graph, weights, w.options), input, output, winogradConvs: w.convs };
}

/** A session in the cache: runs in flight, and whether it has been evicted (disposed when the last run ends). */
interface Slot {
  readonly entry: Promise<Entry>;
  users: number;
  evicted: boolean;
}

export function compiledImageModel(networkAt: NetworkAt, opts: CompiledImageModelOptions = {}): ImageModel {
  const keep = Math.max(1, opts.keep ?? 2);
  // Most recently used last; a promise, so concurrent runs of one size compile it once.
  const slots = new Map<string, Slot>();
  let winogradConvs = 0;
  const release = async (slot: Slot): Promise<void> => {
    if (!slot.evicted || slot.users > 0) return;
    // A size that failed to compile has no session; its error reached the run that asked for it.
    const e = await slot.entry.catch(() => undefined);
    await e?.model.dispose();
  };
  const compile = (size: BatchSize | undefined): Slot => {
    const t0 = performance.now();
    const entry = compileAt(networkAt, size, opts).then((e) => {
      if (size) winogradConvs = e.winogradConvs;
      opts.onCompile?.({ ...(size ?? { batch: 0, height: 0, width: 0 }), sizeFree: !size, winogradConvs: e.winogradConvs, ms: performance.now() - t0 });
      return e;
    });
    return { entry, users: 0, evicted: false };
  };
  // The size-free session serves many sizes: kept until dispose, outside the per-size sessions' limit.
  let sizeFree: Slot | undefined;
  const acquire = (size: BatchSize): Slot => {
    if (opts.sizeFree?.sizes.has(sizeKey(size.height, size.width))) {
      sizeFree ??= compile(undefined);
      sizeFree.users++;
      return sizeFree;
    }
    const key = `${size.batch}x${size.height}x${size.width}`;
    let slot = slots.get(key);
    if (slot) slots.delete(key);
    else slot = compile(size);
    slots.set(key, slot);
    slot.users++;
    while (slots.size > keep) {
      const [oldest, old] = slots.entries().next().value as [string, Slot];
      slots.delete(oldest);
      old.evicted = true;
      void release(old);
    }
    return slot;
  };
  return {
    get winogradConvs() {
      return winogradConvs;
    },
    async run(x) {
      const [batch, , height, width] = x.shape as [number, number, number, number];
      const slot = acquire({ batch, height, width });
      try {
        const { model, input, output } = await slot.entry;
        const y = (await model.run({ [input]: { shape: [...x.shape], data: x.data } }))[output];
        if (!y) throw new Error(`compiledImageModel: no output ${output}`);
        return y;
      } finally {
        slot.users--;
        await release(slot);
      }
    },
    async dispose() {
      const all = [...slots.values(), ...(sizeFree ? [sizeFree] : [])];
      slots.clear();
      sizeFree = undefined;
      for (const slot of all) {
        slot.evicted = true;
        await release(slot);
      }
    },
  };
}
