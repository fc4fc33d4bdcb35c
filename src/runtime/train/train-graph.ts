/**
 * The Johnson training step as one IR graph (Johnson, Alahi & Fei-Fei 2016, §3):
 *
 *   y = T(x)                       transformation network, trained
 *   loss = Σ_terms weight · term(φ(y); targets)     the objective's terms (compiler/objective)
 *
 * The objective is an ObjectiveSpec, the same one `stc stylize` compiles: its terms are assembled by
 * the same term modules (compiler/objective/assemble.ts). Johnson's own loss is the objective
 * `johnsonObjective` builds: content `mean` ‖φ_j(y) − φ_j(x)‖² / (N C_j H_j W_j), style `johnson`
 * (1/N) Σ_n ‖G_j(y_n) − A_j‖²_F with G = φφᵀ/(C H W), TV `mean`. Every term is a mean over the batch.
 *
 * φ is the loss network, frozen: its parameters stay initializers. Targets of terms that read the
 * content image are computed in the graph from φ(x) (the batch is its own content); targets of terms
 * that read the style image (Grams, means and deviations) are computed once by `styleTargetGraph` and
 * fed as inputs `style_target.<key>` (keys as in the objective compiler: `style:relu1_2`).
 * The gradient of `loss` w.r.t. every trainable parameter of T (norm scales and shifts included)
 * comes from the autodiff pass, and the Adam update (compiler/passes/adam-update.ts) is appended,
 * so one run does forward, backward and update. Outputs: `loss`, `loss:<term>` (weighted terms, listed
 * in `termOutputs`) and Adam's `new/…`, `new.m/…`, `new.v/…`.
 * `buildLossGraph` stops before autodiff: the forward loss alone, for backends with their own
 * autodiff (the tfjs step, tfjs-step.ts).
 */
import { GraphBuilder } from '../../compiler/ir/builder.ts';
import type { Graph, HostTensor, Value } from '../../compiler/ir/types.ts';
import type { ObjectiveSpec, TapWeight } from '../../compiler/objective/types.ts';
import { buildTargetGraph, gramTarget, specialiseLossNet, tapsOf, tapValue } from '../../compiler/objective/build.ts';
import { assembleLoss, nameTerms, type NamedTerm } from '../../compiler/objective/assemble.ts';
import { termRegistry, type TermRegistry } from '../../compiler/objective/registry.ts';
import { UserError } from '../../util/errors.ts';
import { selectOutputs } from '../../compiler/passes/prune.ts';
import { concreteShapeOf, specialize } from '../../compiler/passes/specialize.ts';
import { differentiate } from '../../compiler/passes/autodiff/index.ts';
import { appendAdamUpdate, type AdamHyper } from '../../compiler/passes/adam-update.ts';
import { paramsOf } from '../../compiler/ir/graph.ts';
import { inlineGraph } from './inline.ts';

/** Johnson's loss in the shape of the old CLI flags: content and style taps with α, β, γ. */
export interface JohnsonLossConfig {
  readonly contentTaps: readonly TapWeight[];
  readonly styleTaps: readonly TapWeight[];
  readonly contentWeight: number; // α
  readonly styleWeight: number; // β
  readonly tvWeight: number; // γ
}

/** Johnson et al.'s objective: content `mean`, style `johnson` Grams, TV `mean`. */
export function johnsonObjective(loss: JohnsonLossConfig, lossNet = 'loss'): ObjectiveSpec {
  return {
    name: 'johnson',
    lossNet,
    terms: [
      { kind: 'content', weight: loss.contentWeight, taps: loss.contentTaps, attrs: { norm: 'mean' } },
      { kind: 'style', weight: loss.styleWeight, taps: loss.styleTaps, attrs: { norm: 'johnson' } },
      { kind: 'tv', weight: loss.tvWeight, taps: [], attrs: { norm: 'mean' } },
    ],
  };
}

/** An objective, or Johnson's loss given by its taps and weights. */
export type TrainObjective = ObjectiveSpec | JohnsonLossConfig;

export function asObjective(o: TrainObjective): ObjectiveSpec {
  return 'terms' in o ? o : johnsonObjective(o);
}

export const CONTENT_INPUT = 'content';
export const LOSS_OUTPUT = 'loss';
export const styleTargetInput = (key: string): string => `style_target.${key}`;

/** The style-target feeds of a training graph (`styleTargetInput(key)` -> value), checked against its shapes. */
export function styleTargetFeeds(shapes: ReadonlyMap<string, readonly number[]>, styleTargets: ReadonlyMap<string, HostTensor>): Record<string, HostTensor> {
  const feeds: Record<string, HostTensor> = {};
  for (const [key, shape] of shapes) {
    const t = styleTargets.get(key);
    if (!t) throw new Error(`no style target ${key}`);
    if (t.data.length !== shape.reduce((a, b) => a * b, 1)) throw new Error(`style target ${key} has shape [${t.shape}], expected [${shape}]`);
    feeds[styleTargetInput(key)] = { shape, data: t.data };
  }
  return feeds;
}
/** Loss-network parameters are renamed under this prefix inside the training graph (frozen, shared by both passes). */
export const LOSS_NET_PREFIX = 'lossnet/';

