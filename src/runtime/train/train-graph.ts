/**
 * The Johnson training step as one IR graph (Johnson, Alahi & Fei-Fei 2016, §3):
 *
 *   y = T(x)                       transformation network, trained
 *   L_content = Σ_j a_j ‖φ_j(y) − φ_j(x)‖² / (N C_j H_j W_j)       (per-element mean over the batch)
 *   L_style   = Σ_j b_j (1/N) Σ_n ‖G_j(y_n) − A_j‖²_F,  G = φφᵀ/(C H W)  (per-image mean)
 *   L_tv      = Σ (Δ_h y)² + (Δ_w y)², divided by the element count of y
 *   loss      = α L_content + β L_style + γ L_tv
 *
 * φ is the loss network, frozen: its parameters stay initializers. A_j are the style image's
 * Grams, computed once by `styleTargetGraph` and fed as inputs `style_target.<tap>` [1, C, C].
 * The gradient of `loss` w.r.t. every trainable parameter of T (norm scales and shifts included)
 * comes from the autodiff pass, and the Adam update (compiler/passes/adam-update.ts) is appended,
 * so one run does forward, backward and update. Outputs: `loss`, `loss:content`, `loss:style`,
 * `loss:tv` (weighted terms) and Adam's `new/…`, `new.m/…`, `new.v/…`.
 * `buildLossGraph` stops before autodiff: the forward loss alone, for backends with their own
 * autodiff (the tfjs step, tfjs-step.ts).
 */
import { GraphBuilder } from '../../compiler/ir/builder.ts';
import type { Graph, HostTensor, Value } from '../../compiler/ir/types.ts';
import { contentLoss, gram, styleLayerLoss, tvLoss } from '../../compiler/objective/terms.ts';
import type { TapWeight } from '../../compiler/objective/types.ts';
import { buildObjectiveGraphs } from '../../compiler/objective/build.ts';
import { selectOutputs } from '../../compiler/passes/prune.ts';
import { concreteShapeOf, specialize } from '../../compiler/passes/specialize.ts';
import { differentiate } from '../../compiler/passes/autodiff/index.ts';
import { appendAdamUpdate, type AdamHyper } from '../../compiler/passes/adam-update.ts';
import { paramsOf } from '../../compiler/ir/graph.ts';
import { inlineGraph } from './inline.ts';

export interface JohnsonLossConfig {
  readonly contentTaps: readonly TapWeight[];
  readonly styleTaps: readonly TapWeight[];
  readonly contentWeight: number; // α
  readonly styleWeight: number; // β
  readonly tvWeight: number; // γ
}

export const CONTENT_INPUT = 'content';
export const LOSS_OUTPUT = 'loss';
export const TERM_OUTPUTS = ['loss:content', 'loss:style', 'loss:tv'] as const;
export const styleTargetInput = (tap: string): string => `style_target.${tap}`;

