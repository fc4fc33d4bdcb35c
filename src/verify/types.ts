/** The conformance engine's vocabulary: backends, comparison sides, tolerances and the report. */
import type { HostTensor } from '../compiler/ir/types.ts';

export type BackendName = 'onnx' | 'tfjs' | 'reference';
export const BACKEND_NAMES: readonly BackendName[] = ['onnx', 'tfjs', 'reference'];

/** One side of a comparison: a backend's outputs, or the PyTorch golden. */
export type Side = BackendName | 'golden';

/**
 * A pass criterion: relErr = max|a − b| / max|b| <= `relErr` (see compare.ts).
 * `why` says what the number is derived from, for the documentation and --verbose output.
 */
export interface Tolerance {
  readonly relErr: number;
  readonly why: string;
}

/** Golden outputs for the first `items` batch items, by the stc output name they are compared with. */
export interface GoldenExpectation {
  /** The golden case (`models/johnson_in`). */
  readonly case: string;
  readonly outputs: ReadonlyMap<string, HostTensor>;
  /** Leading batch items the golden covers (the golden's batch size). */
  readonly items: number;
}

export type BackendStatus =
  | { readonly backend: BackendName; readonly status: 'ran'; readonly ms: number; readonly detail?: string }
  | { readonly backend: BackendName; readonly status: 'skipped'; readonly reason: string }
  | { readonly backend: BackendName; readonly status: 'error'; readonly message: string };

export interface Comparison {
  /** Candidate (left) and reference (right: the more trusted side, whose magnitude scales the error). */
  readonly a: Side;
  readonly b: Side;
  readonly output: string;
  readonly pass: boolean;
  /** NaN when a NaN appeared; Infinity when the shapes differ. */
  readonly maxAbs: number;
  readonly relErr: number;
  /** max|b|. */
  readonly scale: number;
  readonly tolerance: Tolerance;
  /** Index of the largest difference, in the compared tensor's shape. */
  readonly worstAt?: readonly number[];
  /** The compared shape, or why the comparison could not be made (shape mismatch). */
  readonly shape: readonly number[];
  readonly problem?: string;
  /** The golden covers only the first `items` batch items. */
  readonly items?: number;
}

export interface VerifyReport {
  readonly network: string;
  /** Input shapes by input name. */
  readonly inputs: Readonly<Record<string, readonly number[]>>;
  /** How the inputs were generated (seed per input). */
  readonly seeds: Readonly<Record<string, number>>;
  /** How the weights were obtained (file path, random seed, hash rule). */
  readonly weights: string;
  /** The golden case compared with, if any. */
  readonly golden?: string;
  readonly backends: readonly BackendStatus[];
  readonly comparisons: readonly Comparison[];
  /** Visible notes: skipped goldens, skipped backends, substitutions. */
  readonly notes: readonly string[];
  /** Every comparison passed, no backend failed, and at least one comparison was made. */
  readonly pass: boolean;
}

/** Progress callbacks (the library never prints). */
export type VerifyEvent =
  | { readonly kind: 'backend-start'; readonly backend: BackendName }
  | { readonly kind: 'backend-done'; readonly backend: BackendName; readonly ms: number };
