/**
 * The objective compiler for Gatys optimisation: an ObjectiveSpec plus its loss network become IR
 * graphs, from the term modules of the registry (term-kind.ts).
 *
 * - `targets.content`: image → the targets of the terms that read the content image (`content:<tap>`
 *   features...), at `size`.
 * - `targets.style`: image → the targets of the terms that read a style image (`style:<tap>` Grams,
 *   `mean_std:<tap>.mean`...), at `styleSize`. Run once per style image; the runtime then finishes
 *   them on the host (TermTarget.finish) and blends them or keeps one per image (targets.ts).
 * - `targets.features`: image → `feature:<tap>`, the taps of terms whose targets are recomputed from
 *   the current image (TermRefresh), at `size`; absent when no term refreshes.
 * - `step`: the image x (`imageInput`), one input per target (`targetInputs`, keyed
 *   `<term stem>:<name>[#k]`; those fed Gram matrices marked `symmetric`) and per mask (`masks`); outputs `loss` and, per term, `loss:<stem>` (its
 *   weighted contribution, so the term outputs sum to `loss`). The autodiff pass adds `grad:<imageInput>`.
 *
 * The loss network is specialised at the requested sizes and pruned to the taps the terms use
 * (tap pruning: asking only for relu3_1 never computes past it).
 */
import { GraphBuilder } from '../ir/builder.ts';
import type { Graph } from '../ir/types.ts';
import { selectOutputs } from '../passes/prune.ts';
import { concreteShapeOf, specialize } from '../passes/specialize.ts';
import { symmetricByConstruction } from '../ir/symmetric.ts';
import { assembleLoss, nameTerms, ObjectiveError, targetKey, type NamedTerm } from './assemble.ts';
import { termRegistry, type TermRegistry } from './registry.ts';
import type { ObjectiveSpec } from './types.ts';

export { ObjectiveError } from './assemble.ts';

export interface ImageSize {
  readonly H: number;
  readonly W: number;
}

export interface ObjectiveBuildOptions {
  /** Output (and content) image size. */
  readonly size: ImageSize;
  /** Style image size; default `size`. */
  readonly styleSize?: ImageSize;
  /** Number of style images (per-style targets and masks of masked terms); default 1. */
  readonly styles?: number;
  /** Term kinds; default the process-wide registry. */
  readonly registry?: TermRegistry;
}

/** A run-time mask input of the step: [1, 1, h, w] at one tap's resolution. */
export interface MaskInput {
  readonly id: string;
  readonly source: 'content' | 'style';
  /** 0 for the content mask; the style image's index. */
  readonly index: number;
  readonly shape: readonly number[];
}

export interface ObjectiveGraphs {
  readonly targets: { readonly content: Graph; readonly style: Graph; readonly features?: Graph };
  readonly step: Graph;
  /** Value id of the image input of every graph (the loss network's input). */
  readonly imageInput: string;
  /** Step-graph inputs: target key (`style:relu1_1`, `mask_style:relu1_1#0`...) -> input id. */
  readonly targetInputs: ReadonlyMap<string, string>;
  /** Step-graph inputs of the `content` term: tap -> input carrying that tap's target features. */
  readonly contentInputs: ReadonlyMap<string, string>;
  /** Step-graph inputs of the `style` term: tap -> input carrying that tap's target Gram. */
  readonly styleInputs: ReadonlyMap<string, string>;
  readonly masks: readonly MaskInput[];
  /** The per-term output names of the step graph (`loss:content`, ...), in spec order. */
  readonly termOutputs: readonly string[];
  readonly terms: readonly NamedTerm[];
  /** The generated image's feature shape at every tap the terms use. */
  readonly outputShapes: ReadonlyMap<string, readonly number[]>;
  /** Iterations between target refreshes (the smallest `every` of the refreshing terms); absent when none refresh. */
  readonly refreshEvery?: number;
}

/** Output names used by the graphs. */
export const contentTarget = (tap: string): string => targetKey('content', tap);
export const styleTarget = (tap: string): string => targetKey('style', tap);
export const featureOutput = (tap: string): string => `feature:${tap}`;
export const LOSS = 'loss';

/** Specialise a loss network's image input [N, C, H, W] to N = 1 and the given size. */
export function specialiseLossNet(net: Graph, size: ImageSize, batch = 1): Graph {
  const input = imageInputOf(net);
  const shape = net.values.get(input)!.shape;
  if (shape.length !== 4) throw new ObjectiveError(`the loss network's input ${input} must be NCHW, got rank ${shape.length}`);
  const env: Record<string, number> = {};
  const bind = (d: (typeof shape)[number], v: number): void => {
    if (typeof d !== 'number' && d.kind === 'var') env[d.name] = v;
  };
  bind(shape[0]!, batch);
  bind(shape[2]!, size.H);
  bind(shape[3]!, size.W);
  const g = specialize(net, env);
  const s = concreteShapeOf(g, input);
  if (s[0] !== batch || s[2] !== size.H || s[3] !== size.W)
    throw new ObjectiveError(`the loss network's input is fixed at [${s.join(', ')}], cannot run it at ${batch}x${s[1]}x${size.H}x${size.W}`);
  return g;
}

export function imageInputOf(net: Graph): string {
  if (net.inputs.length !== 1) throw new ObjectiveError(`a loss network must have exactly one input (the image), got ${net.inputs.length}`);
  return net.inputs[0]!;
}

export function tapValue(net: Graph, tap: string): string {
  const id = net.taps.get(tap);
  if (id === undefined)
    throw new ObjectiveError(`the loss network has no tap ${tap}; available taps: ${[...net.taps.keys()].join(', ') || '(none)'}`);
  return id;
}

