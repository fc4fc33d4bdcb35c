/**
 * The public entry to the language front end: spec text in, checked IR out.
 *
 *   const { module, diagnostics } = compileFile('specs/johnson-in.style');
 *   if (!module) console.error(formatDiagnostics(diagnostics, sources));
 *   const net = module.networks.get(module.main!)!;   // net.graph: symbolic-shape IR with taps
 *
 * Never throws on bad user input (syntax, names, shapes, imports, weights):
 * those come back as diagnostics. `module` is present only when there are no errors.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { NetworkAlias, NetworkDecl, ObjectiveDecl } from '../dsl/ast.ts';
import { error, hasErrors, sortDiagnostics, type Diagnostic } from '../dsl/diagnostics.ts';
import type { WeightSource } from './weights.ts';
import type { Graph, SourceSpan } from './ir/types.ts';
import type { ObjectiveSpec } from './objective/types.ts';
import { bindEnv, declParams, lowerNetwork } from './checker/lower.ts';
import { loadModules, type LoadOptions, type Module } from './checker/modules.ts';
import { lowerObjective } from './checker/objective.ts';
import { lowerWeights } from './checker/weights.ts';
import { MAX_ALIAS_DEPTH } from './checker/limits.ts';

export type { Diagnostic } from '../dsl/diagnostics.ts';
/** Render diagnostics as `file:line:col: error: message`, the source line and a caret line. */
export { formatDiagnostics } from '../dsl/diagnostics.ts';

export interface NetworkDef {
  readonly name: string;
  /** Symbolic-shape IR (sizes N, H, W as declared); every named value is in `graph.taps`. */
  readonly graph: Graph;
  /** The spec's weight binding, if any (paths as written, relative to `specDir`). */
  readonly weights?: WeightSource;
  /** Folder of the spec file that declares the weight binding (or the network). */
  readonly specDir: string;
  readonly span: SourceSpan;
}

export interface CompiledModule {
  /** The entry spec's absolute path (or the name given to compileSource). */
  readonly file: string;
  /** Every network visible from the entry spec: its own and those of the modules it imports. */
  readonly networks: ReadonlyMap<string, NetworkDef>;
  /** Every objective visible from the entry spec. */
  readonly objectives: ReadonlyMap<string, ObjectiveSpec>;
  /** The main network: the one marked `main`, else the last network declared in the entry spec. */
  readonly main?: string;
}

export interface CompileOptions {
  /** Source text by absolute path, used instead of the file system (editors, tests). */
  readonly sourceOverrides?: ReadonlyMap<string, string>;
  /** The stdlib folder (default: the stdlib/ shipped with stc). */
  readonly stdlibDir?: string;
}

export interface CompileResult {
  readonly module?: CompiledModule;
  /** Sorted by file and position. */
  readonly diagnostics: Diagnostic[];
  /** Text of every file read, by the file name used in diagnostics (for formatDiagnostics). */
  readonly sources: ReadonlyMap<string, string>;
}

/** Compile a spec file (and its imports). */
export function compileFile(file: string, opts: CompileOptions = {}): CompileResult {
  const abs = path.resolve(file);
  let text = opts.sourceOverrides?.get(abs);
  if (text === undefined) {
    try {
      text = readFileSync(abs, 'utf8');
    } catch {
      return { diagnostics: [error('missing-import', `cannot read spec file ${file}`)], sources: new Map() };
    }
  }
  return compileSource(text, abs, opts);
}

/** Compile spec text; `fileName` is used in diagnostics and as the base of relative imports. */
export function compileSource(text: string, fileName: string, opts: CompileOptions = {}): CompileResult {
  const loadOpts: LoadOptions = { ...(opts.sourceOverrides && { sourceOverrides: opts.sourceOverrides }), ...(opts.stdlibDir && { stdlibDir: opts.stdlibDir }) };
  const loaded = loadModules(fileName, text, loadOpts);
  const diags = loaded.diagnostics;
  const checker = new ModuleChecker(diags);
  const module = checker.check(loaded.entry);
  const diagnostics = sortDiagnostics(dedupe(diags));
  return { ...(!hasErrors(diagnostics) && { module }), diagnostics, sources: loaded.sources };
}

/** The named network, or the main one; undefined when absent. */
export function getNetwork(mod: CompiledModule, name?: string): NetworkDef | undefined {
  const n = name ?? mod.main;
  return n === undefined ? undefined : mod.networks.get(n);
}

