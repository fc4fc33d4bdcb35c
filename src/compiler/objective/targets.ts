/**
 * Host-side handling of computed targets, driven by the term modules: finishing (TermTarget.finish),
 * combining several style images (blended, or one per image for per-style terms) and refreshing
 * targets from the current image (TermRefresh). Keys are `<term stem>:<name>[#k]` (assemble.ts).
 */
import type { HostTensor } from '../ir/types.ts';
import { targetKey, type NamedTerm } from './assemble.ts';
import { blendTargets } from './blend.ts';
import type { ObjectiveGraphs } from './build.ts';

type Targets = Readonly<Record<string, HostTensor>>;

/** The values of one term, with its `<stem>:` prefix removed. */
function ofTerm(t: NamedTerm, values: Targets): Record<string, HostTensor> {
  const prefix = `${t.stem}:`;
  return Object.fromEntries(Object.entries(values).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
}

const withPrefix = (t: NamedTerm, values: Targets): Record<string, HostTensor> =>
  Object.fromEntries(Object.entries(values).map(([k, v]) => [targetKey(t.stem, k), v]));

/** Apply the terms' host post-processing to the values of one target graph run on `image`. */
export function finishTargets(graphs: ObjectiveGraphs, image: 'content' | 'style', values: Targets): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = { ...values };
  const shape = (tap: string): readonly number[] => graphs.outputShapes.get(tap)!;
  for (const t of graphs.terms) {
    const target = t.kind.target;
    if (target?.image !== image || !target.finish) continue;
    for (const k of Object.keys(ofTerm(t, values))) delete out[targetKey(t.stem, k)];
    Object.assign(out, withPrefix(t, target.finish(ofTerm(t, values), t.term, shape)));
  }
  return out;
}

/**
 * The style targets of several style images (each finished): per-style terms keep style k's as
 * `<key>#k`; the others are blended, A = Σ_k b_k A^(k) (blend.ts).
 */
export function combineStyleTargets(graphs: ObjectiveGraphs, perStyle: readonly Targets[], blend: readonly number[]): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = {};
  for (const t of graphs.terms) {
    const target = t.kind.target;
    if (target?.image !== 'style') continue;
    const sets = perStyle.map((s) => ofTerm(t, s));
    if (target.perStyle?.(t.term)) sets.forEach((s, k) => Object.entries(s).forEach(([name, v]) => (out[targetKey(t.stem, name, k)] = v)));
    else Object.assign(out, withPrefix(t, blendTargets(sets, blend)));
  }
  return out;
}

/**
 * The refreshed step targets: `features` holds `feature:<tap>` of the current image (targets.features),
 * `targets` the finished (and combined) targets of the run.
 */
export function refreshTargets(graphs: ObjectiveGraphs, features: Targets, targets: Targets): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = {};
  for (const t of graphs.terms) {
    if (!t.kind.refresh) continue;
    const f = new Map(t.term.taps.map(({ tap }) => [tap, features[`feature:${tap}`]!]));
    Object.assign(out, withPrefix(t, t.kind.refresh.compute(t.term, f, ofTerm(t, targets))));
  }
  return out;
}
