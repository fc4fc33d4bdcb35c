/**
 * A device-resident Gatys loop with Adam (Kingma & Ba 2015; the in-graph update of compiler/passes/adam-update.ts):
 * one run computes the loss, the image gradient and the Adam update of the image, so the image and its two moments
 * stay on the device (BackendOptions.residentOutputs) between steps. Adam's bias corrections come from device-side
 * state too (adamStateGraph), so per step nothing goes up and only the loss scalars come back; the image crosses only
 * when `image()` is read (a host sync, for a snapshot or the result). L-BFGS needs the gradient and its history on the
 * host (runtime/optim/lbfgs.ts), so Adam is the optimiser that runs device-resident.
 *
 * Divergence without the gradient on the host: the reported loss is `L + Σ(g − g)`, which equals L exactly when
 * every gradient entry is finite and is NaN when one is not, so a non-finite gradient (which the host loop catches
 * with checkFinite) shows in the 4 bytes that come back anyway. The image each step started from is kept on the
 * device until the step's loss is known: a non-finite loss leaves the last good image (the one the host loop keeps,
 * runtime/gatys/run.ts) one download away, at the cost of one image-sized buffer, with no extra copy per step.
 */
import { LOSS, type ObjectiveGraphs } from '../../compiler/objective/build.ts';
import type { Graph, HostTensor, Node } from '../../compiler/ir/types.ts';
import { GraphBuilder } from '../../compiler/ir/builder.ts';
import { concreteShapeOf } from '../../compiler/passes/specialize.ts';
import { differentiate, defaultGradName } from '../../compiler/passes/autodiff/index.ts';
import { ADAM_D1, ADAM_D2, adamStateGraph, appendAdamUpdate, mName, newMName, newParamName, newVName, vName, type AdamHyper } from '../../compiler/passes/adam-update.ts';
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

/** How the resident step is built: the image's bounds and the reflected margin added in the graph. */
export interface ResidentStepOptions {
  /** Clip the updated image to these bounds (projected Adam, as runtime/optim/adam.ts clips after each step). */
  readonly bounds?: PixelBounds;
  /**
   * The step graph's image is the optimised image padded by this many reflected pixels (margin.ts); the loop then
   * optimises the unpadded image, padded in the graph (ONNX Pad, reflect) with the gradient folded back (padGrad),
   * as stylize's host step pads and folds on the host. Default 0.
   */
  readonly margin?: number;
}

/**
 * `g` with its input `input` (NCHW) computed by a reflect Pad of `margin` pixels from a new, smaller input: returns
 * the graph and the new input's id. The old input becomes that Pad's output, so every consumer is unchanged.
 */
export function padInputInGraph(g: Graph, input: string, margin: number): { graph: Graph; input: string } {
  const v = g.values.get(input);
  if (!v || v.kind !== 'input') throw new Error(`padInputInGraph: ${input} is not an input`);
  const [n, c, h, w] = v.shape;
  if (typeof h !== 'number' || typeof w !== 'number') throw new Error(`padInputInGraph: ${input} needs a concrete shape`);
  const inner = `${input}.unpadded`;
  if (g.values.has(inner)) throw new Error(`padInputInGraph: ${inner} exists`);
  const values = new Map(g.values);
  values.set(input, { ...v, kind: 'node' });
  values.set(inner, { id: inner, shape: [n!, c!, h - 2 * margin, w - 2 * margin], dtype: 'float32', kind: 'input' });
  const pad: Node = { id: `pad_${input}`, op: 'pad', inputs: [inner], outputs: [input], attrs: { mode: 'reflect', pads: [margin, margin, margin, margin], value: 0 } };
  return { graph: { ...g, values, nodes: [pad, ...g.nodes], inputs: g.inputs.map((i) => (i === input ? inner : i)) }, input: inner };
}

