/**
 * Bind a graph's parameters to tensors from a weight source: resolve the
 * mapping (explicit, ordered or identity), convert kernel layouts to stc's
 * (conv OIHW, transposed conv IOHW), and check that every parameter is
 * provided with the right shape. Only the parameters the graph reads are
 * loaded, so a pruned graph needs only the tensors it uses.
 */
import { isAbsolute, resolve } from 'node:path';
import { paramsOf } from '../compiler/ir/graph.ts';
import type { Graph, HostTensor, Value } from '../compiler/ir/types.ts';
import type { TensorLayout, WeightMap, WeightSource } from '../compiler/weights.ts';
import { WeightError, fmtShape } from './errors.ts';
import { convertLayout, convertShape } from './layout.ts';
import { openWeights } from './open.ts';
import { refuseNonFinite } from './finite.ts';
import { bindPretrained } from './pretrained.ts';
import { initParam } from './random.ts';
import type { TensorEntry, TensorFile } from './tensor-file.ts';

export interface BindOptions {
  /** Folder of the spec file; relative weight paths resolve against it. */
  readonly specDir: string;
  /** `--weights PATH`: replaces the path written in the spec. */
  readonly pathOverride?: string;
  /** Parameter ids to bind; default every parameter the graph reads. */
  readonly params?: readonly string[];
  /** Folders searched for `pretrained` weights when there is no `--weights`; default `$STC_WEIGHTS`, `~/.cache/stc/weights`. */
  readonly searchDirs?: readonly string[];
  /** `--profile`: the layout profile of a pretrained network's file, in place of recognition. */
  readonly profile?: string;
  /** Remarks for the user (float64 tensors converted, ...). */
  readonly onNote?: (note: string) => void;
}

/** The layout stc expects for a parameter: the weight of a conv (OIHW) or transposed conv (IOHW), else as is. */
export function targetLayouts(g: Graph): Map<string, TensorLayout> {
  const m = new Map<string, TensorLayout>();
  for (const n of g.nodes) {
    if (n.op === 'conv2d' && n.inputs[1]) m.set(n.inputs[1], 'OIHW');
    if (n.op === 'convTranspose2d' && n.inputs[1]) m.set(n.inputs[1], 'IOHW');
  }
  return m;
}

interface Binding {
  readonly param: Value;
  readonly tensor: string;
  readonly layout: TensorLayout;
}

function resolveBindings(source: Extract<WeightSource, { kind: 'file' }>, params: readonly Value[], file: TensorFile): Binding[] {
  const m = source.mapping;
  switch (m.kind) {
    case 'identity':
      return params.map((p) => ({ param: p, tensor: p.id, layout: 'asis' }));
    case 'explicit': {
      const byParam = new Map(m.entries.map((e) => [e.param, e]));
      return params.map((p) => {
        const e = byParam.get(p.id);
        if (!e) throw new WeightError('unbound_param', `the weights mapping for ${file.path} does not bind parameter ${p.id}`);
        return { param: p, tensor: e.tensor, layout: e.layout };
      });
    }
    case 'ordered': {
      if (m.params.length !== file.entries.length)
        throw new WeightError(
          'count_mismatch',
          `weights file ${file.path} has ${file.entries.length} tensors, the ordered mapping lists ${m.params.length} parameters`,
        );
      const index = new Map(m.params.map((p, i) => [p.param, i]));
      return params.map((p) => {
        const i = index.get(p.id);
        if (i === undefined) throw new WeightError('unbound_param', `the ordered weights mapping for ${file.path} does not list parameter ${p.id}`);
        return { param: p, tensor: file.entries[i]!.name, layout: m.params[i]!.layout };
      });
    }
  }
}

function checkShape(file: TensorFile, b: Binding, entry: TensorEntry, target: TensorLayout): void {
  const want = b.param.shape as readonly number[];
  const layoutsApply = b.layout !== 'asis' && target !== 'asis' && entry.shape.length === 4;
  const got = layoutsApply ? convertShape(entry.shape, b.layout as Exclude<TensorLayout, 'asis'>, target as Exclude<TensorLayout, 'asis'>) : entry.shape;
  if (got.length === want.length && got.every((d, i) => d === want[i])) return;
  const as = layoutsApply ? ` (${fmtShape(got)} as ${target})` : '';
  throw new WeightError(
    'shape_mismatch',
    `weights file ${file.path}: tensor ${b.tensor} has shape ${fmtShape(entry.shape)}${as}, but parameter ${b.param.id} needs ${fmtShape(want)}`,
  );
}

/** Resolve the spec's weight path (relative to the spec), unless overridden. */
export function weightPath(source: Extract<WeightSource, { kind: 'file' }>, opts: BindOptions): string {
  if (opts.pathOverride !== undefined) return resolve(opts.pathOverride);
  return isAbsolute(source.path) ? source.path : resolve(opts.specDir, source.path);
}

export async function bindWeights(g: Graph, source: WeightSource, opts: BindOptions): Promise<WeightMap> {
  let params = paramsOf(g);
  if (opts.params) {
    const want = new Set(opts.params);
    params = params.filter((p) => want.has(p.id));
  }
  const out = new Map<string, HostTensor>();
  if (source.kind === 'random') {
    for (const p of params) {
      if (!p.init) throw new Error(`IR invariant: parameter ${p.id} has no initialiser`);
      out.set(p.id, initParam(source.seed, p.id, p.shape as number[], p.init));
    }
    return out;
  }
  if (source.kind === 'pretrained') {
    const bound = await bindPretrained(
      source.name,
      params.map((p) => p.id),
      g.values.get('preprocess.mean')?.kind === 'param',
      { ...(opts.pathOverride !== undefined && { pathOverride: opts.pathOverride }), ...(opts.searchDirs && { searchDirs: opts.searchDirs }), ...(opts.profile && { profile: opts.profile }), ...(opts.onNote && { onNote: opts.onNote }) },
    );
    for (const [id, t] of bound) refuseNonFinite(t, `pretrained ${source.name} weights: parameter ${id}`);
    return bound;
  }
  const file = await openWeights(source.format, weightPath(source, opts));
  const bindings = resolveBindings(source, params, file);
  const entries = new Map(file.entries.map((e) => [e.name, e]));
  const targets = targetLayouts(g);
  // Check everything before reading any data, so a wrong file fails fast.
  for (const b of bindings) {
    const entry = entries.get(b.tensor);
    if (!entry || entry.unavailable) {
      const why = entry?.unavailable ? ` (${entry.unavailable})` : '';
      throw new WeightError('missing_tensor', `weights file ${file.path} has no tensor ${b.tensor} (needed for parameter ${b.param.id})${why}`);
    }
    checkShape(file, b, entry, targets.get(b.param.id) ?? 'asis');
  }
  try {
    for (const b of bindings) {
      const t = await file.read(b.tensor);
      refuseNonFinite(t, `weights file ${file.path}: tensor ${b.tensor} (parameter ${b.param.id})`);
      out.set(b.param.id, convertLayout(t, b.layout, targets.get(b.param.id) ?? 'asis'));
    }
  } finally {
    file.close?.();
  }
  return out;
}
