/**
 * The objective compiler: an ObjectiveSpec plus its loss network become three IR graphs.
 *
 * - `targets.content`: image → `content:<tap>` features of the content image, at `size`.
 * - `targets.style`:   image → `style:<tap>` Gram matrices of a style image, at `styleSize`.
 * - `step`: inputs the image x (`imageInput`), one content-target input per content tap and one
 *   Gram-target input per style tap (`contentInputs`, `styleInputs`); outputs `loss` and, per term,
 *   `loss:<kind>` (its weighted contribution, so the term outputs sum to `loss`). The autodiff pass
 *   adds `grad:<imageInput>`.
 *
 * The loss network is specialised at the requested sizes and pruned to the taps the terms use
 * (tap pruning: asking only for relu3_1 never computes past it).
 *
 * Several style images: the targets are computed once per style image by `targets.style` and
 * blended in TypeScript (blend.ts), A_l = Σ_k b_k A_l^(k) with Σ b_k = 1. Blending the Gram
 * matrices (not the losses) matches the blended statistics, as in Gatys et al.'s and Johnson's
 * multi-style implementations, and keeps one step graph whatever the number of styles.
 *
 * Gatys Grams are unnormalised, so they scale with the number of positions M = H·W. When the style
 * image is a different size from the output (`--style-scale`), the style target graph multiplies
 * each Gram by M_output / M_style so that the targets are those of a style image of the output's
 * size with the same feature statistics. Johnson Grams are normalised by C·H·W and need no rescaling.
 */
import { GraphBuilder } from '../ir/builder.ts';
import type { Graph } from '../ir/types.ts';
import { selectOutputs } from '../passes/prune.ts';
import { concreteShapeOf, specialize } from '../passes/specialize.ts';
import { contentLoss, gram, styleLayerLoss, tvLoss } from './terms.ts';
import type { GramNorm, LossTerm, ObjectiveSpec } from './types.ts';

export interface ImageSize {
  readonly H: number;
  readonly W: number;
}

export interface ObjectiveBuildOptions {
  /** Output (and content) image size. */
  readonly size: ImageSize;
  /** Style image size; default `size`. */
  readonly styleSize?: ImageSize;
}

export interface ObjectiveGraphs {
  readonly targets: { readonly content: Graph; readonly style: Graph };
  readonly step: Graph;
  /** Value id of the image input of every graph (the loss network's input). */
  readonly imageInput: string;
  /** Step-graph input ids: content tap -> input carrying that tap's target features. */
  readonly contentInputs: ReadonlyMap<string, string>;
  /** Step-graph input ids: style tap -> input carrying that tap's target Gram. */
  readonly styleInputs: ReadonlyMap<string, string>;
  /** The per-term output names of the step graph (`loss:content`, ...), in spec order. */
  readonly termOutputs: readonly string[];
}

/** Output names used by the graphs. */
export const contentTarget = (tap: string): string => `content:${tap}`;
export const styleTarget = (tap: string): string => `style:${tap}`;
export const LOSS = 'loss';

export class ObjectiveError extends Error {
  override readonly name = 'ObjectiveError';
}

/** Specialise a loss network's image input [N, C, H, W] to N = 1 and the given size. */
export function specialiseLossNet(net: Graph, size: ImageSize): Graph {
  const input = imageInputOf(net);
  const shape = net.values.get(input)!.shape;
  if (shape.length !== 4) throw new ObjectiveError(`the loss network's input ${input} must be NCHW, got rank ${shape.length}`);
  const env: Record<string, number> = {};
  const bind = (d: (typeof shape)[number], v: number): void => {
    if (typeof d !== 'number' && d.kind === 'var') env[d.name] = v;
  };
  bind(shape[0]!, 1);
  bind(shape[2]!, size.H);
  bind(shape[3]!, size.W);
  const g = specialize(net, env);
  const s = concreteShapeOf(g, input);
  if (s[0] !== 1 || s[2] !== size.H || s[3] !== size.W)
    throw new ObjectiveError(`the loss network's input is fixed at [${s.join(', ')}], cannot run it at 1x${s[1]}x${size.H}x${size.W}`);
  return g;
}

function imageInputOf(net: Graph): string {
  if (net.inputs.length !== 1) throw new ObjectiveError(`a loss network must have exactly one input (the image), got ${net.inputs.length}`);
  return net.inputs[0]!;
}

function termName(t: LossTerm, all: readonly LossTerm[]): string {
  const same = all.filter((u) => u.kind === t.kind);
  return same.length === 1 ? `loss:${t.kind}` : `loss:${t.kind}${same.indexOf(t) + 1}`;
}

function tapValue(net: Graph, tap: string): string {
  const id = net.taps.get(tap);
  if (id === undefined)
    throw new ObjectiveError(`the loss network has no tap ${tap}; available taps: ${[...net.taps.keys()].join(', ') || '(none)'}`);
  return id;
}

