/**
 * The contract shared by stc's optimisers: minimise a scalar function of a
 * float32 vector, given an asynchronous oracle returning value and gradient.
 */

export interface Evaluation {
  readonly loss: number;
  /** ∂loss/∂x, same length as x. The optimiser never keeps a reference past the next call. */
  readonly grad: Float32Array;
}

/** The objective oracle. Must not retain or mutate `x` after resolving. */
export type Evaluate = (x: Float32Array) => Promise<Evaluation>;

export interface IterationInfo {
  /** 1-based iteration number. */
  readonly iteration: number;
  readonly loss: number;
  /** Total objective evaluations so far (line-search trials included). */
  readonly evaluations: number;
  /** The current iterate (a live view: copy it to keep it). */
  readonly x: Float32Array;
}

/** Return `'stop'` to end the run after this iteration. */
export type OnIteration = (info: IterationInfo) => void | 'stop' | Promise<void | 'stop'>;

export interface OptimizeOptions {
  /** Maximum number of iterations (L-BFGS: outer iterations; Adam: steps). */
  readonly iterations: number;
  readonly onIteration?: OnIteration;
  /**
   * A box constraint lower ≤ x_i ≤ upper for every coordinate (pixel range). Adam clips
   * after each step; L-BFGS freezes coordinates at a bound whose gradient points outward
   * and clips after each iteration (see lbfgs.ts).
   */
  readonly bounds?: Bounds;
}

export interface Bounds {
  readonly lower: number;
  readonly upper: number;
}

/** Clip x into the box in place; returns whether anything moved. */
export function clipToBounds(x: Float32Array, b: Bounds): boolean {
  let changed = false;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v < b.lower) {
      x[i] = b.lower;
      changed = true;
    } else if (v > b.upper) {
      x[i] = b.upper;
      changed = true;
    }
  }
  return changed;
}

export type StopReason = 'iterations' | 'converged' | 'no_progress' | 'callback';

export interface OptimizeResult {
  readonly x: Float32Array;
  readonly loss: number;
  readonly iterations: number;
  readonly evaluations: number;
  readonly reason: StopReason;
}