/** The loss network's weights keyed as the training graph names them. */
export function lossNetWeights(weights: ReadonlyMap<string, HostTensor>): Map<string, HostTensor> {
  return new Map([...weights].map(([id, t]) => [`${LOSS_NET_PREFIX}${id}`, t]));
}

/** Bind the N, H, W size variables of a network whose single input is an NCHW image. */
export function specialiseImageNet(net: Graph, n: number, h: number, w: number): Graph {
  if (net.inputs.length !== 1) throw new Error(`expected a network with one image input, got ${net.inputs.length} inputs`);
  const shape = net.values.get(net.inputs[0]!)!.shape;
  if (shape.length !== 4) throw new Error(`the network input must be NCHW, got rank ${shape.length}`);
  const env: Record<string, number> = {};
  [n, undefined, h, w].forEach((v, i) => {
    const d = shape[i]!;
    if (v !== undefined && typeof d !== 'number' && d.kind === 'var') env[d.name] = v;
  });
  const g = specialize(net, env);
  const s = concreteShapeOf(g, net.inputs[0]!);
  if (s[0] !== n || s[2] !== h || s[3] !== w) throw new Error(`the network input is fixed at [${s}], cannot run it at [${n}, ${s[1]}, ${h}, ${w}]`);
  return g;
}

/** The objective's terms, checked for training: no term may refresh its targets or read a mask. */
function trainingTerms(objective: TrainObjective, registry: TermRegistry): NamedTerm[] {
  const terms = nameTerms(asObjective(objective), registry);
  for (const t of terms) {
    if (t.kind.refresh) throw new UserError(`the ${t.term.kind} term recomputes its targets from the current image: Gatys only, it cannot train a network`);
    if (t.kind.target?.finish) throw new UserError(`the ${t.term.kind} term post-processes its targets on the host: Gatys only`);
    if (t.term.attrs['mask'] === true) throw new UserError(`${t.term.kind}(mask: true): masks are a Gatys feature; training has no per-image masks`);
  }
  return terms;
}

/**
 * The style-target graph: style image [1, 3, h, w] -> the targets of the terms that read the style
 * image, `<stem>:<name>` (`style:relu1_2` Grams...). `trainSize` is the training crop (Gatys-normalised
 * Grams are rescaled to its positions); default the style size.
 */
export function styleTargetGraph(lossNet: Graph, loss: TrainObjective, styleSize: { H: number; W: number }, trainSize = styleSize, registry: TermRegistry = termRegistry()): Graph {
  const terms = trainingTerms(loss, registry);
  const taps = tapsOf(terms);
  const pruned = selectOutputs(lossNet, new Map(taps.map((tap) => [tap, tapValue(lossNet, tap)])));
  const out = specialiseLossNet(pruned, trainSize);
  return buildTargetGraph(terms, 'style', specialiseLossNet(pruned, styleSize), (tap) => concreteShapeOf(out, tapValue(out, tap)));
}

export interface LossGraphOptions {
  /** The transformation network, one NCHW image input (RGB 0..255) and one image output. */
  readonly transformer: Graph;
  /** The loss network, one NCHW image input (RGB 0..255); its taps are named layers. */
  readonly lossNet: Graph;
  readonly loss: TrainObjective;
  readonly batch: number;
  readonly size: number;
  /** Term kinds; default the process-wide registry. */
  readonly registry?: TermRegistry;
}

export interface TrainGraphOptions extends LossGraphOptions {
  readonly adam: Omit<AdamHyper, 'lr'>;
  /** One Adam update over all parameters concatenated (AdamUpdateOptions.batched): for GPU steps. */
  readonly batchedAdam?: boolean;
}

/**
 * The forward training loss alone: `loss` and the weighted terms, with the transformer's trainable
 * parameters still parameters (initializers). No gradients, no optimiser: a backend with its own
 * autodiff (tfjs) differentiates this graph itself; `buildTrainGraph` extends it for ONNX.
 */
export interface LossGraph {
  readonly graph: Graph;
  /** Trainable parameters of the transformer, in graph order (`param` values of `graph`). */
  readonly params: readonly Value[];
  /** Frozen parameters (loss network, renamed `lossnet/<id>`; non-trainable statistics). */
  readonly frozen: readonly Value[];
  /** Style target key (`style:relu1_2`) -> the shape of its input (`styleTargetInput(key)`). */
  readonly styleTargetShapes: ReadonlyMap<string, readonly number[]>;
  /** The weighted term outputs (`loss:content`...), in the objective's order. */
  readonly termOutputs: readonly string[];
}

