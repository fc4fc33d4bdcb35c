/**
 * Lowering `objective NAME on NET { terms }` to an ObjectiveSpec, checking
 * term attributes and that every tap exists in the loss network.
 */
import type { ObjectiveDecl, TermAst } from '../../dsl/ast.ts';
import { error, type Diagnostic } from '../../dsl/diagnostics.ts';
import type { Graph } from '../ir/types.ts';
import type { LossTerm, ObjectiveSpec, TapWeight } from '../objective/types.ts';
import { bindArgs, tEnum, tFloat, type ParamSpec } from './values.ts';

const TERMS: Record<string, readonly ParamSpec[]> = {
  content: [
    { name: 'weight', type: tFloat, default: 1 },
    { name: 'norm', type: tEnum('half_sum', 'mean'), default: 'half_sum' },
  ],
  style: [
    { name: 'weight', type: tFloat, default: 1 },
    { name: 'norm', type: tEnum('gatys', 'johnson'), default: 'gatys' },
  ],
  tv: [
    { name: 'weight', type: tFloat, default: 1 },
    { name: 'norm', type: tEnum('sum', 'mean'), default: 'sum' },
  ],
};

/** `graph` is the loss network's graph (undefined if it failed to compile: taps are then not checked). */
export function lowerObjective(o: ObjectiveDecl, lossNet: string, graph: Graph | undefined, diags: Diagnostic[]): ObjectiveSpec | undefined {
  const before = diags.length;
  const terms: LossTerm[] = [];
  for (const t of o.terms) {
    const term = lowerTerm(t, graph, diags);
    if (term) terms.push(term);
  }
  if (o.terms.length === 0) diags.push(error('objective', `objective '${o.name.name}' has no terms`, o.name.span));
  return diags.length > before ? undefined : { name: o.name.name, lossNet, terms };
}

function lowerTerm(t: TermAst, graph: Graph | undefined, diags: Diagnostic[]): LossTerm | undefined {
  const kind = t.call.callee.name;
  const params = TERMS[kind];
  if (!params) {
    diags.push(error('unknown-name', `unknown objective term '${kind}' (terms: content, style, tv)`, t.call.callee.span));
    return undefined;
  }
  const a = bindArgs(kind, t.call.callee, params, t.call.args, new Map(), diags, t.call.span);
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
  if (!a.ok) return undefined;
  const weight = a.values.get('weight') as number;
  if (kind === 'tv') {
    if (t.taps.length) diags.push(error('objective', 'tv applies to the image and takes no taps', t.taps[0]!.span));
    return { kind: 'tv', weight, norm: a.values.get('norm') as 'sum' | 'mean' };
  }
  if (t.taps.length === 0) {
    diags.push(error('objective', `${kind} needs at least one tap: ${kind}(...) { relu4_2 }`, t.call.span));
    return undefined;
  }
  if (kind === 'content') return { kind: 'content', taps, weight, norm: a.values.get('norm') as 'half_sum' | 'mean' };
  return { kind: 'style', taps, weight, norm: a.values.get('norm') as 'gatys' | 'johnson' };
}
