/**
 * A style-transfer objective, as the DSL lowers it: which loss network and taps, which terms,
 * with which weights and attributes. Term kinds are open: each is a module registered in
 * `registry.ts` (see `term-kind.ts`), which declares its attributes and builds its graphs; the
 * objective compiler (build.ts for Gatys, assemble.ts for any step graph) turns this into IR.
 */

/**
 * Content loss normalisation.
 * - `half_sum`: Gatys et al. 2016 eq. 1, ½ Σ (F − P)².
 * - `mean`: Johnson et al. 2016 feature reconstruction loss, ‖F − P‖² / (C H W), i.e. a per-element mean.
 */
export type ContentNorm = 'half_sum' | 'mean';

/**
 * Gram / style loss normalisation.
 * - `gatys`: G = F Fᵀ (unnormalised); E = Σ (G − A)² / (4 N² M²), N = channels, M = H·W (Gatys eq. 4).
 * - `johnson`: G = F Fᵀ / (C H W); E = ‖G − A‖²_F (Johnson eq. 3, summed over the Gram entries).
 */
export type GramNorm = 'gatys' | 'johnson';

export interface TapWeight {
  readonly tap: string;
  readonly weight: number;
}

/** A decoded term attribute (numbers, enumeration members and strings, booleans). */
export type AttrValue = number | string | boolean;

/**
 * One term of an objective: `kind(weight: w, attr: v, ...) { tap: w_l, ... }`.
 * `attrs` holds every attribute of the kind's schema except `weight`, defaults filled in.
 */
export interface LossTerm {
  readonly kind: string;
  /** The term's weight (α, β, λ_TV ...). */
  readonly weight: number;
  /** Taps with per-layer weights; empty for image terms such as `tv`. */
  readonly taps: readonly TapWeight[];
  readonly attrs: Readonly<Record<string, AttrValue>>;
}

export interface ObjectiveSpec {
  readonly name: string;
  /** Name of the network (in the compiled module) used as the loss network. */
  readonly lossNet: string;
  readonly terms: readonly LossTerm[];
}

/** Read a term attribute that its kind's schema guarantees (defaults are filled in by the checker). */
export function attr<T extends AttrValue>(t: LossTerm, name: string): T {
  const v = t.attrs[name];
  if (v === undefined) throw new Error(`term ${t.kind} has no attribute ${name}`);
  return v as T;
}
