/**
 * Shared CLI plumbing for commands that take a spec: compile it and render
 * diagnostics (paths relative to the working directory), pick a network, and
 * turn a parsed `--size` (flags.ts) into bindings for the graph's size variables.
 */
import path from 'node:path';
import { compileFile, formatDiagnostics, getNetwork, type CompiledModule, type NetworkDef } from '../compiler/frontend.ts';
import { dimVars, type DimEnv } from '../compiler/ir/dim.ts';
import type { Diagnostic } from '../dsl/diagnostics.ts';
import type { Graph } from '../compiler/ir/types.ts';
import { UserError } from '../util/errors.ts';

/** A spec with errors: the message is a count line followed by the rendered diagnostics. */
export class SpecError extends UserError {
  constructor(
    message: string,
    readonly diagnostics: readonly Diagnostic[],
  ) {
    super(message);
  }
}

/** Render diagnostics with file names relative to the working directory. */
export function renderDiagnostics(diags: readonly Diagnostic[], sources: ReadonlyMap<string, string>): string {
  const rel = (f: string) => {
    const r = path.isAbsolute(f) ? path.relative(process.cwd(), f) : f;
    return r && !r.startsWith('..') ? r : f;
  };
  const relSpan = <S extends { readonly file: string }>(s: S): S => ({ ...s, file: rel(s.file) });
  const relDiags = diags.map((d) => ({
    ...d,
    ...(d.span && { span: relSpan(d.span) }),
    ...(d.notes && { notes: d.notes.map((n) => ({ ...n, span: relSpan(n.span) })) }),
  }));
  const relSources = new Map([...sources].map(([k, v]) => [rel(k), v]));
  return formatDiagnostics(relDiags, relSources);
}

/** Compile a spec; throws SpecError (rendered diagnostics) when it has errors. */
export function loadSpec(file: string): CompiledModule {
  const r = compileFile(file);
  if (!r.module) {
    const n = r.diagnostics.filter((d) => d.severity === 'error').length;
    throw new SpecError(`${n} error${n === 1 ? '' : 's'} in ${file}\n${renderDiagnostics(r.diagnostics, r.sources)}`, r.diagnostics);
  }
  return r.module;
}

/** The network named by --network, or the spec's main network. */
export function pickNetwork(mod: CompiledModule, name?: string): NetworkDef {
  const net = getNetwork(mod, name);
  if (!net) {
    const known = [...mod.networks.keys()].join(', ') || 'none';
    throw new UserError(name ? `no network '${name}' in ${mod.file} (networks: ${known})` : `${mod.file} declares no network`);
  }
  return net;
}

/** Bind the graph's input size variables: N (1 unless a batch is given), H and W from the size. Other variables are an error. */
export function sizeEnv(g: Graph, size: { height: number; width: number; batch?: number }): DimEnv {
  const env: Record<string, number> = {};
  for (const id of g.inputs)
    for (const d of g.values.get(id)!.shape)
      for (const v of dimVars(d)) {
        if (v === 'N') env[v] = size.batch ?? 1;
        else if (v === 'H') env[v] = size.height;
        else if (v === 'W') env[v] = size.width;
        else throw new UserError(`input size variable '${v}' cannot be bound by --size (only N, H, W)`);
      }
  return env;
}
