/**
 * Limited-memory BFGS (Nocedal 1980; Liu & Nocedal 1989), as used by Gatys et al.
 *
 * - Direction: the two-loop recursion over the last `history` pairs
 *   (s_k = x_{k+1} − x_k, y_k = g_{k+1} − g_k), with the initial inverse Hessian
 *   γ I, γ = sᵀy / yᵀy of the newest pair (Nocedal & Wright eq. 7.20).
 *   A pair is stored only when sᵀy > 1e-10 (curvature condition), which keeps the
 *   implicit inverse Hessian positive definite.
 * - Step: strong-Wolfe line search (line-search.ts). The first iteration tries
 *   t = min(1, 1/‖g‖₁) (PyTorch's choice), raised where it would move nothing in
 *   float32 (steepestStep), or the step whose largest move is `firstMove` when the
 *   caller knows the scale of a good step (a warm start); later ones t = 1 (the
 *   quasi-Newton step).
 * - Safeguards: if the direction is not a descent direction (gᵀd ≥ 0, possible
 *   with float32 gradients), or the line search makes no progress, the history is
 *   discarded and steepest descent is tried; a second consecutive failure ends the
 *   run with reason `no_progress`.
 * - Bounds (pixel range), a simple active-set projected L-BFGS: coordinates sitting
 *   on a bound with the gradient pointing outward are frozen for the iteration (their
 *   gradient entries are masked out of the two-loop recursion and their direction
 *   entries are zero); after the line search x is clipped into the box and, when the
 *   clip moved anything, f and g are re-evaluated so that the stored pair describes
 *   the point actually kept. (Not L-BFGS-B's generalised Cauchy point: cheaper, and
 *   enough for images whose optimum has few saturated pixels.)
 *
 * Vectors are float32 where the oracle sees them (x, g); the history and direction
 * are float64, and every reduction accumulates in float64.
 */
import { checkFinite } from './errors.ts';
import { defaultLineSearch, strongWolfe, type LineSearchOptions } from './line-search.ts';
import { clipToBounds, type Evaluate, type OptimizeOptions, type OptimizeResult, type StopReason } from './types.ts';
import { dot, maxAbs, sumAbs } from './vec.ts';

export interface LbfgsOptions extends OptimizeOptions {
  /** Number of (s, y) pairs kept. Default 10. */
  readonly history?: number;
  /** Stop when max |g_i| ≤ tolGrad. Default 1e-7. */
  readonly tolGrad?: number;
  /** Stop when the step or the loss change falls below this. Default 1e-9. */
  readonly tolChange?: number;
  readonly lineSearch?: Partial<LineSearchOptions>;
  /**
   * The largest coordinate move of the first iteration's trial step (along −g), in place of steepestStep's
   * guess. steepestStep's floor moves the largest pixel by 2⁻²⁰ of the range, so the line search needs about
   * five extra evaluations, growing the step tenfold each, before the first iteration ends; a run that starts
   * from the upsampled result of a similar run (coarse-to-fine Gatys) passes that run's `lastMove` instead.
   */
  readonly firstMove?: number;
}

export interface LbfgsResult extends OptimizeResult {
  /** The largest coordinate move of the last accepted step (0 when no step was taken): a later warm start's `firstMove`. */
  readonly lastMove: number;
}

interface Pair {
  readonly s: Float64Array;
  readonly y: Float64Array;
  readonly rho: number;
}

/**
 * The trial step along steepest descent d = −g (the first iteration, or after the history is dropped):
 * min(1, 1/‖g‖₁) as PyTorch, raised where it would move nothing in float32. 1/‖g‖₁ spreads a unit L1 move
 * over every coordinate: for a Gatys image (~2·10⁵ pixels in 0..255, gradients ~10⁸) that is under half an
 * ulp per pixel, so x + t·d == x, the loss does not change and the line search can only fail. The floor
 * makes the largest move 2⁻²⁰ of max |x| (8 to 16 ulps of it); the line search then grows or shrinks t as
 * usual. Where x is 0 or the step already moves x, it is min(1, 1/‖g‖₁).
 */
export function steepestStep(x: Float32Array, d: Float64Array, g: Float32Array): number {
  const t = Math.min(1, 1 / sumAbs(g));
  const dMax = maxAbs(d);
  const xMax = maxAbs(x);
  if (dMax === 0 || xMax === 0) return t;
  return Math.max(t, (xMax * 2 ** -20) / dMax);
}