export interface TrainGraph {
  readonly graph: Graph;
  /** Trainable parameters of the transformer, in graph order (now inputs of `graph`). */
  readonly params: readonly Value[];
  /** Frozen parameters (loss network, renamed `lossnet/<id>`; non-trainable statistics) still embedded as initializers. */
  readonly frozen: readonly Value[];
  /** Style target key (`style:relu1_2`) -> the shape of its input (`styleTargetInput(key)`). */
  readonly styleTargetShapes: ReadonlyMap<string, readonly number[]>;
  /** The weighted term outputs (`loss:content`...), in the objective's order. */
  readonly termOutputs: readonly string[];
}

export function buildLossGraph(o: LossGraphOptions): LossGraph {
  const { batch: B, size: S } = o;
  const terms = trainingTerms(o.loss, o.registry ?? termRegistry());
  const t = specialiseImageNet(o.transformer, B, S, S);
  if (t.outputs.size !== 1) throw new Error(`the transformation network must have one output, got ${t.outputs.size}`);
  const taps = tapsOf(terms);
  const contentTaps = tapsOf(terms, (x) => x.kind.target?.image === 'content');
  const pruned = selectOutputs(o.lossNet, new Map(taps.map((tap) => [tap, tapValue(o.lossNet, tap)])));
  const net = specialiseImageNet(pruned, B, S, S);
  const outputShape = (tap: string): readonly number[] => concreteShapeOf(net, tapValue(net, tap));
  const styleShapes = buildTargetGraph(terms, 'style', specialiseLossNet(pruned, { H: S, W: S }), outputShape);

  const b = new GraphBuilder();
  const x = b.input(CONTENT_INPUT, [B, 3, S, S]);
  const tIn = inlineGraph(b, t, new Map([[t.inputs[0]!, x]]), '');
  const y = tIn.map.get([...t.outputs.values()][0]!)!;
  const lossInput = net.inputs[0]!;
  const onY = inlineGraph(b, selectOutputs(net, taps), new Map([[lossInput, y]]), 'phi_y/', LOSS_NET_PREFIX);
  const onX = inlineGraph(b, selectOutputs(net, contentTaps), new Map([[lossInput, x]]), 'phi_x/', LOSS_NET_PREFIX);

  // Content-image targets in the graph, from φ(x); style targets as inputs.
  const contentTargets = new Map<NamedTerm, ReadonlyMap<string, string>>();
  for (const n of terms)
    if (n.kind.target?.image === 'content') contentTargets.set(n, n.kind.target.build({ b, feature: (tap) => onX.tap(tap), outputShape }, n.term));
  const styleTargetShapes = new Map<string, number[]>();
  const styleInputs = new Map<string, string>();
  const { total, terms: outputs } = assembleLoss(b, terms, {
    b,
    image: y,
    batch: B,
    styles: 1,
    feature: (tap) => onY.tap(tap),
    target(n, name) {
      const inGraph = contentTargets.get(n)?.get(name);
      if (inGraph !== undefined) return inGraph;
      const key = `${n.stem}:${name}`;
      const v = styleShapes.outputs.get(key);
      if (v === undefined) throw new Error(`term ${n.stem} reads a target ${name} it does not build`);
      const shape = concreteShapeOf(styleShapes, v);
      if (!styleInputs.has(key)) {
        styleTargetShapes.set(key, shape);
        styleInputs.set(key, b.input(styleTargetInput(key), shape, undefined, gramTarget(n, styleShapes, v)));
      }
      return styleInputs.get(key)!;
    },
    mask: () => {
      throw new UserError('masks are a Gatys feature');
    },
  });
  b.output(LOSS_OUTPUT, total);
  for (const [name, v] of outputs) b.output(name, v);

  const fwd = b.build();
  const transformerParams = new Set(paramsOf(t).map((p) => p.id));
  const params = paramsOf(fwd).filter((p) => transformerParams.has(p.id) && p.trainable !== false && !p.id.startsWith(LOSS_NET_PREFIX));
  const frozen = paramsOf(fwd).filter((p) => !params.includes(p));
  return { graph: fwd, params, frozen, styleTargetShapes, termOutputs: [...outputs.keys()] };
}

export function buildTrainGraph(o: TrainGraphOptions): TrainGraph {
  const { graph: fwd, params, frozen, styleTargetShapes, termOutputs } = buildLossGraph(o);
  const diff = differentiate(fwd, { loss: LOSS_OUTPUT, wrt: params.map((p) => p.id) });
  const grads = new Map(params.map((p) => [p.id, diff.outputs.get(`grad:${p.id}`)!]));
  const withAdam = appendAdamUpdate(diff, { grads, hyper: o.adam, ...(o.batchedAdam && { batched: true }) });
  const outputs = new Map([...withAdam.outputs].filter(([name]) => !name.startsWith('grad:')));
  return { graph: selectOutputs(withAdam, outputs), params, frozen, styleTargetShapes, termOutputs };
}