function dedupe(diags: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diags.filter((d) => {
    const k = `${d.span?.file}:${d.span?.line}:${d.span?.col}:${d.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

type NetDecl = NetworkDecl | NetworkAlias;

class ModuleChecker {
  private readonly nets = new Map<NetDecl, NetworkDef | null>();
  private readonly inProgress = new Set<NetDecl>();

  constructor(private readonly diags: Diagnostic[]) {}

  check(entry: Module): CompiledModule {
    const networks = new Map<string, NetworkDef>();
    const objectives = new Map<string, ObjectiveSpec>();
    const objectiveDecls: [ObjectiveDecl, Module][] = [];
    for (const [name, { decl, module }] of entry.scope) {
      if (!module.parsed) continue;
      if (decl.kind === 'network' || decl.kind === 'networkAlias') {
        const def = this.network(decl, module);
        if (def) networks.set(name, def);
      } else if (decl.kind === 'objective') objectiveDecls.push([decl, module]);
    }
    for (const [decl, module] of objectiveDecls) {
      const spec = this.objective(decl, module);
      if (spec) objectives.set(decl.name.name, spec);
    }
    const main = this.main(entry);
    return { file: entry.file, networks, objectives, ...(main && { main }) };
  }

  private main(entry: Module): string | undefined {
    const own = entry.program.decls.filter((d): d is NetDecl => d.kind === 'network' || d.kind === 'networkAlias');
    const marked = own.filter((d) => d.isMain);
    for (const extra of marked.slice(1)) this.diags.push(error('duplicate-name', `only one network can be main (also: ${marked[0]!.name.name})`, extra.span));
    return (marked[0] ?? own[own.length - 1])?.name.name;
  }

  private network(decl: NetDecl, module: Module): NetworkDef | undefined {
    const memo = this.nets.get(decl);
    if (memo !== undefined) return memo ?? undefined;
    if (this.inProgress.has(decl)) {
      this.diags.push(error('cycle', `network '${decl.name.name}' is defined in terms of itself`, decl.name.span));
      return undefined;
    }
    if (this.inProgress.size >= MAX_ALIAS_DEPTH) {
      this.diags.push(error('cycle', `network aliases chained more than ${MAX_ALIAS_DEPTH} deep ('${decl.name.name}')`, decl.name.span));
      return undefined;
    }
    this.inProgress.add(decl);
    const def = decl.kind === 'network' ? this.plainNetwork(decl, module, undefined) : this.aliasNetwork(decl, module);
    this.inProgress.delete(decl);
    this.nets.set(decl, def ?? null);
    return def;
  }

  /** Lower a network declaration; `call` gives parameter arguments (for aliases). */
  private plainNetwork(decl: NetworkDecl, module: Module, alias: { decl: NetworkAlias; module: Module } | undefined): NetworkDef | undefined {
    const before = this.diags.length;
    const args = alias?.decl.base.args ?? [];
    const env = bindEnv(`network ${decl.name.name}`, alias?.decl.base.callee ?? decl.name, declParams(decl.params), args, new Map(), this.diags, alias?.decl.base.span ?? decl.span);
    if (!env) return undefined;
    const lowered = lowerNetwork(decl, module, env, this.diags);
    if (!lowered.ok) return undefined;
    for (const extra of [...decl.weights.slice(1), ...(alias?.decl.weights.slice(1) ?? [])])
      this.diags.push(error('duplicate-name', 'a network has at most one weights binding', extra.span));
    const own = alias?.decl.weights[0];
    const binding = own ?? decl.weights[0];
    const weights = binding ? lowerWeights(binding, lowered.graph, env, this.diags) : undefined;
    if (this.diags.length > before) return undefined;
    const specDir = path.dirname(own ? alias!.module.file : module.file);
    const name = alias?.decl.name.name ?? decl.name.name;
    return { name, graph: lowered.graph, ...(weights && { weights }), specDir, span: alias?.decl.name.span ?? decl.name.span };
  }

  private aliasNetwork(decl: NetworkAlias, module: Module): NetworkDef | undefined {
    const baseName = decl.base.callee.name;
    const found = module.scope.get(baseName);
    if (!found || (found.decl.kind !== 'network' && found.decl.kind !== 'networkAlias')) {
      const what = found ? `'${baseName}' is a ${found.decl.kind}, not a network` : `unknown network '${baseName}'`;
      this.diags.push(error('unknown-name', what, decl.base.callee.span));
      return undefined;
    }
    if (found.decl.kind === 'network') return this.plainNetwork(found.decl, found.module, { decl, module });
    // An alias of an alias: same graph, possibly other weights.
    if (decl.base.args.length) {
      this.diags.push(error('arity', `'${baseName}' is itself an alias; pass parameters to the original network`, decl.base.span));
      return undefined;
    }
    const base = this.network(found.decl, found.module);
    if (!base) return undefined;
    const w = decl.weights[0];
    const weights = w ? lowerWeights(w, base.graph, new Map(), this.diags) : base.weights;
    return { ...base, name: decl.name.name, ...(weights && { weights }), specDir: w ? path.dirname(module.file) : base.specDir, span: decl.name.span };
  }

  private objective(decl: ObjectiveDecl, module: Module): ObjectiveSpec | undefined {
    const netName = decl.lossNet.name;
    const found = module.scope.get(netName);
    if (!found || (found.decl.kind !== 'network' && found.decl.kind !== 'networkAlias')) {
      this.diags.push(error('unknown-name', found ? `'${netName}' is not a network` : `unknown loss network '${netName}'`, decl.lossNet.span));
      return undefined;
    }
    const def = this.network(found.decl, found.module);
    return lowerObjective(decl, netName, def?.graph, this.diags);
  }
}
