/**
 * The Adam update on the host, for backends that compute gradients but not the update
 * (the tfjs training step). It performs exactly the float32 operations, in the same order,
 * as the in-graph update (compiler/passes/adam-update.ts), so the two backends' checkpoints
 * (parameters, moments, step) are interchangeable:
 *
 *   m' = β1 m + (1 − β1) g
 *   v' = β2 v + (1 − β2) (g g)
 *   p' = p − (m' α_t) / (√(v' r_t) + ε),   α_t, r_t from `adamScalars` (bias corrections, float64 → float32)
 *
 * Every constant and every intermediate is rounded to float32 (`Math.fround`) as the graph's
 * float32 tensors are; a float64 operation on float32 operands followed by one rounding gives
 * the correctly rounded float32 result for +, −, ×, ÷ and √, so this matches any IEEE float32
 * evaluation of the graph that does not fuse operations.
 */
import type { HostTensor } from '../../compiler/ir/types.ts';
import { adamScalars, type AdamHyper } from '../../compiler/passes/adam-update.ts';

export interface AdamMoments {
  readonly param: HostTensor;
  readonly m: HostTensor;
  readonly v: HostTensor;
}

/** New parameter and moments for 1-based step `t` and gradient `grad` (inputs are not modified). */
export function adamStepHost(cur: AdamMoments, grad: HostTensor, hyper: AdamHyper, t: number): AdamMoments {
  const n = cur.param.data.length;
  if (grad.data.length !== n || cur.m.data.length !== n || cur.v.data.length !== n)
    throw new Error(`adamStepHost: sizes differ (param ${n}, grad ${grad.data.length}, m ${cur.m.data.length}, v ${cur.v.data.length})`);
  const f = Math.fround;
  const { alpha: a64, r: r64 } = adamScalars(hyper, t);
  const alpha = f(a64);
  const r = f(r64);
  const b1 = f(hyper.beta1);
  const c1 = f(1 - hyper.beta1);
  const b2 = f(hyper.beta2);
  const c2 = f(1 - hyper.beta2);
  const eps = f(hyper.epsilon);
  const p = cur.param.data;
  const g = grad.data;
  const m = cur.m.data;
  const v = cur.v.data;
  const p2 = new Float32Array(n);
  const m2 = new Float32Array(n);
  const v2 = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const mi = f(f(b1 * m[i]!) + f(c1 * g[i]!));
    const vi = f(f(b2 * v[i]!) + f(c2 * f(g[i]! * g[i]!)));
    const denom = f(f(Math.sqrt(f(vi * r))) + eps);
    m2[i] = mi;
    v2[i] = vi;
    p2[i] = f(p[i]! - f(f(mi * alpha) / denom));
  }
  const shape = cur.param.shape;
  return { param: { shape, data: p2 }, m: { shape, data: m2 }, v: { shape, data: v2 } };
}