/** The style-target feeds of a training graph (`styleTargetInput(tap)` -> Gram), checked against its shapes. */
export function styleTargetFeeds(shapes: ReadonlyMap<string, readonly number[]>, styleTargets: ReadonlyMap<string, HostTensor>): Record<string, HostTensor> {
  const feeds: Record<string, HostTensor> = {};
  for (const [tap, shape] of shapes) {
    const t = styleTargets.get(tap);
    if (!t) throw new Error(`no style target for tap ${tap}`);
    if (t.data.length !== shape.reduce((a, b) => a * b, 1)) throw new Error(`style target ${tap} has shape [${t.shape}], expected [${shape}]`);
    feeds[styleTargetInput(tap)] = { shape, data: t.data };
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

/** The style-target graph: style image [1, 3, h, w] -> `style:<tap>` Johnson Grams [1, C, C]. */
export function styleTargetGraph(lossNet: Graph, loss: JohnsonLossConfig, styleSize: { H: number; W: number }): Graph {
  const spec = { name: 'johnson-style', lossNet: 'loss', terms: [{ kind: 'style' as const, taps: loss.styleTaps, weight: 1, norm: 'johnson' as const }] };
  return buildObjectiveGraphs(spec, lossNet, { size: styleSize, styleSize }).targets.style;
}

export interface LossGraphOptions {
  /** The transformation network, one NCHW image input (RGB 0..255) and one image output. */
  readonly transformer: Graph;
  /** The loss network, one NCHW image input (RGB 0..255); its taps are named layers. */
  readonly lossNet: Graph;
  readonly loss: JohnsonLossConfig;
  readonly batch: number;
  readonly size: number;
}

export interface TrainGraphOptions extends LossGraphOptions {
  readonly adam: Omit<AdamHyper, 'lr'>;
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
  /** Style tap -> [1, C, C] shape of its target input. */
  readonly styleTargetShapes: ReadonlyMap<string, readonly number[]>;
}

export interface TrainGraph {
  readonly graph: Graph;
  /** Trainable parameters of the transformer, in graph order (now inputs of `graph`). */
  readonly params: readonly Value[];
  /** Frozen parameters (loss network, renamed `lossnet/<id>`; non-trainable statistics) still embedded as initializers. */
  readonly frozen: readonly Value[];
  /** Style tap -> [1, C, C] shape of its target input. */
  readonly styleTargetShapes: ReadonlyMap<string, readonly number[]>;
}

export function buildLossGraph(o: LossGraphOptions): LossGraph {
  const { batch: B, size: S, loss } = o;
  const t = specialiseImageNet(o.transformer, B, S, S);
  if (t.outputs.size !== 1) throw new Error(`the transformation network must have one output, got ${t.outputs.size}`);
  const net = specialiseImageNet(o.lossNet, B, S, S);
  const contentTaps = loss.contentTaps.map((c) => c.tap);
  const styleTaps = loss.styleTaps.map((c) => c.tap);
  for (const tap of [...contentTaps, ...styleTaps])
    if (!net.taps.has(tap)) throw new Error(`the loss network has no tap ${tap}; available: ${[...net.taps.keys()].join(', ')}`);

  const b = new GraphBuilder();
  const x = b.input(CONTENT_INPUT, [B, 3, S, S]);
  const tIn = inlineGraph(b, t, new Map([[t.inputs[0]!, x]]), '');
  const y = tIn.map.get([...t.outputs.values()][0]!)!;
  const lossInput = net.inputs[0]!;
  const onY = inlineGraph(b, selectOutputs(net, [...new Set([...contentTaps, ...styleTaps])]), new Map([[lossInput, y]]), 'phi_y/', LOSS_NET_PREFIX);
  const onX = inlineGraph(b, selectOutputs(net, contentTaps), new Map([[lossInput, x]]), 'phi_x/', LOSS_NET_PREFIX);

  const weighted = (parts: string[], name: string): string => parts.reduce((acc, p) => b.add('add', [acc, p], {}, {}, name));
  const content = weighted(
    loss.contentTaps.map(({ tap, weight }) => b.add('scale', [contentLoss(b, onY.tap(tap), onX.tap(tap), 'mean')], { value: weight * loss.contentWeight })),
    'loss_content',
  );
  const styleTargetShapes = new Map<string, number[]>();
  const style = weighted(
    loss.styleTaps.map(({ tap, weight }) => {
      const f = onY.tap(tap);
      const c = b.shape(f)[1] as number;
      styleTargetShapes.set(tap, [1, c, c]);
      const a = b.input(styleTargetInput(tap), [1, c, c]);
      const e = styleLayerLoss(b, gram(b, f, 'johnson'), a, 'johnson', b.shape(f));
      return b.add('scale', [e], { value: (weight * loss.styleWeight) / B });
    }),
    'loss_style',
  );
  const tv = b.add('scale', [tvLoss(b, y, 'mean')], { value: loss.tvWeight }, {}, 'loss_tv');
  const total = b.add('add', [b.add('add', [content, style], {}), tv], {}, {}, 'loss_total');
  b.output(LOSS_OUTPUT, total);
  b.output(TERM_OUTPUTS[0], content);
  b.output(TERM_OUTPUTS[1], style);
  b.output(TERM_OUTPUTS[2], tv);

  const fwd = b.build();
  const transformerParams = new Set(paramsOf(t).map((p) => p.id));
  const params = paramsOf(fwd).filter((p) => transformerParams.has(p.id) && p.trainable !== false && !p.id.startsWith(LOSS_NET_PREFIX));
  const frozen = paramsOf(fwd).filter((p) => !params.includes(p));
  return { graph: fwd, params, frozen, styleTargetShapes };
}

export function buildTrainGraph(o: TrainGraphOptions): TrainGraph {
  const { graph: fwd, params, frozen, styleTargetShapes } = buildLossGraph(o);
  const diff = differentiate(fwd, { loss: LOSS_OUTPUT, wrt: params.map((p) => p.id) });
  const grads = new Map(params.map((p) => [p.id, diff.outputs.get(`grad:${p.id}`)!]));
  const withAdam = appendAdamUpdate(diff, { grads, hyper: o.adam });
  const outputs = new Map([...withAdam.outputs].filter(([name]) => !name.startsWith('grad:')));
  return { graph: selectOutputs(withAdam, outputs), params, frozen, styleTargetShapes };
}