/** The optimised image's input id in gatysAdamGraph's graph: the step's image, or its unpadded source with a margin. */
export function residentImageInput(graphs: ObjectiveGraphs, margin = 0): string {
  return margin > 0 ? `${graphs.imageInput}.unpadded` : graphs.imageInput;
}

/**
 * The Gatys step graph extended by the image's Adam update (its bias corrections from device-side state,
 * adamStateGraph), with the gradient no longer an output and the loss output made non-finite by a non-finite
 * gradient (see the module comment); with `bounds`, the updated image is clipped to them; with `margin`, the
 * optimised image is the unpadded one (ResidentStepOptions.margin).
 */
export function gatysAdamGraph(graphs: ObjectiveGraphs, hyper: AdamHyper, step: ResidentStepOptions = {}): Graph {
  const padded = graphs.imageInput;
  const diff = differentiate(foldInputNormalisation(graphs.step), { loss: LOSS, wrt: [padded] });
  const margin = step.margin ?? 0;
  const { graph, input: image } = margin > 0 ? padInputInGraph(diff, padded, margin) : { graph: diff, input: padded };
  const b0 = GraphBuilder.from(graph);
  const paddedGrad = graph.outputs.get(defaultGradName(padded))!;
  const grad = margin > 0 ? b0.add('padGrad', [paddedGrad], { mode: 'reflect', pads: [margin, margin, margin, margin], value: 0 }) : paddedGrad;
  const rank = b0.shape(grad).length;
  const nanIfGradNot = b0.add('reduceSum', [b0.add('sub', [grad, grad], {})], { axes: Array.from({ length: rank }, (_, i) => i), keepDims: false });
  b0.output(LOSS, b0.add('add', [graph.outputs.get(LOSS)!, nanIfGradNot], {}));
  const b = GraphBuilder.from(appendAdamUpdate(b0.build(), { grads: new Map([[image, grad]]), hyper }));
  if (step.bounds) b.output(newParamName(image), b.add('clip', [b.build().outputs.get(newParamName(image))!], { min: step.bounds.lower, max: step.bounds.upper }));
  const g = b.build();
  const outputs = new Map(g.outputs);
  outputs.delete(defaultGradName(padded));
  return adamStateGraph({ ...g, outputs }, hyper);
}

interface State {
  readonly image: ResidentTensor;
  readonly m: ResidentTensor;
  readonly v: ResidentTensor;
  /** Adam's step state (ADAM_D1, ADAM_D2). */
  readonly d1: ResidentTensor;
  readonly d2: ResidentTensor;
  /** The image the last step started from (and computed its loss at). */
  readonly before?: ResidentTensor;
}

export class ResidentGatysAdam {
  private state: State | undefined;

  private constructor(
    private readonly graphs: ObjectiveGraphs,
    private readonly image_: string,
    /** The optimised image's shape (without the margin). */
    readonly imageShape: readonly number[],
    private readonly model: OnnxModel,
    private readonly copier: DeviceCopier,
    private readonly fixed: Record<string, ResidentTensor>,
  ) {}

  /** Compile the step and upload the bound feeds (targets, masks: by input id, see engine.ts targetFeeds) once. */
  static async create(
    graphs: ObjectiveGraphs,
    weights: WeightMap,
    feeds: Readonly<Record<string, HostTensor>>,
    hyper: AdamHyper,
    opts: BackendOptions = {},
    step: ResidentStepOptions = {},
  ): Promise<ResidentGatysAdam> {
    const image = residentImageInput(graphs, step.margin);
    const kept = [newParamName(image), newMName(image), newVName(image), newParamName(ADAM_D1), newParamName(ADAM_D2)];
    const model = await new OnnxBackend().compile(gatysAdamGraph(graphs, hyper, step), weights, { nchwc: false, reluGrad: 'where', winograd: false, ...opts, residentOutputs: kept });
    const copier = deviceCopier(opts, model.transfer);
    const fixed: Record<string, ResidentTensor> = {};
    for (const [k, t] of Object.entries(feeds)) fixed[k] = await copier.upload(t);
    const [n, c, h, w] = concreteShapeOf(graphs.step, graphs.imageInput);
    const m = step.margin ?? 0;
    return new ResidentGatysAdam(graphs, image, [n!, c!, h! - 2 * m, w! - 2 * m], model, copier, fixed);
  }

