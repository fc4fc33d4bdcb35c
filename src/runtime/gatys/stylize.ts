/**
 * `stylize`: a whole Gatys run, from a spec and image paths to an output image.
 *
 *   compile the spec → pick the objective (and its loss network) → read and resize the images
 *   (content to `size` on the long side, each style image to `size · styleScale`) → optional colour
 *   matching of the styles → build the objective graphs, bind the loss network's weights and compile
 *   them on the backend → compute the targets once (content features; style Grams per style image,
 *   blended) → optimise from the initial image → optional luminance-only transfer → write the output.
 *
 * The library never prints: phases and iterations are reported through callbacks.
 */
import { basename, dirname, extname, join } from 'node:path';
import { compileFile, formatDiagnostics } from '../../compiler/frontend.ts';
import { blendTargets, normaliseBlend } from '../../compiler/objective/blend.ts';
import { buildObjectiveGraphs, type ObjectiveGraphs } from '../../compiler/objective/build.ts';
import type { LossTerm, ObjectiveSpec } from '../../compiler/objective/types.ts';
import type { Graph, HostTensor } from '../../compiler/ir/types.ts';
import type { WeightSource } from '../../compiler/weights.ts';
import type { WinogradOptions } from '../../backends/onnx/optimize/winograd.ts';
import type { BackendOptions, Device, WeightMap } from '../../backends/types.ts';
import { ShapeError } from '../../compiler/ir/ops.ts';
import { UserError } from '../../util/errors.ts';
import { bindWeights } from '../../weights/index.ts';
import { matchColour, transferLuminance, type ColourPreservation } from '../colour.ts';
import type { RgbImage } from '../image-types.ts';
import type { ProgressCallback } from '../progress.ts';
import { createGatysEngine, type GatysBackendName } from './engine.ts';
import type { GatysEngine, StepFn } from './types.ts';
import { checkWritablePath, readImage, resizeImage, sizeForLongSide, writeImage } from '../image.ts';
import { noiseImage } from './init.ts';
import { runGatys, type GatysRunResult, type LossRecord, type OptimizerName } from './run.ts';
import { fitMargin, foldPadGradient, reflectPad } from './margin.ts';
import { matchPalette } from './palette.ts';
import { scaleIterations, scaleSizes } from './scales.ts';
import { chooseTile } from './tile-memory.ts';
import { createTiledEngine } from './tiled-step.ts';

export interface StylizeOptions {
  readonly spec: string;
  readonly content: string;
  readonly styles: readonly string[];
  readonly output: string;
  /** Blend weights, one per style image (normalised to sum 1); default equal. */
  readonly blend?: readonly number[];
  readonly backend?: GatysBackendName;
  /** Objective name in the spec; default: chosen by `lossNet`, else the first objective. */
  readonly objective?: string;
  /** Loss network name: selects the (first) objective using it. */
  readonly lossNet?: string;
  /** Weight file/folder replacing the one bound in the spec. */
  readonly weights?: string;
  /** Output long side in pixels (default 512). */
  readonly size?: number;
  /** Style image long side = size · styleScale (default 1). */
  readonly styleScale?: number;
  readonly iterations?: number;
  readonly optimizer?: OptimizerName;
  /** Adam step size in pixel units. */
  readonly lr?: number;
  /** Override α (every content term), β (every style term), λ_TV (every TV term, adding one if absent). */
  readonly contentWeight?: number;
  readonly styleWeight?: number;
  readonly tvWeight?: number;
  readonly seed?: number;
  /** `noise`, `content`, `palette` (the content in the first style's palette, palette.ts), `style` or an image path. Default `noise`. */
  readonly init?: string;
  readonly snapshotEvery?: number;
  readonly preserveColour?: ColourPreservation;
  readonly threads?: number;
  /**
   * ONNX: Winograd F(4×4, 3×3) for the loss network's wide 3×3 convs (BackendOptions.winograd): faster, more
   * memory; an object sets its thresholds. Default: the Gatys engine's (on for the CPU, STEP_WINOGRAD).
   */
  readonly winograd?: boolean | WinogradOptions;
  /** ONNX: where ONNX Runtime runs (BackendOptions.device); default the CPU. */
  readonly device?: Device;
  /** Coarse-to-fine scales (default 1): see scales.ts. */
  readonly scales?: number;
  /** Long side of the coarsest scale; default size / √2^(scales − 1). */
  readonly startSize?: number;
  /** Iterations per scale, coarse to fine (default `iterations` at every scale). */
  readonly scaleIterations?: readonly number[];
  /** `style`: give the result the first style's chroma statistics, keeping its luminance (palette.ts). Default `none`. */
  readonly colour?: 'style' | 'none';
  /** Tiled optimisation with tiles of this side in pixels (tiled-step.ts). */
  readonly tile?: number;
  /** Choose the tile side so the run's estimated peak memory stays under this many GiB (tile-memory.ts). */
  readonly maxMemoryGB?: number;
  /** Reflected margin in pixels around the optimised image (margin.ts; default DEFAULT_MARGIN, 0: none). */
  readonly margin?: number;
  readonly onPhase?: (message: string) => void;
  readonly onProgress?: ProgressCallback;
  readonly signal?: AbortSignal;
}

