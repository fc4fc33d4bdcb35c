/** Contracts of the Gatys runtime: what a backend supplies and what a run reports. */
import type { HostTensor } from '../../compiler/ir/types.ts';

export interface StepResult {
  /** Total loss. */
  readonly loss: number;
  /** Each term's weighted contribution, by name without the `loss:` prefix (`content`, `style`, `tv`). */
  readonly terms: Readonly<Record<string, number>>;
  /** ∂loss/∂image, planar RGB (1×3×H×W), pixel units. */
  readonly grad: Float32Array;
}

/** One forward + backward pass of the objective at an image (planar RGB 0..255, length 3·H·W). */
export type StepFn = (image: Float32Array) => Promise<StepResult>;

/**
 * A compiled objective: target computations plus the step, for one output size.
 * Built by engine.ts from the compiler's graphs and a Backend (or by tests by hand).
 */
export interface GatysEngine {
  /** The targets the terms compute from the content image at the output size (`content:<tap>` features...), finished. */
  contentTargets(image: HostTensor): Promise<Record<string, HostTensor>>;
  /** The targets the terms compute from one style image at the style size (`style:<tap>` Grams...), finished. */
  styleTargets(image: HostTensor): Promise<Record<string, HostTensor>>;
  /**
   * The step function with the given targets (content and combined style targets, by key) and masks (by
   * mask input id, ObjectiveGraphs.masks) bound.
   */
  bindTargets(targets: Readonly<Record<string, HostTensor>>, masks?: Readonly<Record<string, HostTensor>>): StepFn;
  /** Recompute the refreshed targets (TermRefresh) of the bound step from an image; nothing when no term refreshes. */
  refresh(image: Float32Array): Promise<void>;
  dispose(): Promise<void>;
}
