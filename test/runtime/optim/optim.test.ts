import { describe, expect, it } from 'vitest';
import { adam, lbfgs, NonFiniteLossError, type Evaluate } from '../../../src/runtime/optim/index.ts';
import { cubicInterpolate } from '../../../src/runtime/optim/line-search.ts';

/** n-dimensional Rosenbrock: Σ 100 (x_{i+1} − x_i²)² + (1 − x_i)², minimum 0 at (1, …, 1). */
function rosenbrock(counter?: { n: number }): Evaluate {
  return async (x) => {
    if (counter) counter.n++;
    let f = 0;
    const g = new Float64Array(x.length);
    for (let i = 0; i + 1 < x.length; i++) {
      const a = x[i + 1]! - x[i]! * x[i]!;
      const b = 1 - x[i]!;
      f += 100 * a * a + b * b;
      g[i]! += -400 * x[i]! * a - 2 * b;
      g[i + 1]! += 200 * a;
    }
    return { loss: f, grad: Float32Array.from(g) };
  };
}

/** f = ½ Σ a_i (x_i − c_i)², computed entirely in float32 (Math.fround at every operation). */
function quadraticF32(a: Float32Array, c: Float32Array): Evaluate {
  const fr = Math.fround;
  return async (x) => {
    let f = 0;
    const g = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const r = fr(x[i]! - c[i]!);
      g[i] = fr(a[i]! * r);
      f = fr(f + fr(fr(0.5 * a[i]!) * fr(r * r)));
    }
    return { loss: f, grad: g };
  };
}

function quadraticProblem(n: number): { a: Float32Array; c: Float32Array } {
  // Eigenvalues spread over two decades (condition number 100); minimiser c_i = sin(i) * 3.
  const a = Float32Array.from({ length: n }, (_, i) => 10 ** ((2 * i) / (n - 1)) / 10);
  const c = Float32Array.from({ length: n }, (_, i) => 3 * Math.sin(i + 1));
  return { a, c };
}

describe('cubicInterpolate', () => {
  it('finds the exact minimiser of a cubic from two points', () => {
    // f(t) = (t − 1)² (t + 2) = t³ − 3t + 2, f' = 3t² − 3: local minimum at t = 1.
    const f = (t: number) => t ** 3 - 3 * t + 2;
    const g = (t: number) => 3 * t * t - 3;
    expect(cubicInterpolate(0, f(0), g(0), 2, f(2), g(2))).toBeCloseTo(1, 10);
  });
});