export interface StylizeResult extends GatysRunResult {
  readonly objective: string;
  readonly lossNet: string;
  readonly size: { readonly width: number; readonly height: number };
  /** Snapshot files written, in order. */
  readonly snapshots: readonly string[];
  /** Wall time of the optimisation loops alone, ms (all scales). */
  readonly optimiseMs: number;
  /** Each scale run, coarse to fine (one entry without --scales); `history` is the finest scale's. */
  readonly scales: readonly ScaleSummary[];
}

export interface ScaleSummary {
  readonly width: number;
  readonly height: number;
  readonly iterations: number;
  readonly optimiseMs: number;
  readonly history: readonly LossRecord[];
}

/**
 * The reflected margin's default (margin.ts): 8 pixels take the loss network's first layers' zero padding
 * (3×3 convs, 2×2 pools: the mean-colour pixels reach 1 + 2 + … pixels in) off the real border at a
 * cost of (1 + 16/size)² more pixels per step.
 */
export const DEFAULT_MARGIN = 8;

/**
 * The default start: the content in the style's palette (palette.ts). From noise (the paper's start) the
 * outputs kept half the painting's saturation and a third of the photo's contrast at the iteration counts
 * run here; from the recoloured content every measured case kept both (docs/quality.md).
 */
export const DEFAULT_INIT = 'palette';

/** Pick the objective: by name, else the first one whose loss network is `lossNet`, else the first. */
export function selectObjective(objectives: ReadonlyMap<string, ObjectiveSpec>, name?: string, lossNet?: string): ObjectiveSpec {
  const all = [...objectives.values()];
  if (all.length === 0) throw new UserError('the spec declares no objective');
  if (name !== undefined) {
    const o = objectives.get(name);
    if (!o) throw new UserError(`the spec has no objective ${name}; it has: ${[...objectives.keys()].join(', ')}`);
    if (lossNet !== undefined && o.lossNet !== lossNet) throw new UserError(`objective ${name} uses the loss network ${o.lossNet}, not ${lossNet}`);
    return o;
  }
  if (lossNet === undefined) return all[0]!;
  const o = all.find((x) => x.lossNet === lossNet);
  if (!o) throw new UserError(`no objective in the spec uses the loss network ${lossNet}; available: ${[...new Set(all.map((x) => x.lossNet))].join(', ')}`);
  return o;
}

/** Apply the α, β, λ_TV overrides (a TV override on an objective without TV adds a `sum` TV term). */
export function withWeights(spec: ObjectiveSpec, w: { content?: number; style?: number; tv?: number }): ObjectiveSpec {
  const terms: LossTerm[] = spec.terms.map((t) => {
    const o = t.kind === 'content' ? w.content : t.kind === 'style' ? w.style : w.tv;
    return o === undefined ? t : { ...t, weight: o };
  });
  if (w.tv !== undefined && w.tv !== 0 && !terms.some((t) => t.kind === 'tv')) terms.push({ kind: 'tv', weight: w.tv, norm: 'sum' });
  return { ...spec, terms };
}

function positiveInt(v: number | undefined, fallback: number, what: string): number {
  const x = v ?? fallback;
  if (!Number.isInteger(x) || x < 1) throw new UserError(`${what} must be a positive integer, got ${x}`);
  return x;
}

const asTensor = (img: RgbImage): HostTensor => ({ shape: [1, 3, img.height, img.width], data: img.data });

export function snapshotPath(output: string, iteration: number): string {
  const ext = extname(output);
  return join(dirname(output), `${basename(output, ext)}.iter${String(iteration).padStart(5, '0')}${ext}`);
}