/** One Gram normalisation per style tap (the target graph computes one Gram per tap). */
function styleNorms(spec: ObjectiveSpec): Map<string, GramNorm> {
  const norms = new Map<string, GramNorm>();
  for (const t of spec.terms)
    if (t.kind === 'style')
      for (const { tap } of t.taps) {
        const prev = norms.get(tap);
        if (prev !== undefined && prev !== t.norm) throw new ObjectiveError(`style tap ${tap} is used with both ${prev} and ${t.norm} Gram normalisation`);
        norms.set(tap, t.norm);
      }
  return norms;
}

export function buildObjectiveGraphs(spec: ObjectiveSpec, lossNet: Graph, opts: ObjectiveBuildOptions): ObjectiveGraphs {
  const imageInput = imageInputOf(lossNet);
  const contentTaps = [...new Set(spec.terms.flatMap((t) => (t.kind === 'content' ? t.taps.map((w) => w.tap) : [])))];
  const norms = styleNorms(spec);
  const styleTaps = [...norms.keys()];
  // Prune before specialising: layers past the deepest tap are never computed, so they need not
  // be valid at small sizes either.
  const used = new Map([...contentTaps, ...styleTaps].map((tap) => [tap, tapValue(lossNet, tap)]));
  const pruned = selectOutputs(lossNet, used);
  const net = specialiseLossNet(pruned, opts.size);
  const styleNet = opts.styleSize ? specialiseLossNet(pruned, opts.styleSize) : net;

  // Content targets: the pruned network's tap features.
  const content = selectOutputs(net, new Map(contentTaps.map((tap) => [contentTarget(tap), tapValue(net, tap)])));

  // Style targets: Grams of the pruned network's taps, rescaled to the output's M (see above).
  const sb = GraphBuilder.from(selectOutputs(styleNet, new Map(styleTaps.map((tap) => [tap, tapValue(styleNet, tap)]))));
  const styleOut = new Map<string, string>();
  for (const tap of styleTaps) {
    const f = tapValue(styleNet, tap);
    const norm = norms.get(tap)!;
    let g = gram(sb, f, norm);
    if (norm === 'gatys') {
      const [, , hs, ws] = concreteShapeOf(styleNet, f);
      const [, , hx, wx] = concreteShapeOf(net, tapValue(net, tap));
      const ratio = (hx! * wx!) / (hs! * ws!);
      if (ratio !== 1) g = sb.add('scale', [g], { value: ratio }, {}, `${f}_gram_rescaled`);
    }
    styleOut.set(styleTarget(tap), g);
  }
  const style = selectOutputs(sb.build(), styleOut);

  // The step graph: network + terms.
  const b = GraphBuilder.from(selectOutputs(net, [...contentTaps, ...styleTaps]));
  const contentInputs = new Map<string, string>();
  for (const tap of contentTaps) contentInputs.set(tap, b.input(`content_target.${tap}`, concreteShapeOf(net, tapValue(net, tap))));
  const styleInputs = new Map<string, string>();
  const grams = new Map<string, string>();
  for (const tap of styleTaps) {
    const f = tapValue(net, tap);
    styleInputs.set(tap, b.input(`style_target.${tap}`, sb.shape(styleOut.get(styleTarget(tap))!)));
    grams.set(tap, gram(b, f, norms.get(tap)!));
  }
  const outputs = new Map<string, string>();
  const weighted: string[] = [];
  const termOutputs: string[] = [];
  for (const t of spec.terms) {
    const name = termName(t, spec.terms);
    // Value stems differ from output names (backends name outputs separately from values).
    const stem = name.replace(':', '_');
    let raw: string;
    if (t.kind === 'tv') raw = tvLoss(b, imageInput, t.norm);
    else {
      const parts = t.taps.map(({ tap, weight }) => {
        const f = tapValue(net, tap);
        const e =
          t.kind === 'content'
            ? contentLoss(b, f, contentInputs.get(tap)!, t.norm)
            : styleLayerLoss(b, grams.get(tap)!, styleInputs.get(tap)!, t.norm, b.shape(f));
        return weight === 1 ? e : b.add('scale', [e], { value: weight }, {}, `${stem}_${tap}`);
      });
      raw = parts.reduce((acc, p) => b.add('add', [acc, p], {}, {}, `${stem}_sum`));
    }
    const w = t.weight === 1 ? raw : b.add('scale', [raw], { value: t.weight }, {}, `${stem}_weighted`);
    outputs.set(name, w);
    weighted.push(w);
    termOutputs.push(name);
  }
  if (weighted.length === 0) throw new ObjectiveError(`objective ${spec.name} has no terms`);
  const total =
    weighted.length === 1 ? b.add('scale', [weighted[0]!], { value: 1 }, {}, 'total_loss') : weighted.reduce((acc, v) => b.add('add', [acc, v], {}, {}, 'total_loss'));
  const step = selectOutputs(b.build(), new Map([[LOSS, total], ...outputs]));
  return { targets: { content, style }, step, imageInput, contentInputs, styleInputs, termOutputs };
}