describe('lbfgs', () => {
  it('minimises the 2-D Rosenbrock function from the classic start (−1.2, 1)', async () => {
    const counter = { n: 0 };
    const r = await lbfgs(Float32Array.of(-1.2, 1), rosenbrock(counter), { iterations: 200 });
    expect(r.x[0]).toBeCloseTo(1, 3);
    expect(r.x[1]).toBeCloseTo(1, 3);
    expect(r.loss).toBeLessThan(1e-7);
    expect(r.evaluations).toBe(counter.n);
    expect(r.iterations).toBeLessThan(100);
  });

  it('minimises a 10-D Rosenbrock function', async () => {
    const r = await lbfgs(new Float32Array(10), rosenbrock(), { iterations: 500, history: 5 });
    for (const v of r.x) expect(v).toBeCloseTo(1, 2);
  });

  it('reaches the known minimum of an ill-conditioned quadratic evaluated in float32', async () => {
    const n = 200;
    const { a, c } = quadraticProblem(n);
    const r = await lbfgs(new Float32Array(n), quadraticF32(a, c), { iterations: 300 });
    // float32: the minimiser is only resolvable to ~sqrt(eps32 · f-scale / a_min) in the flattest direction.
    let err = 0;
    for (let i = 0; i < n; i++) err = Math.max(err, Math.abs(r.x[i]! - c[i]!));
    expect(err).toBeLessThan(1e-2);
    expect(r.loss).toBeLessThan(1e-5);
    // Ended by a stopping rule, not by throwing or looping on float32 noise.
    expect(['converged', 'no_progress', 'iterations']).toContain(r.reason);
  });

  it('makes progress when the first step 1/‖g‖₁ would move no pixel of a 0..255 image (float32 resolution)', async () => {
    // A Gatys-like scale: 3·10⁵ pixels at 160, a stiff quadratic (gradients ~10⁷). The first trial step
    // 1/‖g‖₁ moves each pixel by < ½ ulp (2⁻¹⁷ in [128, 256)), so x + t·d == x in float32 and the line search
    // could only fail.
    const n = 300_000;
    const a = new Float32Array(n).fill(1e6);
    const c = Float32Array.from({ length: n }, (_, i) => 160 + 60 * Math.sin(i));
    const x0 = new Float32Array(n).fill(160);
    const g0 = (await quadraticF32(a, c)(x0)).grad;
    let l1 = 0;
    let gmax = 0;
    for (const v of g0) (l1 += Math.abs(v), (gmax = Math.max(gmax, Math.abs(v))));
    expect(gmax / l1).toBeLessThan(2 ** -17); // the premise
    const r = await lbfgs(x0, quadraticF32(a, c), { iterations: 5 });
    let err = 0;
    for (let i = 0; i < n; i++) err = Math.max(err, Math.abs(r.x[i]! - c[i]!));
    expect(r.reason).not.toBe('no_progress');
    expect(err).toBeLessThan(0.01);
  });

  it('firstMove sets the first trial step\'s largest move, and a good one saves the first line search its growth steps', async () => {
    // A pixel-scale quadratic (x ≈ 128, stiff, many pixels so 1/‖g‖₁ is below the floor): the default first trial
    // moves the largest pixel by 128·2⁻²⁰, so the line search grows the step tenfold per evaluation to reach the
    // minimiser up to 3 pixels away along −g.
    const n = 20_000;
    const a = new Float32Array(n).fill(1e4);
    const c = Float32Array.from({ length: n }, (_, i) => 128 + 3 * Math.sin(i + 1));
    const x0 = new Float32Array(n).fill(128);
    const firstIteration = async (firstMove?: number): Promise<{ evaluations: number; trialMove: number }> => {
      const trials: Float32Array[] = [];
      const f = quadraticF32(a, c);
      let evaluations = 0;
      await lbfgs(x0, (x) => (trials.push(Float32Array.from(x)), f(x)), {
        iterations: 1,
        ...(firstMove !== undefined && { firstMove }),
        onIteration: (i) => void (evaluations = i.evaluations),
      });
      return { evaluations, trialMove: Math.max(...trials[1]!.map((v, i) => Math.abs(v - x0[i]!))) };
    };
    const cold = await firstIteration();
    const maxMove = Math.max(...c.map((v) => Math.abs(v - 128)));
    const warm = await firstIteration(maxMove);
    expect(cold.trialMove).toBeCloseTo(128 * 2 ** -20, 6);
    expect(warm.trialMove).toBeCloseTo(maxMove, 3);
    expect(cold.evaluations).toBeGreaterThanOrEqual(5);
    expect(warm.evaluations).toBeLessThanOrEqual(2);
  });

  it('reports the largest move of its last accepted step as lastMove', async () => {
    const xs: Float32Array[] = [Float32Array.of(-1.2, 1)];
    const r = await lbfgs(xs[0]!, rosenbrock(), { iterations: 7, onIteration: (i) => void xs.push(Float32Array.from(i.x)) });
    const [prev, last] = [xs.at(-2)!, xs.at(-1)!];
    expect(r.lastMove).toBeGreaterThan(0);
    expect(r.lastMove).toBeCloseTo(Math.max(...last.map((v, i) => Math.abs(v - prev[i]!))), 6);
  });

  it('with a box projection, ends at the clamp of the unconstrained minimiser (separable quadratic)', async () => {
    const n = 20;
    const { a, c } = quadraticProblem(n);
    const r = await lbfgs(new Float32Array(n), quadraticF32(a, c), { iterations: 300, bounds: { lower: -1, upper: 1 } });
    for (let i = 0; i < n; i++) expect(r.x[i]).toBeCloseTo(Math.min(1, Math.max(-1, c[i]!)), 3);
  });

  it('stops early when the callback asks, reporting each iteration once with a decreasing loss', async () => {
    const losses: number[] = [];
    const r = await lbfgs(Float32Array.of(-1.2, 1), rosenbrock(), {
      iterations: 100,
      onIteration: (i) => {
        losses.push(i.loss);
        return i.iteration === 5 ? 'stop' : undefined;
      },
    });
    expect(r.reason).toBe('callback');
    expect(losses).toHaveLength(5);
    for (let i = 1; i < losses.length; i++) expect(losses[i]).toBeLessThan(losses[i - 1]!);
  });

  it('throws NonFiniteLossError when the objective returns NaN', async () => {
    const base = rosenbrock();
    let calls = 0;
    const evaluate: Evaluate = async (x) => (++calls === 4 ? { loss: Number.NaN, grad: new Float32Array(x.length) } : base(x));
    await expect(lbfgs(Float32Array.of(-1.2, 1), evaluate, { iterations: 50 })).rejects.toBeInstanceOf(NonFiniteLossError);
  });

  it('recovers from a gradient that is wrong once (non-descent direction) and still converges', async () => {
    const n = 10;
    const { a, c } = quadraticProblem(n);
    const base = quadraticF32(a, c);
    let calls = 0;
    const evaluate: Evaluate = async (x) => {
      const r = await base(x);
      // Evaluation 6 reports the negated gradient: a corrupt curvature pair / ascent direction follows.
      return ++calls === 6 ? { loss: r.loss, grad: r.grad.map((v) => -v) } : r;
    };
    const r = await lbfgs(new Float32Array(n), evaluate, { iterations: 300 });
    for (let i = 0; i < n; i++) expect(r.x[i]).toBeCloseTo(c[i]!, 2);
  });
});

describe('adam', () => {
  it('first step moves every coordinate by exactly lr against the gradient sign (bias correction)', async () => {
    const x0 = Float32Array.of(0.5, -2, 3);
    const evaluate: Evaluate = async (x) => ({ loss: 0, grad: Float32Array.of(4 * x[0]!, 1e-3, -7) });
    const r = await adam(x0, evaluate, { iterations: 1, lr: 0.1, epsilon: 0 });
    expect(r.x[0]).toBeCloseTo(0.4, 6);
    expect(r.x[1]).toBeCloseTo(-2.1, 6);
    expect(r.x[2]).toBeCloseTo(3.1, 6);
  });

  it('converges to the minimum of a quadratic', async () => {
    const n = 8;
    const { a, c } = quadraticProblem(n);
    const r = await adam(new Float32Array(n), quadraticF32(a, c), { iterations: 3000, lr: 0.05 });
    for (let i = 0; i < n; i++) expect(r.x[i]).toBeCloseTo(c[i]!, 1);
  });

  it('clips to the bounds after each step', async () => {
    const r = await adam(Float32Array.of(0), async (x) => ({ loss: x[0]!, grad: Float32Array.of(-1) }), {
      iterations: 50,
      lr: 1,
      bounds: { lower: -10, upper: 10 },
    });
    expect(r.x[0]).toBe(10);
  });
});
