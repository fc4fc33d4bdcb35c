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
import { compileFile, formatDiagnostics, type NetworkDef } from '../../compiler/frontend.ts';
import { normaliseBlend } from '../../compiler/objective/blend.ts';
import { buildObjectiveGraphs, type ObjectiveGraphs } from '../../compiler/objective/build.ts';
import { combineStyleTargets } from '../../compiler/objective/targets.ts';
import { withOverrides, type WeightOverrides } from '../../compiler/objective/overrides.ts';
import { atScale } from '../../compiler/objective/scale-weights.ts';
import { downsampleMask, type Mask } from '../../compiler/objective/masks.ts';
import type { ObjectiveSpec } from '../../compiler/objective/types.ts';
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
import { objectiveForWeights } from './partial-weights.ts';
import { GATYS_ADAM_LR, runGatys, type GatysRunResult, type LossRecord, type OptimizerName } from './run.ts';
import { runGatysResident } from './resident-run.ts';
import { createResidentStep, type ResidentStep } from './resident-step.ts';
import { fitMargin, foldPadGradient, reflectPad } from './margin.ts';
import { matchPalette } from './palette.ts';
import { scaleIterations, scaleSizes, upsampleWithDetail } from './scales.ts';
import { planStep } from './step-plan.ts';
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
  /** Term weight overrides by flag name (TermKind.override: `mean-std-weight`...); win over the three above. */
  readonly weightOverrides?: WeightOverrides;
  /** Content mask image (for `content(mask: true)`): white keeps the content, black releases it. */
  readonly contentMask?: string;
  /** One mask image per style image (for `style(mask: true)`): white where that style goes. */
  readonly styleMasks?: readonly string[];
  readonly seed?: number;
  /** `noise`, `content`, `palette` (the content in the first style's palette, palette.ts), `style` or an image path. Default DEFAULT_INIT. */
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
  /**
   * The estimated memory budget in bytes (--max-memory). A whole-image step estimated over it runs in the
   * largest tiles whose tiled run fits (tile-memory.ts; onnx, objectives of content, style and tv terms), and
   * is refused (UserError naming --size and --max-memory) when none does; an explicit `tile` over it shrinks.
   */
  readonly maxMemory?: number;
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
  return withOverrides(spec, { 'content-weight': w.content, 'style-weight': w.style, 'tv-weight': w.tv });
}

/** Compile the spec and pick the objective (with the weight overrides) and its loss network. */
async function loadObjective(opts: StylizeOptions, phase: (what: string) => void): Promise<{ objective: ObjectiveSpec; net: NetworkDef }> {
  const compiled = compileFile(opts.spec);
  if (!compiled.module) throw new UserError(formatDiagnostics(compiled.diagnostics, compiled.sources));
  // A partial pretrained file serves only some objectives: pick one it serves (and say so), or name what it lacks.
  const selected = await objectiveForWeights(selectObjective(compiled.module.objectives, opts.objective, opts.lossNet), compiled.module.objectives, compiled.module.networks, {
    ...(opts.weights !== undefined && { weights: opts.weights }),
    objectiveNamed: opts.objective !== undefined,
    phase,
  });
  const objective = withOverrides(selected, {
    'content-weight': opts.contentWeight,
    'style-weight': opts.styleWeight,
    'tv-weight': opts.tvWeight,
    ...opts.weightOverrides,
  });
  const net = compiled.module.networks.get(objective.lossNet);
  if (!net) throw new UserError(`objective ${objective.name} names the loss network ${objective.lossNet}, which the spec does not define`);
  return { objective, net };
}

/**
 * A mask image as one channel in 0..1 (the mean of its RGB), resized to the output size and padded by the
 * reflected margin like the optimised image (margin.ts), so it lines up with the step's positions.
 */
async function readMask(path: string, size: { width: number; height: number }, margin: number): Promise<Mask> {
  const img = reflectPad(await readImage(path, { resize: size }), margin);
  const n = img.width * img.height;
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = (img.data[i]! + img.data[n + i]! + img.data[2 * n + i]!) / (3 * 255);
  return { width: img.width, height: img.height, data };
}

