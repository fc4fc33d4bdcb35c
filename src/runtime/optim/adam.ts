/**
 * Adam (Kingma & Ba 2015, Algorithm 1), bias-corrected:
 *   m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²
 *   x ← x − lr · m̂ / (√v̂ + ε),  m̂ = m / (1−β1ᵗ), v̂ = v / (1−β2ᵗ)
 * One evaluation per step. Moments are float64. With `bounds`, x is clipped after each step
 * (projected Adam).
 */
import { checkFinite } from './errors.ts';
import { clipToBounds, type Evaluate, type OptimizeOptions, type OptimizeResult } from './types.ts';

export interface AdamOptions extends OptimizeOptions {
  /** Step size. Default 1e-3 (the paper's); Gatys in pixel units wants ~1..10. */
  readonly lr?: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly epsilon?: number;
}

export async function adam(x0: Float32Array, evaluate: Evaluate, opts: AdamOptions): Promise<OptimizeResult> {
  const lr = opts.lr ?? 1e-3;
  const b1 = opts.beta1 ?? 0.9;
  const b2 = opts.beta2 ?? 0.999;
  const eps = opts.epsilon ?? 1e-8;
  const n = x0.length;
  const x = Float32Array.from(x0);
  const m = new Float64Array(n);
  const v = new Float64Array(n);
  let loss = Number.NaN;
  let step = 0;
  while (step < opts.iterations) {
    const r = await evaluate(x);
    checkFinite(r.loss, r.grad, step + 1);
    loss = r.loss;
    step++;
    const c1 = 1 - b1 ** step;
    const c2 = 1 - b2 ** step;
    for (let i = 0; i < n; i++) {
      const g = r.grad[i]!;
      m[i] = b1 * m[i]! + (1 - b1) * g;
      v[i] = b2 * v[i]! + (1 - b2) * g * g;
      x[i] = x[i]! - (lr * (m[i]! / c1)) / (Math.sqrt(v[i]! / c2) + eps);
    }
    if (opts.bounds) clipToBounds(x, opts.bounds);
    // The reported loss is that of the point the step started from (the one evaluated).
    if ((await opts.onIteration?.({ iteration: step, loss, evaluations: step, x })) === 'stop')
      return { x, loss, iterations: step, evaluations: step, reason: 'callback' };
  }
  return { x, loss, iterations: step, evaluations: step, reason: 'iterations' };
}
