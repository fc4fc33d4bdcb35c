/**
 * Lowering `objective NAME on NET { terms }` to an ObjectiveSpec. Each term's kind is looked up in
 * the term registry (compiler/objective/registry.ts): an unknown kind is a diagnostic at its name,
 * attributes are bound and decoded from the kind's schema, and taps are checked once here: each
 * must exist in the loss network and appear once per term, and only kinds that read taps take them.
 */
import type { ObjectiveDecl, TermAst } from '../../dsl/ast.ts';
import { error, type Diagnostic } from '../../dsl/diagnostics.ts';
import type { Graph } from '../ir/types.ts';
import { termRegistry, type TermRegistry } from '../objective/registry.ts';
import type { AttrValue, LossTerm, ObjectiveSpec, TapWeight } from '../objective/types.ts';
import { bindArgs } from './values.ts';

/** `graph` is the loss network's graph (undefined if it failed to compile: taps are then not checked). */
export function lowerObjective(
  o: ObjectiveDecl,
  lossNet: string,
  graph: Graph | undefined,
  diags: Diagnostic[],
  registry: TermRegistry = termRegistry(),
): ObjectiveSpec | undefined {
  const before = diags.length;
  const terms: LossTerm[] = [];
  for (const t of o.terms) {
    const term = lowerTerm(t, graph, diags, registry);
    if (term) terms.push(term);
  }
  if (o.terms.length === 0) diags.push(error('objective', `objective '${o.name.name}' has no terms`, o.name.span));
  return diags.length > before ? undefined : { name: o.name.name, lossNet, terms };
}

function lowerTaps(t: TermAst, graph: Graph | undefined, diags: Diagnostic[]): TapWeight[] {
  const taps: TapWeight[] = [];
  for (const tw of t.taps) {
    const name = tw.tap.parts.map((p) => p.name).join('.');
    if (graph && !graph.taps.has(name)) {
      diags.push(error('unknown-tap', `the loss network has no tap '${name}'`, tw.tap.span));
      continue;
    }
    if (taps.some((x) => x.tap === name)) {
      diags.push(error('objective', `tap '${name}' is listed twice`, tw.tap.span));
      continue;
    }
    taps.push({ tap: name, weight: tw.weight?.value ?? 1 });
  }
  return taps;
}

function lowerTerm(t: TermAst, graph: Graph | undefined, diags: Diagnostic[], registry: TermRegistry): LossTerm | undefined {
  const name = t.call.callee.name;
  const kind = registry.get(name);
  if (!kind) {
    diags.push(error('unknown-name', `unknown objective term '${name}' (terms: ${registry.names().join(', ')})`, t.call.callee.span));
    return undefined;
  }
  const a = bindArgs(name, t.call.callee, kind.attributes, t.call.args, new Map(), diags, t.call.span);
  const taps = lowerTaps(t, graph, diags);
  if (!a.ok) return undefined;
  if (kind.taps === 'none' && t.taps.length) {
    diags.push(error('objective', `${name} applies to the image and takes no taps`, t.taps[0]!.span));
    return undefined;
  }
  if (kind.taps === 'required' && t.taps.length === 0) {
    diags.push(error('objective', `${name} needs at least one tap: ${name}(...) { relu4_2 }`, t.call.span));
    return undefined;
  }
  const attrs: Record<string, AttrValue> = {};
  for (const [k, v] of a.values) if (k !== 'weight') attrs[k] = v as AttrValue;
  const term: LossTerm = { kind: name, weight: (a.values.get('weight') as number | undefined) ?? 1, taps, attrs };
  const invalid = kind.validate?.(term);
  if (invalid) {
    diags.push(error('objective', `${name}: ${invalid}`, t.call.span));
    return undefined;
  }
  return term;
}
