/**
 * The registry of objective term kinds. The checker, the objective compiler, the Gatys engine and
 * the trainer look kinds up here, so a new kind is one module plus one `register` call: built-in
 * kinds are listed below; a test or a plug-in registers its own with `registerTerm`.
 */
import type { TermKind } from './term-kind.ts';
import { contentTerm } from './terms/content.ts';
import { styleTerm } from './terms/style.ts';
import { tvTerm } from './terms/tv.ts';
import { meanStdTerm } from './terms/mean-std.ts';
import { histogramTerm } from './terms/histogram.ts';

export const BUILTIN_TERMS: readonly TermKind[] = [contentTerm, styleTerm, tvTerm, meanStdTerm, histogramTerm];

export class TermRegistry {
  private readonly kinds = new Map<string, TermKind>();

  constructor(kinds: readonly TermKind[] = []) {
    for (const k of kinds) this.register(k);
  }

  /** Add a kind; returns a function that removes it again. A name can be registered once. */
  register(kind: TermKind): () => void {
    if (this.kinds.has(kind.kind)) throw new Error(`objective term kind ${kind.kind} is already registered`);
    this.kinds.set(kind.kind, kind);
    return () => {
      if (this.kinds.get(kind.kind) === kind) this.kinds.delete(kind.kind);
    };
  }

  get(kind: string): TermKind | undefined {
    return this.kinds.get(kind);
  }

  /** The kind of a term that passed the checker; an unknown kind here is an internal error. */
  require(kind: string): TermKind {
    const k = this.kinds.get(kind);
    if (!k) throw new Error(`objective term kind ${kind} is not registered (kinds: ${this.names().join(', ')})`);
    return k;
  }

  names(): string[] {
    return [...this.kinds.keys()];
  }

  all(): TermKind[] {
    return [...this.kinds.values()];
  }

  /** The distinct CLI override flags, with the kinds each one sets. */
  overrides(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const k of this.kinds.values()) if (k.override) out.set(k.override, [...(out.get(k.override) ?? []), k.kind]);
    return out;
  }
}

let defaultRegistry: TermRegistry | undefined;

/** The process-wide registry, created with the built-in kinds on first use. */
export function termRegistry(): TermRegistry {
  defaultRegistry ??= new TermRegistry(BUILTIN_TERMS);
  return defaultRegistry;
}

/** Register a kind in the process-wide registry; returns its unregister function. */
export function registerTerm(kind: TermKind): () => void {
  return termRegistry().register(kind);
}