/** Every tap the terms read, in first-use order. */
export function tapsOf(terms: readonly NamedTerm[], which: (t: NamedTerm) => boolean = () => true): string[] {
  return [...new Set(terms.filter(which).flatMap((t) => t.term.taps.map((w) => w.tap)))];
}

/**
 * The target graph of the terms reading `image` (content or style), on a specialised (and pruned)
 * loss network: outputs `<stem>:<name>` per target value. `outputShape` is the generated image's.
 */
export function buildTargetGraph(terms: readonly NamedTerm[], image: 'content' | 'style', net: Graph, outputShape: (tap: string) => readonly number[]): Graph {
  const reading = terms.filter((t) => t.kind.target?.image === image);
  const taps = tapsOf(reading);
  const b = GraphBuilder.from(selectOutputs(net, new Map(taps.map((tap) => [tap, tapValue(net, tap)]))));
  const out = new Map<string, string>();
  for (const t of reading)
    for (const [name, v] of t.kind.target!.build({ b, feature: (tap) => tapValue(net, tap), outputShape }, t.term)) out.set(targetKey(t.stem, name), v);
  return selectOutputs(b.build(), out);
}

/**
 * Whether the values fed to a target input are symmetric matrices (Value.symmetric): the target graph computes
 * them as a Gram (or a scaled, summed one) and no host step changes them but blending, a convex combination of
 * such (targets.ts). A term's `finish` may compute anything, so its targets are never marked.
 */
export function gramTarget(t: NamedTerm, graph: Graph, v: string): boolean {
  return t.kind.target?.finish === undefined && symmetricByConstruction(graph, v);
}

export function buildObjectiveGraphs(spec: ObjectiveSpec, lossNet: Graph, opts: ObjectiveBuildOptions): ObjectiveGraphs {
  const terms = nameTerms(spec, opts.registry ?? termRegistry());
  const imageInput = imageInputOf(lossNet);
  const styles = opts.styles ?? 1;
  const taps = tapsOf(terms);
  // Prune before specialising: layers past the deepest tap are never computed, so they need not
  // be valid at small sizes either.
  const pruned = selectOutputs(lossNet, new Map(taps.map((tap) => [tap, tapValue(lossNet, tap)])));
  const net = specialiseLossNet(pruned, opts.size);
  const styleNet = opts.styleSize ? specialiseLossNet(pruned, opts.styleSize) : net;
  const outputShapes = new Map(taps.map((tap) => [tap, concreteShapeOf(net, tapValue(net, tap))]));
  const outputShape = (tap: string): readonly number[] => outputShapes.get(tap)!;

  const content = buildTargetGraph(terms, 'content', net, outputShape);
  const style = buildTargetGraph(terms, 'style', styleNet, outputShape);
  const refreshing = terms.filter((t) => t.kind.refresh);
  const featureTaps = tapsOf(refreshing);
  const features = featureTaps.length ? selectOutputs(net, new Map(featureTaps.map((tap) => [featureOutput(tap), tapValue(net, tap)]))) : undefined;

  // The step graph: network + terms.
  const b = GraphBuilder.from(selectOutputs(net, taps));
  const targetInputs = new Map<string, string>();
  const input = (key: string, shape: readonly number[], symmetric = false): string => {
    let id = targetInputs.get(key);
    if (id === undefined) targetInputs.set(key, (id = b.input(`target.${key}`, shape, undefined, symmetric)));
    return id;
  };
  const masks: MaskInput[] = [];
  const { total, terms: outputs } = assembleLoss(b, terms, {
    b,
    image: imageInput,
    batch: 1,
    styles,
    feature: (tap) => tapValue(net, tap),
    target(t, name, k) {
      const refreshed = t.kind.refresh?.shapes(t.term, outputShape).get(name);
      if (refreshed) return input(targetKey(t.stem, name), refreshed);
      const graph = t.kind.target?.image === 'content' ? content : style;
      const key = targetKey(t.stem, name);
      const v = graph.outputs.get(key);
      if (v === undefined) throw new Error(`term ${t.stem} reads a target ${name} it does not build`);
      return input(targetKey(t.stem, name, k), concreteShapeOf(graph, v), gramTarget(t, graph, v));
    },
    mask(source, index, tap) {
      const [, , h, w] = outputShape(tap);
      const found = masks.find((m) => m.source === source && m.index === index && m.shape[2] === h && m.shape[3] === w);
      if (found) return found.id;
      const mask: MaskInput = { id: b.input(`mask.${source}${index}.${h}x${w}`, [1, 1, h!, w!]), source, index, shape: [1, 1, h!, w!] };
      masks.push(mask);
      return mask.id;
    },
  });
  const step = selectOutputs(b.build(), new Map([[LOSS, total], ...outputs]));
  const byTap = (stem: string): Map<string, string> =>
    new Map([...targetInputs].filter(([k]) => k.startsWith(`${stem}:`) && !k.includes('#')).map(([k, id]) => [k.slice(stem.length + 1), id]));
  const everies = refreshing.map((t) => t.kind.refresh!.every(t.term));
  return {
    targets: { content, style, ...(features && { features }) },
    step,
    imageInput,
    targetInputs,
    contentInputs: byTap('content'),
    styleInputs: byTap('style'),
    masks,
    termOutputs: [...outputs.keys()],
    terms,
    outputShapes,
    ...(everies.length && { refreshEvery: Math.min(...everies) }),
  };
}