/** The step's mask feeds (ObjectiveGraphs.masks), each mask downsampled to its tap's resolution. */
async function maskFeeds(graphs: ObjectiveGraphs, opts: StylizeOptions, size: { width: number; height: number }, margin: number): Promise<Record<string, HostTensor>> {
  const styleMasks = opts.styleMasks ?? [];
  const needStyle = graphs.masks.some((m) => m.source === 'style');
  const needContent = graphs.masks.some((m) => m.source === 'content');
  if (styleMasks.length && !needStyle) throw new UserError('--style-mask: the objective has no masked style term (style(mask: true))');
  if (opts.contentMask !== undefined && !needContent) throw new UserError('--content-mask: the objective has no masked content term (content(mask: true))');
  if (needStyle && styleMasks.length !== opts.styles.length)
    throw new UserError(`the objective's masked style term needs one --style-mask per --style: ${styleMasks.length} for ${opts.styles.length}`);
  if (needContent && opts.contentMask === undefined) throw new UserError("the objective's masked content term needs --content-mask");
  const read = await Promise.all([...styleMasks, ...(opts.contentMask !== undefined ? [opts.contentMask] : [])].map((p) => readMask(p, { width: size.width, height: size.height }, margin)));
  const feeds: Record<string, HostTensor> = {};
  for (const m of graphs.masks) feeds[m.id] = downsampleMask(m.source === 'style' ? read[m.index]! : read[styleMasks.length]!, m.shape[2]!, m.shape[3]!);
  return feeds;
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
  if (opts.device === 'gpu' && (opts.optimizer ?? 'lbfgs') === 'lbfgs')
    phase('L-BFGS keeps its history and line search on the host: the image and its gradient cross to the GPU and back every evaluation (--optimizer adam keeps them on the GPU)');

  phase(`compiling ${opts.spec}`);
  const { objective, net } = await loadObjective(opts, phase);
  const binding = net.weights;
  if (!binding) throw new UserError(`the loss network ${objective.lossNet} has no weights binding in the spec; pass --weights`);

  phase('reading images');
  const contentFull = await readImage(opts.content, { resize: { longSide: size } });
  const stylesFull = await Promise.all(opts.styles.map((p) => readImage(p, { resize: { longSide: Math.max(1, Math.round(size * styleScale)) } })));
  const runs: ScaleRun[] = [];
  let previous: RgbImage | undefined;
  // The last L-BFGS step's size at the previous scale: the first step of the next (upsampled) start (scales.ts).
  let previousMove: number | undefined;
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
      ? upsampleWithDetail(previous, content)
      : await initialImage(opts.init ?? DEFAULT_INIT, content, styles[0]!, opts.seed ?? 0);
    if (itersPerScale[k] === 0) {
      previous = init;
      continue;
    }
    if (sizes.length > 1) phase(`scale ${k + 1}/${sizes.length}: ${content.width}x${content.height}`);
    // Extensive terms (content, TV) weigh less against the style at fewer pixels: keep the output size's balance.
    const areaRatio = (contentFull.width * contentFull.height) / (content.width * content.height);
    const run = await runScale({
      ...{ opts, objective: atScale(objective, areaRatio), net: { graph: net.graph, specDir: net.specDir, binding }, content, styles, blend, init, iterations: itersPerScale[k]!, last, phase },
      ...(previous && previousMove !== undefined && { firstMove: previousMove }),
    });
    runs.push(run);
    previous = run.result.image;
    previousMove = run.result.lastMove;
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
  /** L-BFGS's first trial move (GatysRunOptions.firstMove): the previous scale's last step, for a warm start. */
  readonly firstMove?: number;
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
      return buildObjectiveGraphs(objective, s.net.graph, { size: { H: padded.height, W: padded.width }, styleSize: { H: style.height, W: style.width }, styles: styles.length });
    } catch (e) {
      if (e instanceof ShapeError)
        throw new UserError(`the images are too small for ${objective.lossNet} (output ${content.width}x${content.height}, style ${style.width}x${style.height}): ${e.message}; raise --size or --style-scale`);
      throw e;
    }
  };
  const prepared = await prepareStep(s, margin, padded, styles, build);
  const padImage = (x: Float32Array): Float32Array => reflectPad({ width: content.width, height: content.height, data: x }, margin).data;
  try {
    s.phase(`optimising (${opts.optimizer ?? 'lbfgs'}, ${s.iterations} iterations${prepared.resident ? ', image and moments resident on the device' : ''})`);
    const snapshots: string[] = [];
    const t0 = Date.now();
    const common = {
      init: s.init,
      iterations: s.iterations,
      ...(s.last && opts.snapshotEvery !== undefined && { snapshotEvery: opts.snapshotEvery }),
      onSnapshot: async (img: RgbImage, it: number) => {
        const p = snapshotPath(opts.output, it);
        await writeImage(p, opts.preserveColour === 'luminance' ? transferLuminance(img, content) : img);
        snapshots.push(p);
      },
      ...(opts.onProgress && { onProgress: opts.onProgress }),
      ...(opts.signal && { signal: opts.signal }),
      ...(prepared.refresh && { refresh: { every: prepared.refresh.every, update: (x: Float32Array) => prepared.refresh!.update(padImage(x)) } }),
    };
    const result = prepared.resident
      ? await runGatysResident({ ...common, loop: prepared.resident })
      : await runGatys({
          ...common,
          step: hostStep(prepared.step!, content, margin, padImage),
          optimizer: opts.optimizer ?? 'lbfgs',
          ...(opts.lr !== undefined && { lr: opts.lr }),
          ...(s.firstMove !== undefined && { firstMove: s.firstMove }),
          ...(prepared.advance && { afterIteration: prepared.advance }),
        });
    return { result, snapshots, optimiseMs: Date.now() - t0 };
  } finally {
    await prepared.dispose();
  }
}

