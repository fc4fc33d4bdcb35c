/**
 * Strong-Wolfe line search (Nocedal & Wright, "Numerical Optimization", 2nd ed.,
 * Algorithms 3.5 and 3.6), with safeguarded cubic interpolation for trial steps,
 * following the structure of PyTorch's `_strong_wolfe` (itself from minFunc).
 *
 * Along x + t d it finds t satisfying
 *   sufficient decrease  f(x + t d) ≤ f(x) + c1 t ∇f(x)·d          (Armijo)
 *   curvature            |∇f(x + t d)·d| ≤ c2 |∇f(x)·d|              (strong Wolfe)
 * or, after `maxEvals` trials or when the bracket has shrunk below `tolChange`,
 * returns the best point found (lowest f satisfying Armijo if any, else the
 * lower end of the bracket, which may be t = 0: the caller treats that as a failure).
 */
import { checkFinite } from './errors.ts';
import type { Evaluate } from './types.ts';
import { dot, maxAbs, stepInto, type Vec } from './vec.ts';

export interface LineSearchOptions {
  readonly c1: number;
  readonly c2: number;
  readonly tolChange: number;
  readonly maxEvals: number;
}

export const defaultLineSearch: LineSearchOptions = { c1: 1e-4, c2: 0.9, tolChange: 1e-9, maxEvals: 25 };

export interface LineSearchResult {
  readonly t: number;
  readonly loss: number;
  readonly grad: Float32Array;
  readonly evaluations: number;
}

/** Minimiser of the cubic interpolating (x1, f1, g1) and (x2, f2, g2), clamped to bounds. */
export function cubicInterpolate(x1: number, f1: number, g1: number, x2: number, f2: number, g2: number, bounds?: readonly [number, number]): number {
  const [lo, hi] = bounds ?? (x1 <= x2 ? [x1, x2] : [x2, x1]);
  const d1 = g1 + g2 - (3 * (f1 - f2)) / (x1 - x2);
  const d2sq = d1 * d1 - g1 * g2;
  if (d2sq >= 0) {
    const d2 = Math.sqrt(d2sq);
    const t = x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2)) : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
    if (Number.isFinite(t)) return Math.min(Math.max(t, lo), hi);
  }
  return (lo + hi) / 2;
}

interface Point {
  t: number;
  f: number;
  g: Float32Array;
  gtd: number;
}

/**
 * @param x start point, f0/g0 its value and gradient, gtd0 = g0·d (< 0), t the first trial step.
 * @param evalCount evaluations already spent (for error messages).
 */
export async function strongWolfe(
  evaluate: Evaluate,
  x: Vec,
  d: Vec,
  f0: number,
  g0: Float32Array,
  gtd0: number,
  t: number,
  opts: LineSearchOptions = defaultLineSearch,
  evalCount = 0,
): Promise<LineSearchResult> {
  const { c1, c2, tolChange, maxEvals } = opts;
  const dNorm = maxAbs(d);
  const trial = new Float32Array(x.length);
  let evals = 0;
  const at = async (step: number): Promise<Point> => {
    const r = await evaluate(stepInto(trial, x, step, d));
    evals++;
    checkFinite(r.loss, r.grad, evalCount + evals);
    const g = Float32Array.from(r.grad);
    return { t: step, f: r.loss, g, gtd: dot(g, d) };
  };
  const armijo = (p: Point): boolean => p.f <= f0 + c1 * p.t * gtd0;
  const curvature = (p: Point): boolean => Math.abs(p.gtd) <= -c2 * gtd0;

  let prev: Point = { t: 0, f: f0, g: g0, gtd: gtd0 };
  let cur = await at(t);
  let bracket: Point[] | undefined;
  let done = false;

  // Bracketing phase: grow the step until an interval containing a Wolfe point is known.
  for (let iter = 0; ; iter++) {
    if (!armijo(cur) || (iter > 0 && cur.f >= prev.f)) {
      bracket = [prev, cur];
      break;
    }
    if (curvature(cur)) {
      bracket = [cur];
      done = true;
      break;
    }
    if (cur.gtd >= 0) {
      bracket = [prev, cur];
      break;
    }
    if (evals >= maxEvals) {
      bracket = [{ t: 0, f: f0, g: g0, gtd: gtd0 }, cur];
      break;
    }
    const minStep = cur.t + 0.01 * (cur.t - prev.t);
    const maxStep = cur.t * 10;
    const next = cubicInterpolate(prev.t, prev.f, prev.gtd, cur.t, cur.f, cur.gtd, [minStep, maxStep]);
    prev = cur;
    cur = await at(next);
  }

  // Zoom phase: shrink the bracket [lo, hi] (lo has the lower f) until a Wolfe point is hit.
  let insufficientProgress = false;
  let lo = 0;
  let hi = bracket.length > 1 && bracket[1]!.f < bracket[0]!.f ? 0 : 1;
  if (bracket.length > 1) lo = 1 - hi;
  while (!done && evals < maxEvals && bracket.length > 1) {
    const a = bracket[0]!;
    const b = bracket[1]!;
    const bmax = Math.max(a.t, b.t);
    const bmin = Math.min(a.t, b.t);
    if ((bmax - bmin) * dNorm < tolChange) break;
    let step = cubicInterpolate(a.t, a.f, a.gtd, b.t, b.f, b.gtd);
    // Keep the trial away from the bracket ends, or the bracket may stop shrinking.
    const eps = 0.1 * (bmax - bmin);
    if (Math.min(bmax - step, step - bmin) < eps) {
      if (insufficientProgress || step >= bmax || step <= bmin) {
        step = Math.abs(step - bmax) < Math.abs(step - bmin) ? bmax - eps : bmin + eps;
        insufficientProgress = false;
      } else insufficientProgress = true;
    } else insufficientProgress = false;
    const p = await at(step);
    if (!armijo(p) || p.f >= bracket[lo]!.f) {
      bracket[hi] = p;
    } else {
      if (curvature(p)) done = true;
      else if (p.gtd * (bracket[hi]!.t - bracket[lo]!.t) >= 0) bracket[hi] = bracket[lo]!;
      bracket[lo] = p;
    }
    if (bracket[0]!.f <= bracket[1]!.f) {
      lo = 0;
      hi = 1;
    } else {
      lo = 1;
      hi = 0;
    }
  }
  const best = bracket[lo]!;
  return { t: best.t, loss: best.f, grad: best.g, evaluations: evals };
}