export async function lbfgs(x0: Float32Array, evaluate: Evaluate, opts: LbfgsOptions): Promise<LbfgsResult> {
  const m = opts.history ?? 10;
  const tolGrad = opts.tolGrad ?? 1e-7;
  const tolChange = opts.tolChange ?? 1e-9;
  const ls: LineSearchOptions = { ...defaultLineSearch, tolChange, ...opts.lineSearch };
  const n = x0.length;
  const x = Float32Array.from(x0);
  let evaluations = 0;
  const evalAt = async (p: Float32Array): Promise<{ loss: number; grad: Float32Array }> => {
    const r = await evaluate(p);
    evaluations++;
    checkFinite(r.loss, r.grad, evaluations);
    return { loss: r.loss, grad: Float32Array.from(r.grad) };
  };

  let { loss, grad } = await evalAt(x);
  const pairs: Pair[] = [];
  const d = new Float64Array(n);
  const alpha = new Float64Array(m);
  let failures = 0;
  let iteration = 0;
  let reason: StopReason = 'iterations';
  let lastMove = 0;
  if (projectedGradMax(x, grad, opts.bounds) <= tolGrad) return { x, loss, iterations: 0, evaluations, reason: 'converged', lastMove };

  while (iteration < opts.iterations) {
    iteration++;
    // Two-loop recursion: d = −H g (over the free coordinates only, when bounded).
    const free = freeMask(x, grad, opts.bounds);
    const gFree = free ? grad.map((v, i) => (free[i] ? v : 0)) : grad;
    for (let i = 0; i < n; i++) d[i] = -gFree[i]!;
    for (let k = pairs.length - 1; k >= 0; k--) {
      const p = pairs[k]!;
      const a = p.rho * dot(p.s, d);
      alpha[k] = a;
      for (let i = 0; i < n; i++) d[i]! -= a * p.y[i]!;
    }
    if (pairs.length > 0) {
      const newest = pairs[pairs.length - 1]!;
      const gamma = 1 / (newest.rho * dot(newest.y, newest.y));
      for (let i = 0; i < n; i++) d[i]! *= gamma;
    }
    for (let k = 0; k < pairs.length; k++) {
      const p = pairs[k]!;
      const b = p.rho * dot(p.y, d);
      const c = alpha[k]! - b;
      for (let i = 0; i < n; i++) d[i]! += c * p.s[i]!;
    }
    if (free) for (let i = 0; i < n; i++) if (!free[i]) d[i] = 0;
    let gtd = dot(grad, d);
    let t = pairs.length > 0 ? 1 : iteration === 1 && opts.firstMove !== undefined && opts.firstMove > 0 ? opts.firstMove / maxAbs(d) : steepestStep(x, d, gFree);
    if (!(gtd < -tolChange) && pairs.length > 0) {
      // Not a descent direction: forget the curvature history and fall back to −g.
      pairs.length = 0;
      for (let i = 0; i < n; i++) d[i] = -gFree[i]!;
      gtd = dot(grad, d);
      t = steepestStep(x, d, gFree);
    }
    if (!(gtd < 0)) {
      reason = 'converged';
      break;
    }

    const r = await strongWolfe(evaluate, x, d, loss, grad, gtd, t, ls, evaluations);
    evaluations += r.evaluations;
    const xPrev = Float32Array.from(x);
    const gPrev = grad;
    const fPrev = loss;
    if (r.t > 0 && r.loss < loss) {
      for (let i = 0; i < n; i++) x[i] = x[i]! + r.t * d[i]!;
      loss = r.loss;
      grad = r.grad;
      if (opts.bounds && clipToBounds(x, opts.bounds)) ({ loss, grad } = await evalAt(x));
    }
    if (!(loss < fPrev)) {
      // No decrease along this direction: drop the history, refresh f and g at x (they may
      // come from a noisy or inconsistent oracle) and retry once from steepest descent.
      failures++;
      pairs.length = 0;
      if (failures >= 2) {
        reason = 'no_progress';
        iteration--;
        break;
      }
      ({ loss, grad } = await evalAt(x));
      continue;
    }
    failures = 0;
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = x[i]! - xPrev[i]!;
      y[i] = grad[i]! - gPrev[i]!;
    }
    lastMove = maxAbs(s);
    const ys = dot(y, s);
    if (ys > 1e-10) {
      if (pairs.length === m) pairs.shift();
      pairs.push({ s, y, rho: 1 / ys });
    }

    if ((await opts.onIteration?.({ iteration, loss, evaluations, x })) === 'stop') {
      reason = 'callback';
      break;
    }
    if (projectedGradMax(x, grad, opts.bounds) <= tolGrad) {
      reason = 'converged';
      break;
    }
    if (maxAbs(s) <= tolChange || Math.abs(loss - fPrev) <= tolChange) {
      reason = 'no_progress';
      break;
    }
  }
  return { x, loss, iterations: iteration, evaluations, reason, lastMove };
}

/**
 * With bounds: 1 for free coordinates, 0 for those on a bound whose negative gradient
 * points out of the box (moving them would immediately be undone by the clip).
 */
function freeMask(x: Float32Array, g: Float32Array, b: OptimizeOptions['bounds']): Uint8Array | undefined {
  if (!b) return undefined;
  const m = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    m[i] = (v <= b.lower && g[i]! > 0) || (v >= b.upper && g[i]! < 0) ? 0 : 1;
  }
  return m;
}

/** max |g_i| over the free coordinates: the first-order optimality measure in a box. */
function projectedGradMax(x: Float32Array, g: Float32Array, b: OptimizeOptions['bounds']): number {
  const m = freeMask(x, g, b);
  if (!m) return maxAbs(g);
  let r = 0;
  for (let i = 0; i < g.length; i++) if (m[i]) r = Math.max(r, Math.abs(g[i]!));
  return r;
}