/** The step over the unpadded image: pad on the host, fold the padded gradient back (margin.ts). */
function hostStep(paddedStep: StepFn, content: RgbImage, margin: number, padImage: (x: Float32Array) => Float32Array): StepFn {
  return async (x) => {
    const r = await paddedStep(padImage(x));
    return { ...r, grad: foldPadGradient(r.grad, content.width, content.height, margin) };
  };
}

interface PreparedStep {
  /** The host step over the padded image; absent when the loop runs device-resident (`resident`). */
  readonly step?: StepFn;
  /** The device-resident Adam loop (resident-step.ts), for `device: 'gpu'` with Adam on a whole-image step. */
  readonly resident?: ResidentStep['loop'];
  readonly advance?: () => void;
  /** Targets recomputed from the (padded) image every `every` iterations (GatysEngine.refresh). */
  readonly refresh?: { readonly every: number; readonly update: (padded: Float32Array) => Promise<void> };
  dispose(): Promise<void>;
}

/** The step over the padded image: whole (engineWithTargets) or tiled (tiled-step.ts), as step-plan.ts decides. */
async function prepareStep(s: ScaleSetup, margin: number, padded: RgbImage, styles: readonly RgbImage[], build: (style: RgbImage) => ObjectiveGraphs): Promise<PreparedStep> {
  const { opts } = s;
  const backend = opts.backend ?? 'onnx';
  const plan = planStep({
    lossNet: s.net.graph,
    objective: s.objective,
    padded,
    content: s.content,
    backend,
    optimizer: opts.optimizer ?? 'lbfgs',
    ...(opts.tile !== undefined && { tile: opts.tile }),
    ...(opts.maxMemory !== undefined && { maxMemory: opts.maxMemory }),
    build: () => build(styles[0]!),
    phase: s.phase,
  });
  const engineOpts: BackendOptions = {
    ...(opts.threads !== undefined && { threads: opts.threads }),
    // The tile memory estimate does not model Winograd's transformed tiles: off for budgeted tiles unless asked for.
    ...(plan.kind === 'tiled' && plan.budgeted && { winograd: false }),
    ...(opts.winograd !== undefined && { winograd: opts.winograd }),
    ...(opts.device !== undefined && { device: opts.device }),
  };
  const loadWeights = (g: Graph): Promise<WeightMap> =>
    bindWeights(g, s.net.binding, { specDir: s.net.specDir, onNote: s.phase, ...(opts.weights !== undefined && { pathOverride: opts.weights }) });
  if (plan.kind === 'tiled') {
    if (opts.device === 'gpu' && opts.optimizer === 'adam') s.phase('tiled: each tile step runs on the GPU, the image and Adam stay on the host');
    // Tiles run no masked term (tile-objective.ts), so masks given to one are a mistake, as for maskFeeds.
    if ((opts.styleMasks?.length ?? 0) > 0 || opts.contentMask !== undefined) throw new UserError('--style-mask / --content-mask: a tiled run has no masked term');
    s.phase(`compiling tiles for ${backend}`);
    const t = await createTiledEngine({ lossNet: s.net.graph, objective: s.objective, loadWeights, content: padded, styles, blend: s.blend, tile: plan.tile, backendOptions: engineOpts });
    s.phase(`tiled: ${t.tiles} tiles of ${t.tileShape.width}x${t.tileShape.height} per iteration, the grid moving every iteration`);
    return { step: t.step, advance: t.advance, dispose: () => t.dispose() };
  }
  const { graphs } = plan;
  const optimizer = opts.optimizer ?? 'lbfgs';
  if (opts.device === 'gpu' && backend === 'onnx' && optimizer === 'adam') return residentWithTargets(s, graphs, engineOpts, padded, styles, build, margin, loadWeights);
  const { engine, step } = await engineWithTargets({
    graphs,
    build,
    loadWeights: () => loadWeights(graphs.step),
    backend,
    engineOpts,
    content: padded,
    styles,
    blend: s.blend,
    masks: await maskFeeds(graphs, opts, s.content, margin),
    phase: s.phase,
  });
  return {
    step,
    ...(graphs.refreshEvery !== undefined && { refresh: { every: graphs.refreshEvery, update: (x: Float32Array) => engine.refresh(x) } }),
    dispose: () => engine.dispose(),
  };
}

