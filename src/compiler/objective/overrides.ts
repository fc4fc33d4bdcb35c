/**
 * Run-time overrides of term weights (`--content-weight`, `--style-weight`, `--tv-weight`, ...): each
 * term kind names its flag (TermKind.override), so a flag sets exactly the kinds that declare it. A
 * flag for a kind the objective lacks adds that kind when it can (`--tv-weight` adds TV) and is
 * otherwise reported.
 */
import { UserError } from '../../util/errors.ts';
import { termRegistry, type TermRegistry } from './registry.ts';
import type { LossTerm, ObjectiveSpec } from './types.ts';

/** Flag name (without `--`) -> the weight it sets. */
export type WeightOverrides = Readonly<Record<string, number | undefined>>;

export function withOverrides(spec: ObjectiveSpec, overrides: WeightOverrides, registry: TermRegistry = termRegistry()): ObjectiveSpec {
  const flags = registry.overrides();
  const terms: LossTerm[] = spec.terms.map((t) => {
    const flag = registry.require(t.kind).override;
    const w = flag === undefined ? undefined : overrides[flag];
    return w === undefined ? t : { ...t, weight: w };
  });
  for (const [flag, w] of Object.entries(overrides)) {
    if (w === undefined) continue;
    const kinds = flags.get(flag);
    if (!kinds) throw new UserError(`--${flag} is not a term weight; term weight flags: ${[...flags.keys()].map((f) => `--${f}`).join(', ')}`);
    if (spec.terms.some((t) => kinds.includes(t.kind)) || w === 0) continue;
    const add = kinds.map((k) => registry.require(k).addWithWeight).find((f) => f !== undefined);
    if (!add) throw new UserError(`--${flag}: objective ${spec.name} has no ${kinds.join(' or ')} term to weight`);
    terms.push(add(w));
  }
  return { ...spec, terms };
}
