/**
 * What `stylize` runs with `device: 'gpu'` and Adam: the device-resident loop (resident.ts) over a whole-image
 * objective, with the reflected margin added in the graph, its targets and masks uploaded once, and the refreshed
 * targets (histogram loss, `every: k`) recomputed from the synced image and uploaded at each refresh.
 */
import type { ObjectiveGraphs } from '../../compiler/objective/build.ts';
import { refreshTargets } from '../../compiler/objective/targets.ts';
import type { HostTensor } from '../../compiler/ir/types.ts';
import type { AdamHyper } from '../../compiler/passes/adam-update.ts';
import { concreteShapeOf } from '../../compiler/passes/specialize.ts';
import type { BackendOptions, CompiledModel, WeightMap } from '../../backends/types.ts';
import { targetFeeds } from './engine.ts';
import { ResidentGatysAdam } from './resident.ts';
import { PIXEL_BOUNDS } from './run.ts';

/** runtime/optim/adam.ts's defaults, which the host loop runs with. */
export const GATYS_ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 } as const;

export interface ResidentStepSetup {
  readonly graphs: ObjectiveGraphs;
  readonly weights: WeightMap;
  /** Content and combined style targets, by key (as GatysEngine.bindTargets takes them). */
  readonly targets: Readonly<Record<string, HostTensor>>;
  /** Mask feeds by input id. */
  readonly masks: Readonly<Record<string, HostTensor>>;
  readonly backendOptions: BackendOptions;
  readonly lr: number;
  /** The reflected margin the step's image carries (margin.ts), added in the graph. */
  readonly margin: number;
}

export interface ResidentStep {
  readonly loop: ResidentGatysAdam;
  /** Recompute the refreshed targets from the padded image and upload them (as GatysEngine.refresh). */
  readonly refresh?: { readonly every: number; readonly update: (padded: Float32Array) => Promise<void> };
  dispose(): Promise<void>;
}

export async function createResidentStep(s: ResidentStepSetup): Promise<ResidentStep> {
  const { graphs } = s;
  const hyper: AdamHyper = { lr: s.lr, ...GATYS_ADAM };
  const { OnnxBackend } = await import('../../backends/onnx/index.ts');
  const featuresGraph = graphs.targets.features;
  // The refresh graph runs on the host image each `every` iterations, with host feeds: an ordinary model.
  const features: CompiledModel | undefined =
    featuresGraph && graphs.refreshEvery !== undefined ? await new OnnxBackend().compile(featuresGraph, s.weights, { nchwc: false, ...s.backendOptions, winograd: false }) : undefined;
  try {
    const feeds = targetFeeds(graphs, s.targets, s.masks);
    const loop = await ResidentGatysAdam.create(graphs, s.weights, feeds, hyper, s.backendOptions, { bounds: PIXEL_BOUNDS, margin: s.margin });
    const imageShape = concreteShapeOf(graphs.step, graphs.imageInput);
    const update = async (padded: Float32Array): Promise<void> => {
      const out = await features!.run({ [graphs.imageInput]: { shape: imageShape, data: padded } });
      const fresh: Record<string, HostTensor> = {};
      for (const [key, t] of Object.entries(refreshTargets(graphs, out, s.targets))) fresh[graphs.targetInputs.get(key)!] = t;
      await loop.setFeeds(fresh);
    };
    return {
      loop,
      ...(features && { refresh: { every: graphs.refreshEvery!, update } }),
      async dispose() {
        await loop.dispose();
        await features?.dispose();
      },
    };
  } catch (e) {
    await features?.dispose();
    throw e;
  }
}