/** The device-resident Adam loop (resident-step.ts): the engine computes the targets, then is released. */
async function residentWithTargets(
  s: ScaleSetup,
  graphs: ObjectiveGraphs,
  engineOpts: BackendOptions,
  padded: RgbImage,
  styles: readonly RgbImage[],
  build: (style: RgbImage) => ObjectiveGraphs,
  margin: number,
  loadWeights: (g: Graph) => Promise<WeightMap>,
): Promise<PreparedStep> {
  const weights = await loadWeights(graphs.step);
  const targets = await targetsOnce({ graphs, build, weights, engineOpts, content: padded, styles, blend: s.blend, phase: s.phase });
  s.phase('compiling the GPU-resident Adam step');
  const r = await createResidentStep({
    graphs,
    weights,
    targets,
    masks: await maskFeeds(graphs, s.opts, s.content, margin),
    backendOptions: engineOpts,
    lr: s.opts.lr ?? GATYS_ADAM_LR,
    margin,
  });
  return { resident: r.loop, ...(r.refresh && { refresh: r.refresh }), dispose: () => r.dispose() };
}

/** The content and blended style targets, from an engine compiled for them alone and released afterwards. */
async function targetsOnce(s: Omit<EngineSetup, 'loadWeights' | 'backend' | 'masks'> & { readonly weights: WeightMap }): Promise<Record<string, HostTensor>> {
  s.phase('compiling for onnx');
  const engine = await createGatysEngine(s.graphs, s.weights, 'onnx', s.engineOpts);
  try {
    s.phase('computing targets');
    return await targetsOf(engine, { ...s, backend: 'onnx' }, s.weights);
  } finally {
    await engine.dispose();
  }
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
  /** Mask feeds by input id. */
  readonly masks: Readonly<Record<string, HostTensor>>;
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
    return { engine, step: engine.bindTargets(await targetsOf(engine, s, weights), s.masks) };
  } catch (e) {
    await engine.dispose();
    throw e;
  }
}

/** The content targets and the style targets blended over the style images (by key, as bindTargets takes them). */
async function targetsOf(
  engine: GatysEngine,
  s: Pick<EngineSetup, 'graphs' | 'build' | 'backend' | 'content' | 'styles' | 'blend'>,
  weights: WeightMap,
): Promise<Record<string, HostTensor>> {
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
  return { ...contentTargets, ...combineStyleTargets(s.graphs, perStyle, s.blend) };
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