export async function stylize(opts: StylizeOptions): Promise<StylizeResult> {
  const phase = opts.onPhase ?? (() => undefined);
  const size = positiveInt(opts.size, 512, '--size');
  const iterations = positiveInt(opts.iterations, 500, '--iters');
  const styleScale = opts.styleScale ?? 1;
  if (!(styleScale > 0)) throw new UserError(`--style-scale must be positive, got ${styleScale}`);
  if (opts.styles.length === 0) throw new UserError('at least one --style image is needed');
  const sizes = scaleSizes(size, opts.scales ?? 1, opts.startSize);
  const itersPerScale = scaleIterations(sizes.length, iterations, opts.scaleIterations);
  let blend: number[];
  try {
    blend = normaliseBlend(opts.styles.length, opts.blend);
  } catch (e) {
    throw new UserError(`--style-blend: ${(e as Error).message}`);
  }
  await checkWritablePath(opts.output);

  phase(`compiling ${opts.spec}`);
  const compiled = compileFile(opts.spec);
  if (!compiled.module) throw new UserError(formatDiagnostics(compiled.diagnostics, compiled.sources));
  const objective = withWeights(selectObjective(compiled.module.objectives, opts.objective, opts.lossNet), {
    content: opts.contentWeight,
    style: opts.styleWeight,
    tv: opts.tvWeight,
  });
  const net = compiled.module.networks.get(objective.lossNet);
  if (!net) throw new UserError(`objective ${objective.name} names the loss network ${objective.lossNet}, which the spec does not define`);
  const binding = net.weights;
  if (!binding) throw new UserError(`the loss network ${objective.lossNet} has no weights binding in the spec; pass --weights`);

  phase('reading images');
  const contentFull = await readImage(opts.content, { resize: { longSide: size } });
  const stylesFull = await Promise.all(opts.styles.map((p) => readImage(p, { resize: { longSide: Math.max(1, Math.round(size * styleScale)) } })));
  const runs: ScaleRun[] = [];
  let previous: RgbImage | undefined;
  for (const [k, long] of sizes.entries()) {
    const last = k === sizes.length - 1;
    const fit = (img: RgbImage, side: number): RgbImage => {
      const s = sizeForLongSide(img.width, img.height, side);
      return resizeImage(img, s.width, s.height);
    };
    const content = last ? contentFull : fit(contentFull, long);
    let styles = last ? stylesFull : stylesFull.map((s) => fit(s, Math.max(1, Math.round(long * styleScale))));
    if (opts.preserveColour === 'histogram') styles = styles.map((s) => matchColour(s, content));
    const init = previous
      ? resizeImage(previous, content.width, content.height)
      : await initialImage(opts.init ?? DEFAULT_INIT, content, styles[0]!, opts.seed ?? 0);
    if (itersPerScale[k] === 0) {
      previous = init;
      continue;
    }
    if (sizes.length > 1) phase(`scale ${k + 1}/${sizes.length}: ${content.width}x${content.height}`);
    const run = await runScale({ opts, objective, net: { graph: net.graph, specDir: net.specDir, binding }, content, styles, blend, init, iterations: itersPerScale[k]!, last, phase });
    runs.push(run);
    previous = run.result.image;
    if (run.result.status === 'diverged' || run.result.status === 'stopped') break;
  }
  const final = runs.at(-1)!;
  const result = final.result;
  const optimiseMs = runs.reduce((t, r) => t + r.optimiseMs, 0);
  const scales = runs.map((r) => ({ width: r.result.image.width, height: r.result.image.height, iterations: r.result.iterations, optimiseMs: r.optimiseMs, history: r.result.history }));
  const common = {
    objective: objective.name,
    lossNet: objective.lossNet,
    size: { width: contentFull.width, height: contentFull.height },
    snapshots: final.snapshots,
    optimiseMs,
    scales,
    iterations: runs.reduce((t, r) => t + r.result.iterations, 0),
    evaluations: runs.reduce((t, r) => t + r.result.evaluations, 0),
  };
  if (result.status === 'diverged' || result.image.width !== contentFull.width) return { ...result, ...common };
  const recoloured = opts.colour === 'style' ? matchPalette(result.image, stylesFull[0]!) : result.image;
  const image = opts.preserveColour === 'luminance' ? transferLuminance(recoloured, contentFull) : recoloured;
  await writeImage(opts.output, image);
  return { ...result, ...common, image };
}

interface ScaleRun {
  readonly result: GatysRunResult;
  readonly snapshots: readonly string[];
  readonly optimiseMs: number;
}

