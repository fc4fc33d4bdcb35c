/**
 * A device-resident Gatys loop with Adam (Kingma & Ba 2015; the in-graph update of compiler/passes/adam-update.ts):
 * one run computes the loss, the image gradient and the Adam update of the image, so the image and its two moments
 * stay on the device (BackendOptions.residentOutputs) between steps. Per step only the two bias-correction scalars
 * (α_t, r_t: 8 bytes) go up and the loss scalars come back; the image crosses only when `image()` is read (a host
 * sync, for a snapshot or the result). L-BFGS needs the gradient and its history on the host (runtime/optim/lbfgs.ts),
 * so Adam is the optimiser that runs device-resident.
 */
import { LOSS, type ObjectiveGraphs } from '../../compiler/objective/build.ts';
import type { HostTensor } from '../../compiler/ir/types.ts';
import { GraphBuilder } from '../../compiler/ir/builder.ts';
import { concreteShapeOf } from '../../compiler/passes/specialize.ts';
import { differentiate, defaultGradName } from '../../compiler/passes/autodiff/index.ts';
import { ADAM_ALPHA, ADAM_R, adamScalars, appendAdamUpdate, mName, newMName, newParamName, newVName, vName, type AdamHyper } from '../../compiler/passes/adam-update.ts';
import { foldInputNormalisation } from '../../backends/onnx/optimize/index.ts';
import { OnnxBackend, deviceCopier, type DeviceCopier, type OnnxModel, type ResidentTensor, type TransferCounter } from '../../backends/onnx/index.ts';
import type { BackendOptions, WeightMap } from '../../backends/types.ts';

export interface GatysStepLoss {
  readonly loss: number;
  /** Each term's weighted contribution, by name without the `loss:` prefix. */
  readonly terms: Readonly<Record<string, number>>;
}

/** Box bounds of the image (pixel units), as the host optimisers' `bounds` (runtime/gatys/run.ts PIXEL_BOUNDS). */
export interface PixelBounds {
  readonly lower: number;
  readonly upper: number;
}

/**
 * The Gatys step graph extended by the image's Adam update, with the gradient no longer an output; with `bounds`,
 * the updated image is clipped to them (projected Adam, as runtime/optim/adam.ts clips after each step).
 */
export function gatysAdamGraph(graphs: ObjectiveGraphs, hyper: Omit<AdamHyper, 'lr'>, bounds?: PixelBounds): ObjectiveGraphs['step'] {
  const image = graphs.imageInput;
  const gradName = defaultGradName(image);
  const step = differentiate(foldInputNormalisation(graphs.step), { loss: LOSS, wrt: [image] });
  const b = GraphBuilder.from(appendAdamUpdate(step, { grads: new Map([[image, step.outputs.get(gradName)!]]), hyper }));
  if (bounds) b.output(newParamName(image), b.add('clip', [b.build().outputs.get(newParamName(image))!], { min: bounds.lower, max: bounds.upper }));
  const g = b.build();
  const outputs = new Map(g.outputs);
  outputs.delete(gradName);
  return { ...g, outputs };
}

export class ResidentGatysAdam {
  private state: { image: ResidentTensor; m: ResidentTensor; v: ResidentTensor } | undefined;
  private t = 0;

  private constructor(
    private readonly graphs: ObjectiveGraphs,
    private readonly model: OnnxModel,
    private readonly copier: DeviceCopier,
    private readonly fixed: Record<string, ResidentTensor>,
    private readonly hyper: AdamHyper,
  ) {}

  /** Compile the step and upload the bound feeds (targets, masks: by input id, see engine.ts targetFeeds) once. */
  static async create(
    graphs: ObjectiveGraphs,
    weights: WeightMap,
    feeds: Readonly<Record<string, HostTensor>>,
    hyper: AdamHyper,
    opts: BackendOptions = {},
    bounds?: PixelBounds,
  ): Promise<ResidentGatysAdam> {
    const image = graphs.imageInput;
    const kept = [newParamName(image), newMName(image), newVName(image)];
    const model = await new OnnxBackend().compile(gatysAdamGraph(graphs, hyper, bounds), weights, { nchwc: false, reluGrad: 'where', winograd: false, ...opts, residentOutputs: kept });
    const copier = deviceCopier(opts, model.transfer);
    const fixed: Record<string, ResidentTensor> = {};
    for (const [k, t] of Object.entries(feeds)) fixed[k] = await copier.upload(t);
    return new ResidentGatysAdam(graphs, model, copier, fixed, hyper);
  }

  /** Bytes crossed so far (the step's runs and this loop's uploads and downloads). */
  get transfer(): TransferCounter {
    return this.model.transfer;
  }

  /** Start from an image (planar RGB 0..255): uploads it and zero moments; restarts Adam's step count. */
  async start(x: Float32Array): Promise<void> {
    const shape = concreteShapeOf(this.graphs.step, this.graphs.imageInput);
    const zeros = (): HostTensor => ({ shape, data: new Float32Array(x.length) });
    this.state = { image: await this.copier.upload({ shape, data: x }), m: await this.copier.upload(zeros()), v: await this.copier.upload(zeros()) };
    this.t = 0;
  }

  /** One Adam step; returns the loss at the image before the update. */
  async step(): Promise<GatysStepLoss> {
    if (!this.state) throw new Error('ResidentGatysAdam: step before start');
    const image = this.graphs.imageInput;
    const { alpha, r } = adamScalars(this.hyper, ++this.t);
    const { host, resident } = await this.model.runResident({
      ...this.fixed,
      [image]: this.state.image,
      [mName(image)]: this.state.m,
      [vName(image)]: this.state.v,
      [ADAM_ALPHA]: { shape: [1], data: Float32Array.of(alpha) },
      [ADAM_R]: { shape: [1], data: Float32Array.of(r) },
    });
    this.state = { image: resident[newParamName(image)]!, m: resident[newMName(image)]!, v: resident[newVName(image)]! };
    const terms: Record<string, number> = {};
    for (const name of this.graphs.termOutputs) terms[name.replace(/^loss:/, '')] = host[name]!.data[0]!;
    return { loss: host[LOSS]!.data[0]!, terms };
  }

  /** The current image on the host (a host sync). */
  async image(): Promise<Float32Array> {
    if (!this.state) throw new Error('ResidentGatysAdam: image before start');
    return (await this.copier.download(this.state.image)).data;
  }

  async dispose(): Promise<void> {
    await this.copier.dispose();
    await this.model.dispose();
  }
}
