/**
 * Assembling an objective's step loss from its term modules: one function used by the Gatys step
 * (build.ts) and the training step (runtime/train/train-graph.ts), so both read the same
 * ObjectiveSpec the same way. Each term contributes its unweighted loss (TermKind.step); the
 * assembler scales it by the term's weight, names it `loss:<kind>` (`loss:<kind>2`... when a kind
 * repeats) and sums the weighted terms into the total.
 */
import type { GraphBuilder } from '../ir/builder.ts';
import type { TermRegistry } from './registry.ts';
import type { StepContext, TermKind } from './term-kind.ts';
import type { AttrValue, LossTerm, ObjectiveSpec } from './types.ts';

export class ObjectiveError extends Error {
  override readonly name = 'ObjectiveError';
}

/** A term of a spec with its kind and its names in the graphs. */
export interface NamedTerm {
  readonly term: LossTerm;
  readonly kind: TermKind;
  /** `content`, `style`, `style2`: the step output is `loss:<stem>`, targets are keyed `<stem>:<name>`. */
  readonly stem: string;
}

/** The spec's terms with their kinds and stems (an unknown kind is an internal error: the checker reports it). */
export function nameTerms(spec: ObjectiveSpec, registry: TermRegistry): NamedTerm[] {
  if (spec.terms.length === 0) throw new ObjectiveError(`objective ${spec.name} has no terms`);
  return spec.terms.map((term) => {
    const same = spec.terms.filter((u) => u.kind === term.kind);
    const stem = same.length === 1 ? term.kind : `${term.kind}${same.indexOf(term) + 1}`;
    const kind = registry.require(term.kind);
    return { term: withDefaults(term, kind), kind, stem };
  });
}

/** The term with its kind's attribute defaults filled in (specs built by hand may omit them). */
export function withDefaults(term: LossTerm, kind: TermKind): LossTerm {
  const attrs: Record<string, AttrValue> = {};
  for (const p of kind.attributes) if (p.name !== 'weight' && p.default !== undefined) attrs[p.name] = p.default as AttrValue;
  return { ...term, attrs: { ...attrs, ...term.attrs } };
}

/** `<stem>:<name>`, and `#k` for style image k's own target. */
export const targetKey = (stem: string, name: string, style?: number): string => `${stem}:${name}${style === undefined ? '' : `#${style}`}`;
export const termOutput = (stem: string): string => `loss:${stem}`;

/** What the assembler needs from its caller; `target` receives the term's stem and the target's name. */
export interface LossContext extends Omit<StepContext, 'target' | 'stem'> {
  target(t: NamedTerm, name: string, style?: number): string;
}

export interface AssembledLoss {
  /** The total loss (scalar). */
  readonly total: string;
  /** `loss:<stem>` -> the weighted term (scalar), in spec order. */
  readonly terms: ReadonlyMap<string, string>;
}

export function assembleLoss(b: GraphBuilder, terms: readonly NamedTerm[], ctx: LossContext): AssembledLoss {
  const outputs = new Map<string, string>();
  for (const t of terms) {
    // Value stems differ from output names (backends name outputs separately from values).
    const stem = `loss_${t.stem}`;
    const raw = t.kind.step({ ...ctx, stem, target: (name, style) => ctx.target(t, name, style) }, t.term);
    const w = t.term.weight === 1 ? raw : b.add('scale', [raw], { value: t.term.weight }, {}, `${stem}_weighted`);
    outputs.set(termOutput(t.stem), w);
  }
  const weighted = [...outputs.values()];
  const total =
    weighted.length === 1 ? b.add('scale', [weighted[0]!], { value: 1 }, {}, 'total_loss') : weighted.reduce((acc, v) => b.add('add', [acc, v], {}, {}, 'total_loss'));
  return { total, terms: outputs };
}