interface ScaleSetup {
  readonly opts: StylizeOptions;
  readonly objective: ObjectiveSpec;
  readonly net: { readonly graph: Graph; readonly specDir: string; readonly binding: WeightSource };
  readonly content: RgbImage;
  readonly styles: readonly RgbImage[];
  readonly blend: readonly number[];
  readonly init: RgbImage;
  readonly iterations: number;
  /** The finest scale: the one that writes snapshots. */
  readonly last: boolean;
  readonly phase: (what: string) => void;
}

/**
 * One scale: build the objective graphs at this size (on images padded by the reflected margin), compile,
 * compute the targets and optimise from `init`.
 */
async function runScale(s: ScaleSetup): Promise<ScaleRun> {
  const { opts, objective, content } = s;
  const margin = fitMargin(opts.margin ?? DEFAULT_MARGIN, content.width, content.height);
  const padded = reflectPad(content, margin);
  const styles = s.styles.map((st) => reflectPad(st, fitMargin(margin, st.width, st.height)));
  s.phase(`building the ${objective.name} objective on ${objective.lossNet} at ${content.width}x${content.height}`);
  const build = (style: RgbImage): ObjectiveGraphs => {
    try {
      return buildObjectiveGraphs(objective, s.net.graph, { size: { H: padded.height, W: padded.width }, styleSize: { H: style.height, W: style.width } });
    } catch (e) {
      if (e instanceof ShapeError)
        throw new UserError(`the images are too small for ${objective.lossNet} (output ${content.width}x${content.height}, style ${style.width}x${style.height}): ${e.message}; raise --size or --style-scale`);
      throw e;
    }
  };
  const prepared = await prepareStep(s, padded, styles, build);
  const paddedStep = prepared.step;
  const step: StepFn = async (x) => {
    const r = await paddedStep(reflectPad({ width: content.width, height: content.height, data: x }, margin).data);
    return { ...r, grad: foldPadGradient(r.grad, content.width, content.height, margin) };
  };
  try {
    s.phase(`optimising (${opts.optimizer ?? 'lbfgs'}, ${s.iterations} iterations)`);
    const snapshots: string[] = [];
    const t0 = Date.now();
    const result = await runGatys({
      init: s.init,
      step,
      iterations: s.iterations,
      optimizer: opts.optimizer ?? 'lbfgs',
      ...(opts.lr !== undefined && { lr: opts.lr }),
      ...(s.last && opts.snapshotEvery !== undefined && { snapshotEvery: opts.snapshotEvery }),
      onSnapshot: async (img, it) => {
        const p = snapshotPath(opts.output, it);
        await writeImage(p, opts.preserveColour === 'luminance' ? transferLuminance(img, content) : img);
        snapshots.push(p);
      },
      ...(opts.onProgress && { onProgress: opts.onProgress }),
      ...(opts.signal && { signal: opts.signal }),
      ...(prepared.advance && { afterIteration: prepared.advance }),
    });
    return { result, snapshots, optimiseMs: Date.now() - t0 };
  } finally {
    await prepared.dispose();
  }
}

interface PreparedStep {
  readonly step: StepFn;
  readonly advance?: () => void;
  dispose(): Promise<void>;
}

/** The tile side for this scale: `--tile`, or the largest that `--max-memory` allows; undefined: no tiling. */
function tileFor(s: ScaleSetup, padded: RgbImage): number | undefined {
  const { opts } = s;
  const longSide = Math.max(padded.width, padded.height);
  let tile = opts.tile;
  if (opts.maxMemoryGB !== undefined) {
    const budget = opts.maxMemoryGB * 2 ** 30;
    const e = chooseTile(s.net.graph, s.objective, padded.width, padded.height, budget, opts.optimizer ?? 'lbfgs');
    if (!e) throw new UserError(`--max-memory ${opts.maxMemoryGB}: even 64-pixel tiles of ${s.objective.lossNet} at ${padded.width}x${padded.height} need more (estimated)`);
    tile = Math.min(tile ?? e.tile, e.tile);
    s.phase(`--max-memory ${opts.maxMemoryGB} GiB: ${tile >= longSide ? 'no tiling needed' : `${tile}-pixel tiles`} (estimated peak ${(e.bytes / 2 ** 30).toFixed(2)} GiB)`);
  }
  return tile !== undefined && tile < longSide ? tile : undefined;
}

