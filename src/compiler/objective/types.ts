/**
 * A style-transfer objective, as the DSL lowers it: which loss network and
 * taps, which terms, with which weights and normalisation conventions. The
 * objective compiler (objective/build.ts) turns this into IR loss graphs.
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

export interface ContentTerm {
  readonly kind: 'content';
  readonly taps: readonly TapWeight[];
  readonly weight: number; // α
  readonly norm: ContentNorm;
}

export interface StyleTerm {
  readonly kind: 'style';
  readonly taps: readonly TapWeight[]; // w_l
  readonly weight: number; // β
  readonly norm: GramNorm;
}

/** Total variation: Σ (x[i+1,j] − x[i,j])² + (x[i,j+1] − x[i,j])², optionally divided by the element count. */
export interface TvTerm {
  readonly kind: 'tv';
  readonly weight: number; // λ_TV
  readonly norm: 'sum' | 'mean';
}

export type LossTerm = ContentTerm | StyleTerm | TvTerm;

export interface ObjectiveSpec {
  readonly name: string;
  /** Name of the network (in the compiled module) used as the loss network. */
  readonly lossNet: string;
  readonly terms: readonly LossTerm[];
}
