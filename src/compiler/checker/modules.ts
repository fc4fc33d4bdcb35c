/**
 * Loading a spec and its imports: `import vgg19` reads stdlib/vgg19.style;
 * `import "../nets/x.style"` reads a file relative to the importing spec.
 * Detects missing imports and import cycles, and builds each module's scope
 * (its own declarations plus those of the modules it imports directly).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { BlockDecl, Decl, NetworkAlias, NetworkDecl, ObjectiveDecl, Program } from '../../dsl/ast.ts';
import { error, type Diagnostic } from '../../dsl/diagnostics.ts';
import { parse } from '../../dsl/parser.ts';
import { packageRoot } from '../../util/package-root.ts';
import { MAX_IMPORT_DEPTH } from './limits.ts';

/** The stdlib folder shipped with stc (`<repo>/stdlib`). */
export const STDLIB_DIR = path.join(packageRoot(import.meta.url), 'stdlib');

export type NamedDecl = BlockDecl | NetworkDecl | NetworkAlias | ObjectiveDecl;

export interface Module {
  /** Absolute path (or the given name for in-memory sources). */
  readonly file: string;
  readonly program: Program;
  /** Modules imported directly, in order. */
  readonly imports: Module[];
  /** Names visible in this module: own declarations and those of directly imported modules. */
  readonly scope: Map<string, { decl: NamedDecl; module: Module }>;
  /** Whether the file parsed without syntax errors (only such modules are checked further). */
  readonly parsed: boolean;
}

export interface LoadOptions {
  /** Text to use instead of reading a file, by absolute path. */
  readonly sourceOverrides?: ReadonlyMap<string, string>;
  readonly stdlibDir?: string;
}

export interface LoadResult {
  readonly entry: Module;
  /** Source text of every file read, by the name used in spans. */
  readonly sources: Map<string, string>;
  readonly diagnostics: Diagnostic[];
}

const isNamed = (d: Decl): d is NamedDecl => d.kind !== 'import';

export function loadModules(entryFile: string, entryText: string, opts: LoadOptions = {}): LoadResult {
  const sources = new Map<string, string>();
  const diagnostics: Diagnostic[] = [];
  const done = new Map<string, Module>();
  const inProgress = new Set<string>();
  const stdlib = opts.stdlibDir ?? STDLIB_DIR;

  const read = (file: string): string | undefined => {
    const o = opts.sourceOverrides?.get(file);
    if (o !== undefined) return o;
    if (!existsSync(file)) return undefined;
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
  };

  const load = (file: string, text: string): Module => {
    inProgress.add(file);
    sources.set(file, text);
    const { program, diagnostics: syntax } = parse(text, file);
    diagnostics.push(...syntax);
    const mod: Module = { file, program, imports: [], scope: new Map(), parsed: syntax.length === 0 };
    for (const d of program.decls) {
      if (d.kind !== 'import') continue;
      const target =
        d.target.kind === 'stdlib' ? path.join(stdlib, `${d.target.value}.style`) : path.resolve(path.dirname(file), d.target.value);
      if (inProgress.has(target)) {
        diagnostics.push(error('cycle', `import cycle: ${path.basename(file)} imports ${path.basename(target)}, which (indirectly) imports it`, d.target.span));
        continue;
      }
      let m = done.get(target);
      if (!m && inProgress.size >= MAX_IMPORT_DEPTH) {
        diagnostics.push(error('cycle', `imports nested more than ${MAX_IMPORT_DEPTH} files deep`, d.target.span));
        continue;
      }
      if (!m) {
        const t = read(target);
        if (t === undefined) {
          const what = d.target.kind === 'stdlib' ? `no stdlib module '${d.target.value}' (looked for ${target})` : `cannot find imported file ${target}`;
          diagnostics.push(error('missing-import', what, d.target.span));
          continue;
        }
        m = load(target, t);
      }
      if (!mod.imports.includes(m)) mod.imports.push(m);
    }
    for (const d of program.decls.filter(isNamed)) {
      const prev = mod.scope.get(d.name.name);
      if (prev) diagnostics.push(error('duplicate-name', `'${d.name.name}' is already declared at line ${prev.decl.name.span.line}`, d.name.span));
      else mod.scope.set(d.name.name, { decl: d, module: mod });
    }
    for (const imp of mod.imports)
      for (const d of imp.program.decls.filter(isNamed)) {
        const prev = mod.scope.get(d.name.name);
        if (!prev) mod.scope.set(d.name.name, { decl: d, module: imp });
        else if (prev.decl !== d && prev.module !== mod)
          diagnostics.push(
            error('duplicate-name', `'${d.name.name}' is declared by both ${path.basename(prev.module.file)} and ${path.basename(imp.file)}`, prev.decl.name.span),
          );
        // A local declaration shadows an imported one of the same name.
      }
    inProgress.delete(file);
    done.set(file, mod);
    return mod;
  };

  const entry = load(entryFile, entryText);
  return { entry, sources, diagnostics };
}