/** The step over the padded image: whole (engineWithTargets) or tiled (tiled-step.ts). */
async function prepareStep(s: ScaleSetup, padded: RgbImage, styles: readonly RgbImage[], build: (style: RgbImage) => ObjectiveGraphs): Promise<PreparedStep> {
  const { opts } = s;
  const backend = opts.backend ?? 'onnx';
  const engineOpts: BackendOptions = {
    ...(opts.threads !== undefined && { threads: opts.threads }),
    // The memory estimate does not model Winograd's transformed tiles: off under --max-memory unless asked for.
    ...(opts.maxMemoryGB !== undefined && { winograd: false }),
    ...(opts.winograd !== undefined && { winograd: opts.winograd }),
    ...(opts.device !== undefined && { device: opts.device }),
  };
  const loadWeights = (g: Graph): Promise<WeightMap> =>
    bindWeights(g, s.net.binding, { specDir: s.net.specDir, ...(opts.weights !== undefined && { pathOverride: opts.weights }) });
  const tile = tileFor(s, padded);
  if (tile !== undefined) {
    if (backend !== 'onnx') throw new UserError('--tile and --max-memory need the onnx backend');
    s.phase(`compiling tiles for ${backend}`);
    const t = await createTiledEngine({ lossNet: s.net.graph, objective: s.objective, loadWeights, content: padded, styles, blend: s.blend, tile, backendOptions: engineOpts });
    s.phase(`tiled: ${t.tiles} tiles of ${t.tileShape.width}x${t.tileShape.height} per iteration, the grid moving every iteration`);
    return { step: t.step, advance: t.advance, dispose: () => t.dispose() };
  }
  const graphs = build(styles[0]!);
  const { engine, step } = await engineWithTargets({
    graphs,
    build,
    loadWeights: () => loadWeights(graphs.step),
    backend,
    engineOpts,
    content: padded,
    styles,
    blend: s.blend,
    phase: s.phase,
  });
  return { step, dispose: () => engine.dispose() };
}

interface EngineSetup {
  readonly graphs: ObjectiveGraphs;
  /** The objective graphs for a style image of another shape. */
  readonly build: (style: RgbImage) => ObjectiveGraphs;
  readonly loadWeights: () => Promise<WeightMap>;
  readonly backend: GatysBackendName;
  readonly engineOpts: BackendOptions;
  readonly content: RgbImage;
  readonly styles: readonly RgbImage[];
  readonly blend: readonly number[];
  readonly phase: (what: string) => void;
}

/**
 * Load the loss network's weights, compile the engine, compute the content and (blended) style targets
 * and bind them. The WeightMap is local to this function: on ONNX Runtime the engine drops it once the
 * step model is compiled (ORT holds its own copy), so nothing keeps it alive through the optimisation
 * (52 MB for VGG-19 to relu5_1).
 */
async function engineWithTargets(s: EngineSetup): Promise<{ readonly engine: GatysEngine; readonly step: StepFn }> {
  const weights = await s.loadWeights();
  s.phase(`compiling for ${s.backend}`);
  const engine = await createGatysEngine(s.graphs, weights, s.backend, s.engineOpts);
  try {
    s.phase('computing targets');
    const contentTargets = await engine.contentTargets(asTensor(s.content));
    const perStyle: Record<string, HostTensor>[] = [];
    for (const style of s.styles) {
      if (style.width === s.styles[0]!.width && style.height === s.styles[0]!.height) perStyle.push(await engine.styleTargets(asTensor(style)));
      else {
        // A style image of another shape: its own style-target graph (Gram shapes do not depend on size).
        const e = await createGatysEngine(s.build(style), weights, s.backend);
        try {
          perStyle.push(await e.styleTargets(asTensor(style)));
        } finally {
          await e.dispose();
        }
      }
    }
    return { engine, step: engine.bindTargets({ ...contentTargets, ...blendTargets(perStyle, s.blend) }) };
  } catch (e) {
    await engine.dispose();
    throw e;
  }
}

async function initialImage(init: string, content: RgbImage, style: RgbImage, seed: number): Promise<RgbImage> {
  switch (init) {
    case 'noise':
      return noiseImage(content.width, content.height, seed);
    case 'content':
      return { ...content, data: Float32Array.from(content.data) };
    case 'palette':
      return matchPalette(content, resizeImage(style, content.width, content.height));
    case 'style':
      return resizeImage(style, content.width, content.height);
    default:
      return readImage(init, { resize: { width: content.width, height: content.height } });
  }
}
