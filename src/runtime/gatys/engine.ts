/**
 * Compile the objective graphs on a backend into a GatysEngine.
 *
 * - onnx: the step graph is differentiated by the compiler (`differentiate`, adding
 *   `grad:<image>`), so one ONNX Runtime call returns the loss, every term and the gradient.
 * - tfjs: the gradient comes from tfjs's own autodiff (`tfjsValueAndGrads`) over the forward step
 *   graph; the per-term values come from a second, forward-only run of the same graph (tfjs is the
 *   slow, independent cross-check path, so clarity beats the extra forward pass).
 */
import { LOSS, type ObjectiveGraphs } from '../../compiler/objective/build.ts';
import { finishTargets, refreshTargets } from '../../compiler/objective/targets.ts';
import type { HostTensor } from '../../compiler/ir/types.ts';
import { concreteShapeOf } from '../../compiler/passes/specialize.ts';
import { differentiate, defaultGradName } from '../../compiler/passes/autodiff/index.ts';
import { foldInputNormalisation } from '../../backends/onnx/optimize/index.ts';
import type { BackendOptions, CompiledModel, WeightMap } from '../../backends/types.ts';
import { collectGarbage } from '../../backends/collect-garbage.ts';
import type { GatysEngine, StepFn } from './types.ts';
import { estimateGraphBytes } from '../limits.ts';

export type GatysBackendName = 'onnx' | 'tfjs';

/**
 * The step's Winograd default on the CPU (BackendOptions.winograd; `opts.winograd` overrides it): on.
 * The step runs hundreds of times, and VGG-19's 128- and 256-channel 3×3 convs on large maps are most of
 * its time; F(4×4, 3×3) cuts their multiply-adds by 4×. Since compile collects its derived constants
 * (collectGarbage) the rewrite's extra memory keeps the step's peak RSS below PyTorch's at 256² and 512²
 * (docs/benchmarks.md, "Winograd"). Off on the GPU: not measured there.
 */
export const STEP_WINOGRAD = true;

/**
 * Working bytes (gatysStepBytes) under which the CPU step keeps ORT's NCHWc layout. The layout keeps the activations
 * the backward pass reads in two layouts, which the liveness estimate does not count: on the VGG-19 steps that lifted
 * the peak to PyTorch's for a few per cent of speed, so larger steps go without; on the SqueezeNet steps, well under
 * this bound, the step was faster for a few MB (docs/benchmarks.md, "NCHWc in the Gatys step" and "SqueezeNet's
 * overlapping pools, and other tries on the small Gatys step").
 */
export const NCHWC_MAX_STEP_BYTES = 128 * 2 ** 20;

/**
 * Whether a step of `bytes` working bytes (gatysStepBytes) may compile with NCHWc on this device (see above); the
 * backend still compiles a step with Winograd convs without it (backends/onnx/backend.ts, winogradGradient).
 */
export const stepNchwc = (bytes: number, device: BackendOptions['device']): boolean => (device ?? 'cpu') === 'cpu' && bytes < NCHWC_MAX_STEP_BYTES;

function termsOf(graphs: ObjectiveGraphs, out: Readonly<Record<string, HostTensor>>): Record<string, number> {
  const terms: Record<string, number> = {};
  for (const name of graphs.termOutputs) terms[name.replace(/^loss:/, '')] = out[name]!.data[0]!;
  return terms;
}

/**
 * The step's feeds for its targets and masks. Refreshed targets (TermRefresh) are absent from
 * `targets` until the first `refresh`; masks are keyed by their input id (ObjectiveGraphs.masks).
 */
export function targetFeeds(graphs: ObjectiveGraphs, targets: Readonly<Record<string, HostTensor>>, masks: Readonly<Record<string, HostTensor>>): Record<string, HostTensor> {
  const feeds: Record<string, HostTensor> = {};
  const refreshed = new Set(graphs.terms.filter((t) => t.kind.refresh).map((t) => `${t.stem}:`));
  for (const [key, id] of graphs.targetInputs) {
    const t = targets[key];
    if (t) feeds[id] = t;
    else if (![...refreshed].some((p) => key.startsWith(p))) throw new Error(`Gatys engine: no target ${key}`);
  }
  for (const m of graphs.masks) {
    const t = masks[m.id];
    if (!t) throw new Error(`Gatys engine: no mask for ${m.source} ${m.index} at ${m.shape[2]}x${m.shape[3]}`);
    feeds[m.id] = t;
  }
  return feeds;
}

/**
 * Memory: the step model is compiled on the first `bindTargets` and kept; each target computation
 * compiles its graph, runs it once and releases it, so at most one of the three models (each with its
 * own copy of the loss network's weights in the runtime) is resident at a time. On ONNX Runtime the
 * engine lets go of `weights` once the step model is compiled (ORT holds its own copy), so a caller that
 * drops its reference too frees them before the step's first run allocates its activations: the targets
 * must be computed before `bindTargets` (afterwards contentTargets/styleTargets throw).
 */
/**
 * Estimated working bytes of the ONNX step (forward, and the image gradient) by liveness, for the memory
 * check that `stylize` makes before loading weights (runtime/limits.ts).
 */
export function gatysStepBytes(graphs: ObjectiveGraphs): number {
  return estimateGraphBytes(differentiate(foldInputNormalisation(graphs.step), { loss: LOSS, wrt: [graphs.imageInput] }));
}

