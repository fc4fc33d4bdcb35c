/**
 * The contract of an objective term kind: one module per kind (terms/*.ts), collected by a
 * registry (registry.ts). A kind declares
 * - its attribute schema (checked by the checker, with spans),
 * - whether it reads taps,
 * - the CLI flag that overrides its weight,
 * - the target values it needs, computed from the content image or from every style image by a
 *   target graph (once), optionally post-processed on the host, and optionally recomputed from the
 *   current image every k iterations (`refresh`),
 * - its contribution to the step graph: an unweighted scalar loss built from the generated image's
 *   features and its targets.
 * Gatys (build.ts) and training (runtime/train) both assemble step graphs from these modules
 * (assemble.ts), so a kind defined once works in both.
 */
import type { GraphBuilder } from '../ir/builder.ts';
import type { HostTensor } from '../ir/types.ts';
import type { ParamSpec } from '../checker/values.ts';
import type { LossTerm } from './types.ts';

/** Building a term's target values from the features of a target image (N = 1). */
export interface TargetContext {
  readonly b: GraphBuilder;
  /** The target image's features at a tap, [1, C, h, w]. */
  feature(tap: string): string;
  /** The generated image's feature shape at a tap ([N, C, H, W] of the step), for rescaling to its size. */
  outputShape(tap: string): readonly number[];
}

/** Building a term's contribution to a step graph. */
export interface StepContext {
  readonly b: GraphBuilder;
  /** The generated image [N, 3, H, W], RGB 0..255. */
  readonly image: string;
  /** Batch size N of the step (1 for Gatys; terms report the mean over the batch). */
  readonly batch: number;
  /** The generated image's features at a tap, [N, C, h, w]. */
  feature(tap: string): string;
  /**
   * One of this term's targets (a name its `target.build` or `refresh.compute` produced), as the
   * step sees it: a graph input fed with the computed value, or (training content) an in-graph value.
   * `style` is the style image's index for per-style targets (`target.perStyle`).
   */
  target(name: string, style?: number): string;
  /** Number of style images the step is built for. */
  readonly styles: number;
  /**
   * A run-time mask [1, 1, h, w] at this tap's resolution: `content` (the content mask) or the region of
   * style image `index`. Masks are images in 0..1, downsampled by area to each tap (runtime/masks).
   */
  mask(source: 'content' | 'style', index: number, tap: string): string;
  /** A prefix for the names of the values this term adds. */
  readonly stem: string;
}

/** Targets computed from an image by the loss network, once per run. */
export interface TermTarget {
  /** The content image (at the output size) or each style image (at its style size). */
  readonly image: 'content' | 'style';
  /**
   * Style targets of several style images are blended (Σ b_k A^(k), Σ b_k = 1: one statistic) unless
   * the term keeps one per style image (masked style: each image has its own region).
   */
  perStyle?(term: LossTerm): boolean;
  /** The target values, by name (e.g. the tap), from the target image's features. */
  build(ctx: TargetContext, term: LossTerm): ReadonlyMap<string, string>;
  /**
   * Host post-processing of the computed values (operations the IR has no op for, e.g. sorting), by
   * name; `outputShape` as in TargetContext. Runs before blending.
   */
  finish?(values: Readonly<Record<string, HostTensor>>, term: LossTerm, outputShape: (tap: string) => readonly number[]): Record<string, HostTensor>;
}

/**
 * Step targets recomputed from the current image every `every(term)` iterations: the image's
 * features at the term's taps (`feature:<tap>` of the refresh graph) and the term's own targets go in,
 * the step targets come out (Risser et al.'s histogram remapping).
 */
export interface TermRefresh {
  every(term: LossTerm): number;
  /** Names and shapes of the step targets `compute` returns (the step graph's inputs). */
  shapes(term: LossTerm, outputShape: (tap: string) => readonly number[]): ReadonlyMap<string, readonly number[]>;
  compute(term: LossTerm, features: ReadonlyMap<string, HostTensor>, targets: Readonly<Record<string, HostTensor>>): Record<string, HostTensor>;
}

export interface TermKind {
  /** The name in specs: `content(...) { conv4_2 }`. */
  readonly kind: string;
  /** One line for diagnostics and docs. */
  readonly summary: string;
  /** Attributes, `weight` included (positional order as listed); the checker binds and decodes them. */
  readonly attributes: readonly ParamSpec[];
  /** `required`: at least one tap (`tap: w`, w default 1); `none`: an image term that takes no taps. */
  readonly taps: 'required' | 'none';
  /** The CLI flag (without `--`) whose value replaces this term's weight; several kinds may share one. */
  readonly override?: string;
  /** With `override` on an objective without this kind: the term to add (e.g. `--tv-weight` adds TV). */
  addWithWeight?(weight: number): LossTerm;
  /** Cross-attribute checks the schema cannot express; a message, or undefined when valid. */
  validate?(term: LossTerm): string | undefined;
  /**
   * Whether the unweighted loss is a sum over positions, so it grows with the pixel count while the Gram
   * terms (normalised by N²M²) do not: a coarse scale of `stylize --scales` raises such a term's weight by
   * the area ratio (atScale in scale-weights.ts) to keep the final scale's balance of terms.
   */
  extensive?(term: LossTerm): boolean;
  readonly target?: TermTarget;
  readonly refresh?: TermRefresh;
  /** The unweighted scalar loss of the term (its `weight` is applied by the assembler). */
  step(ctx: StepContext, term: LossTerm): string;
}