  /** Bytes crossed so far (the step's runs and this loop's uploads and downloads). */
  get transfer(): TransferCounter {
    return this.model.transfer;
  }

  /** Bind or replace feeds by input id (refreshed targets, absent until their first refresh), uploading them. */
  async setFeeds(feeds: Readonly<Record<string, HostTensor>>): Promise<void> {
    for (const [k, t] of Object.entries(feeds)) {
      const old = this.fixed[k];
      this.fixed[k] = await this.copier.upload(t);
      old?.ort.dispose();
    }
  }

  /** Start from an image (planar RGB 0..255): uploads it and zero moments; restarts Adam's step count. */
  async start(x: Float32Array): Promise<void> {
    const shape = this.imageShape;
    const zeros = (): HostTensor => ({ shape, data: new Float32Array(x.length) });
    this.release(this.state);
    const d0 = (): HostTensor => ({ shape: [1], data: Float32Array.of(0) });
    this.state = {
      image: await this.copier.upload({ shape, data: x }),
      m: await this.copier.upload(zeros()),
      v: await this.copier.upload(zeros()),
      d1: await this.copier.upload(d0()),
      d2: await this.copier.upload(d0()),
    };
  }

  /** One Adam step; returns the loss at the image before the update (NaN when the gradient was not finite). */
  async step(): Promise<GatysStepLoss> {
    if (!this.state) throw new Error('ResidentGatysAdam: step before start');
    const image = this.image_;
    const { host, resident } = await this.model.runResident({
      ...this.fixed,
      [image]: this.state.image,
      [mName(image)]: this.state.m,
      [vName(image)]: this.state.v,
      [ADAM_D1]: this.state.d1,
      [ADAM_D2]: this.state.d2,
    });
    const old = this.state;
    this.state = {
      image: resident[newParamName(image)]!,
      m: resident[newMName(image)]!,
      v: resident[newVName(image)]!,
      d1: resident[newParamName(ADAM_D1)]!,
      d2: resident[newParamName(ADAM_D2)]!,
      before: old.image,
    };
    this.release({ ...old, image: undefined });
    const terms: Record<string, number> = {};
    for (const name of this.graphs.termOutputs) terms[name.replace(/^loss:/, '')] = host[name]!.data[0]!;
    return { loss: host[LOSS]!.data[0]!, terms };
  }

  /** The current image on the host (a host sync). */
  async image(): Promise<Float32Array> {
    if (!this.state) throw new Error('ResidentGatysAdam: image before start');
    return (await this.copier.download(this.state.image)).data;
  }

  /** The image the last step started from, on the host (a host sync): the last good image when its loss was not finite. */
  async imageBefore(): Promise<Float32Array> {
    if (!this.state?.before) throw new Error('ResidentGatysAdam: imageBefore before a step');
    return (await this.copier.download(this.state.before)).data;
  }

  /**
   * Free the device buffers of a state the loop no longer reads (each run's outputs are new buffers, so without this
   * they would wait for the garbage collector: three image-sized buffers per step). The device runs commands in
   * order, so a buffer freed here is not reused before the work that reads it.
   */
  private release(s: Partial<State> | undefined): void {
    for (const t of [s?.image, s?.m, s?.v, s?.d1, s?.d2, s?.before]) t?.ort.dispose();
  }

  async dispose(): Promise<void> {
    this.release(this.state);
    for (const t of Object.values(this.fixed)) t.ort.dispose();
    this.state = undefined;
    await this.copier.dispose();
    await this.model.dispose();
  }
}