export async function createGatysEngine(graphs: ObjectiveGraphs, initialWeights: WeightMap, backend: GatysBackendName, opts: BackendOptions = {}): Promise<GatysEngine> {
  let held: WeightMap | undefined = initialWeights;
  const weightsOf = (): WeightMap => {
    if (!held) throw new Error('Gatys engine: the weights were released when the step was compiled; compute the targets before bindTargets');
    return held;
  };
  const image = graphs.imageInput;
  const imageShape = concreteShapeOf(graphs.step, image);
  let compile: (g: ObjectiveGraphs['step']) => Promise<CompiledModel>;
  /** For the target graphs, each run once. */
  let compileOnce: (g: ObjectiveGraphs['step']) => Promise<CompiledModel>;
  let makeStep: (model: CompiledModel, feeds: Record<string, HostTensor>) => StepFn;
  let stepGraph: ObjectiveGraphs['step'];
  if (backend === 'onnx') {
    const { OnnxBackend } = await import('../../backends/onnx/index.ts');
    const b = new OnnxBackend();
    // No NCHWc layout for the target graphs, nor for a step that is not small (stepNchwc): the step then keeps the
    // forward activations its backward pass reads in one layout (the VGG-19 steps' peak memory; BackendOptions.nchwc).
    // Winograd for the step on the CPU unless the caller says otherwise (STEP_WINOGRAD).
    // ReLU masks as dy · Cast(y > 0) on the CPU, Where on a GPU (BackendOptions.reluGrad): the float masks cost a little
    // peak memory, still under PyTorch's, for a faster step (docs/benchmarks.md, "SqueezeNet's overlapping pools, and
    // other tries on the small Gatys step").
    compile = async (g) => {
      // A small step leaves NCHWc to the backend, which turns it off where the step has Winograd convs (winogradGradient).
      const layout = stepNchwc(estimateGraphBytes(g), opts.device) ? {} : { nchwc: false };
      const gpu = opts.device === 'gpu';
      const model = await b.compile(g, weightsOf(), { ...layout, reluGrad: gpu ? 'where' : 'mul', winograd: !gpu && STEP_WINOGRAD, ...opts });
      held = undefined;
      collectGarbage();
      return model;
    };
    // Never Winograd for a graph run once: its kernel transform (4× the weights, computed on the host) costs
    // more than one run saves, and it raised the job's peak memory before the step was even compiled.
    compileOnce = (g) => b.compile(g, weightsOf(), { nchwc: false, ...opts, winograd: false });
    const gradName = defaultGradName(image);
    // Normalisation folded into the first conv before differentiating, so the backward pass skips it too.
    stepGraph = differentiate(foldInputNormalisation(graphs.step), { loss: LOSS, wrt: [image] });
    makeStep = (model, feeds) => async (x) => {
      const out = await model.run({ ...feeds, [image]: { shape: imageShape, data: x } });
      return { loss: out[LOSS]!.data[0]!, terms: termsOf(graphs, out), grad: out[gradName]!.data };
    };
  } else {
    const { TfjsBackend, tfjsValueAndGrads } = await import('../../backends/tfjs/index.ts');
    const b = new TfjsBackend();
    // tfjs reads the weights on every step: the engine keeps them. Through a local of this block, not the
    // parameter: a parameter captured by a closure lives in the function's context, which the onnx branch's
    // closures would share, and that would keep the weights alive there too.
    const weights = initialWeights;
    compile = (g) => b.compile(g, weights, opts);
    compileOnce = compile;
    stepGraph = graphs.step;
    makeStep = (forward, feeds) => async (x) => {
      const all = { ...feeds, [image]: { shape: imageShape, data: x } };
      const vg = await tfjsValueAndGrads(graphs.step, weights, all, LOSS, [image]);
      const out = await forward.run(all);
      return { loss: vg.value, terms: termsOf(graphs, out), grad: vg.grads[image]!.data };
    };
  }
  let step: Promise<CompiledModel> | undefined;
  let features: Promise<CompiledModel> | undefined;
  /** The bound step's feeds and targets: `refresh` updates the feeds in place. */
  let bound: { feeds: Record<string, HostTensor>; targets: Readonly<Record<string, HostTensor>> } | undefined;
  const once = async (g: ObjectiveGraphs['step'], img: HostTensor): Promise<Record<string, HostTensor>> => {
    if (g.outputs.size === 0) return {};
    const m = await compileOnce(g);
    try {
      return await m.run({ [image]: img });
    } finally {
      await m.dispose();
    }
  };
  return {
    contentTargets: async (img) => finishTargets(graphs, 'content', await once(graphs.targets.content, img)),
    styleTargets: async (img) => finishTargets(graphs, 'style', await once(graphs.targets.style, img)),
    bindTargets: (targets, masks = {}) => {
      const feeds = targetFeeds(graphs, targets, masks);
      bound = { feeds, targets };
      // Before the step: compiling the step lets go of the weights, and the refresh graph runs all along.
      if (graphs.targets.features) features ??= compileOnce(graphs.targets.features);
      step ??= compile(stepGraph);
      const model = step;
      let fn: StepFn | undefined;
      return async (x) => {
        fn ??= makeStep(await model, feeds);
        return fn(x);
      };
    },
    async refresh(x) {
      if (!features || !bound) return;
      const out = await (await features).run({ [image]: { shape: imageShape, data: x } });
      for (const [key, t] of Object.entries(refreshTargets(graphs, out, bound.targets))) bound.feeds[graphs.targetInputs.get(key)!] = t;
    },
    async dispose() {
      if (step) await (await step).dispose();
      if (features) await (await features).dispose();
      step = features = undefined;
    },
  };
}
