/**
 * A float64 harness for objective terms: computes an objective's targets and step on the reference
 * interpreter (float64 throughout), the way the Gatys runtime does on a backend (target graphs, host
 * finishing, per-style combination, refresh at the evaluated image, masks), and checks the compiler's
 * gradient against central finite differences of the float64 loss.
 */
import { expect } from 'vitest';
import { runReference, type Float64Tensor } from '../../../src/backends/reference/index.ts';
import type { Graph, HostTensor } from '../../../src/compiler/ir/types.ts';
import {
  buildObjectiveGraphs,
  combineStyleTargets,
  downsampleMask,
  finishTargets,
  normaliseBlend,
  refreshTargets,
  type Mask,
  type ObjectiveGraphs,
  type ObjectiveSpec,
} from '../../../src/compiler/objective/index.ts';
import { differentiate } from '../../../src/compiler/passes/autodiff/index.ts';

type Tensors = Record<string, HostTensor>;

const asHost = (t: Float64Tensor | HostTensor): HostTensor => ({ shape: [...t.shape], data: Float32Array.from(t.data) });

/** Run a target graph in float64; finished values are stored as float32 HostTensors, as the runtime's. */
function run(g: Graph, weights: ReadonlyMap<string, HostTensor>, input: string, img: HostTensor): Tensors {
  if (g.outputs.size === 0) return {};
  const out = runReference(g, weights, { [input]: { shape: img.shape, data: Float64Array.from(img.data) } });
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, asHost(v)]));
}

export interface Float64Objective {
  readonly graphs: ObjectiveGraphs;
  /** The loss and every term at x. */
  evaluate(x: Float64Array): { loss: number; terms: Record<string, number>; grad: Float64Array };
}

export interface ObjectiveImages {
  readonly content: HostTensor;
  readonly styles: readonly HostTensor[];
  readonly blend?: readonly number[];
  readonly styleMasks?: readonly Mask[];
  readonly contentMask?: Mask;
}

/**
 * Targets computed once; refreshed targets (histogram) computed at `refreshAt`, held fixed afterwards,
 * as between two refreshes of a run.
 */
export function float64Objective(spec: ObjectiveSpec, net: Graph, weights: ReadonlyMap<string, HostTensor>, img: ObjectiveImages, refreshAt?: HostTensor): Float64Objective {
  const [, , H, W] = img.content.shape as [number, number, number, number];
  const graphs = buildObjectiveGraphs(spec, net, { size: { H, W }, styles: img.styles.length });
  const input = graphs.imageInput;
  const content = finishTargets(graphs, 'content', run(graphs.targets.content, weights, input, img.content));
  const perStyle = img.styles.map((s) => finishTargets(graphs, 'style', run(graphs.targets.style, weights, input, s)));
  const targets = { ...content, ...combineStyleTargets(graphs, perStyle, normaliseBlend(img.styles.length, img.blend)) };
  if (graphs.targets.features) Object.assign(targets, refreshTargets(graphs, run(graphs.targets.features, weights, input, refreshAt ?? img.content), targets));
  const feeds: Record<string, HostTensor> = {};
  for (const [key, id] of graphs.targetInputs) feeds[id] = targets[key] ?? missing(key);
  for (const m of graphs.masks) {
    const mask = m.source === 'style' ? img.styleMasks?.[m.index] : img.contentMask;
    feeds[m.id] = downsampleMask(mask ?? missing(`${m.source} mask ${m.index}`), m.shape[2]!, m.shape[3]!);
  }
  const g = differentiate(graphs.step, { loss: 'loss', wrt: [input] });
  return {
    graphs,
    evaluate(x) {
      const out = runReference(g, weights, { ...feeds, [input]: { shape: [1, 3, H, W], data: x } });
      const terms = Object.fromEntries(graphs.termOutputs.map((n) => [n, out[n]!.data[0]!]));
      return { loss: out['loss']!.data[0]!, terms, grad: Float64Array.from(out[`grad:${input}`]!.data) };
    },
  };
}

function missing(what: string): never {
  throw new Error(`no ${what}`);
}

/** Central differences (step h) of the float64 loss at a few pixels against the compiler's gradient. */
export function expectGradientMatchesFiniteDifferences(o: Float64Objective, x: Float64Array, pixels: readonly number[], h = 1e-3, rel = 1e-5): void {
  const { grad } = o.evaluate(x);
  let scale = 0;
  for (const v of grad) scale = Math.max(scale, Math.abs(v));
  expect(scale).toBeGreaterThan(0);
  for (const i of pixels) {
    const plus = Float64Array.from(x);
    const minus = Float64Array.from(x);
    plus[i]! += h;
    minus[i]! -= h;
    const fd = (o.evaluate(plus).loss - o.evaluate(minus).loss) / (2 * h);
    expect(Math.abs(fd - grad[i]!), `pixel ${i}: finite difference ${fd}, gradient ${grad[i]}`).toBeLessThanOrEqual(rel * scale);
  }
}

/** Seeded uniform RGB image data in [lo, hi). */
export function seededImage(seed: number, H: number, W: number, lo = 0, hi = 255): HostTensor {
  let s = seed >>> 0;
  const data = Float32Array.from({ length: 3 * H * W }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((hi - lo) * s) / 2 ** 32;
  });
  return { shape: [1, 3, H, W], data };
}
