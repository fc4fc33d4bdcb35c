/**
 * Lowering a `weights` binding to a WeightSource (src/compiler/weights.ts),
 * checking that every mapped parameter exists and that layouts fit its rank.
 */
import type { WeightsDecl } from '../../dsl/ast.ts';
import { error, type Diagnostic } from '../../dsl/diagnostics.ts';
import { WEIGHT_FORMATS, type TensorLayout, type WeightFormat, type WeightMapEntry, type WeightSource } from '../weights.ts';
import type { Graph } from '../ir/types.ts';
import { bindArgs, tEnum, tNonNegInt, tString, type Env } from './values.ts';


export function lowerWeights(w: WeightsDecl, graph: Graph, env: Env, diags: Diagnostic[]): WeightSource | undefined {
  const before = diags.length;
  const kind = w.source.callee.name;
  if (kind === 'random') {
    const a = bindArgs('random', w.source.callee, [{ name: 'seed', type: tNonNegInt, default: 0 }], w.source.args, env, diags, w.source.span);
    if (w.entries.length) diags.push(error('weights', 'random initialisation takes no mapping entries', w.entries[0]!.span));
    return diags.length > before ? undefined : { kind: 'random', seed: a.values.get('seed') as number };
  }
  if (kind === 'pretrained') {
    const a = bindArgs('pretrained', w.source.callee, [{ name: 'name', type: tString }], w.source.args, env, diags, w.source.span);
    if (w.entries.length) diags.push(error('weights', 'pretrained weights are mapped by their layout profile and take no entries', w.entries[0]!.span));
    return diags.length > before ? undefined : { kind: 'pretrained', name: a.values.get('name') as string };
  }
  if (kind !== 'file') {
    diags.push(error('unknown-name', `unknown weight source '${kind}' (sources: random, file, pretrained)`, w.source.callee.span));
    return undefined;
  }
  const a = bindArgs(
    'file',
    w.source.callee,
    [
      { name: 'path', type: tString },
      { name: 'format', type: tEnum(...WEIGHT_FORMATS) },
      { name: 'mapping', type: tEnum('explicit', 'ordered', 'identity'), default: 'explicit' },
    ],
    w.source.args,
    env,
    diags,
    w.source.span,
  );
  if (!a.ok) return undefined;
  const format = a.values.get('format') as WeightFormat;
  const path = a.values.get('path') as string;
  const mappingKind = a.values.get('mapping') as 'explicit' | 'ordered' | 'identity';
  const seen = new Set<string>();
  const entries: WeightMapEntry[] = [];
  const ordered: { param: string; layout: TensorLayout }[] = [];
  for (const e of w.entries) {
    const id = e.param.parts.map((p) => p.name).join('.');
    const v = graph.values.get(id);
    if (!v || v.kind !== 'param') {
      diags.push(error('weights', `no parameter '${id}' in this network`, e.param.span));
      continue;
    }
    if (seen.has(id)) {
      diags.push(error('weights', `parameter '${id}' is mapped twice`, e.param.span));
      continue;
    }
    seen.add(id);
    const layout = (e.layout?.name ?? 'asis') as TensorLayout;
    if (layout !== 'asis' && v.shape.length !== 4)
      diags.push(error('weights', `layout ${layout} is for 4-D kernels; '${id}' has ${v.shape.length} dimension(s)`, e.layout!.span));
    if (mappingKind === 'explicit') {
      if (!e.tensor) diags.push(error('weights', `explicit mapping: write ${id} <- "tensor name"`, e.param.span));
      else entries.push({ param: id, tensor: e.tensor.value, layout });
    } else if (mappingKind === 'ordered') {
      if (e.tensor) diags.push(error('weights', 'ordered mapping lists parameters only (no <- "tensor")', e.tensor.span));
      ordered.push({ param: id, layout });
    } else diags.push(error('weights', 'identity mapping takes no entries', e.param.span));
  }
  if (mappingKind !== 'identity' && w.entries.length === 0) diags.push(error('weights', `${mappingKind} mapping needs entries { ... }`, w.span));
  if (diags.length > before) return undefined;
  const mapping =
    mappingKind === 'explicit'
      ? ({ kind: 'explicit', entries } as const)
      : mappingKind === 'ordered'
        ? ({ kind: 'ordered', params: ordered } as const)
        : ({ kind: 'identity' } as const);
  return { kind: 'file', format, path, mapping };
}
