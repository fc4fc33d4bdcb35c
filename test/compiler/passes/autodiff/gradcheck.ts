/**
 * Gradient-check harness: build a tiny graph, append loss = sum(output * R) with a random
 * constant R, differentiate it, evaluate the gradient graph with the float64 reference
 * interpreter, and compare against central finite differences of the same loss, also in float64.
 *
 * Tolerance: with step h = 1e-6 in float64, the central difference has truncation error
 * O(h^2 |f'''|) ~ 1e-12 and rounding error O(eps |f| / h) ~ 1e-10 |f| for these O(1) losses, so a
 * correct rule agrees to ~1e-8; we require, per tensor, max |ad - fd| <= 1e-6 * max |fd| + noise,
 * where noise = 100 eps |f| / h bounds the rounding error of the difference itself (it only matters
 * for gradients that are exactly zero, e.g. a conv bias followed by instance norm).
 * Kinks (relu, max pool, clip) are hit with probability ~h per element for random inputs.
 */
import { expect } from 'vitest';
import { runReference } from '../../../../src/backends/reference/interpreter.ts';
import type { Float64Tensor } from '../../../../src/backends/reference/tensor.ts';
import { GraphBuilder } from '../../../../src/compiler/ir/builder.ts';
import { validateGraph } from '../../../../src/compiler/ir/graph.ts';
import type { Graph, HostTensor } from '../../../../src/compiler/ir/types.ts';
import { differentiate } from '../../../../src/compiler/passes/autodiff/autodiff.ts';
import { mulberry32 } from '../../../../src/util/prng.ts';

export type Init = 'signed' | 'positive';

/** A graph under construction with float64 data for its inputs and parameters. */
export class Net {
  readonly b = new GraphBuilder();
  readonly data = new Map<string, Float64Tensor>();
  readonly rand: () => number;

  constructor(seed = 1) {
    this.rand = mulberry32(seed);
  }

  private fill(shape: readonly number[], init: Init): Float64Tensor {
    const n = shape.reduce((a, c) => a * c, 1);
    const data = new Float64Array(n);
    for (let i = 0; i < n; i++) data[i] = init === 'positive' ? 0.5 + this.rand() : 2 * this.rand() - 1;
    return { shape: [...shape], data };
  }

  input(name: string, shape: readonly number[], init: Init = 'signed'): string {
    const id = this.b.input(name, shape);
    this.data.set(id, this.fill(shape, init));
    return id;
  }

  param(name: string, shape: readonly number[], init: Init = 'signed'): string {
    const id = this.b.param(name, shape, { kind: 'zeros' });
    this.data.set(id, this.fill(shape, init));
    return id;
  }

  /** Conv weight scaled by 1/sqrt(fan-in) so activations stay O(1) through a few layers. */
  convWeight(name: string, shape: readonly number[]): string {
    const id = this.param(name, shape);
    const t = this.data.get(id)!;
    const k = 1 / Math.sqrt(shape[1]! * shape[2]! * shape[3]!);
    for (let i = 0; i < t.data.length; i++) t.data[i]! *= k;
    return id;
  }

  /** loss = sum(out * R) for a random constant R of out's shape; returns the built graph. */
  finish(out: string): Graph {
    const shape = this.b.shape(out) as number[];
    const r = this.fill(shape, 'signed');
    const rc = this.b.constant('loss.weights', shape, Float32Array.from(r.data));
    const prod = this.b.add('mul', [out, rc], {});
    const axes = shape.map((_, i) => i);
    this.b.output('out', out);
    this.b.output('loss', axes.length ? this.b.add('reduceSum', [prod], { axes, keepDims: false }) : prod);
    return this.b.build();
  }
}

function split(g: Graph, data: ReadonlyMap<string, Float64Tensor>): [Map<string, Float64Tensor>, Record<string, Float64Tensor>] {
  const weights = new Map<string, Float64Tensor>();
  const feeds: Record<string, Float64Tensor> = {};
  for (const [id, t] of data) {
    if (g.values.get(id)?.kind === 'input') feeds[id] = t;
    else weights.set(id, t);
  }
  return [weights, feeds];
}

function lossAt(g: Graph, data: ReadonlyMap<string, Float64Tensor>): number {
  const [w, f] = split(g, data);
  return runReference(g, w, f).loss!.data[0]!;
}

export interface TensorCheck {
  readonly maxErr: number; // max |ad - fd|
  readonly maxFd: number; // max |fd|
  readonly noise: number; // rounding floor of the finite difference
}

export interface CheckResult {
  readonly checks: Record<string, TensorCheck>;
  readonly gradGraph: Graph;
  /** The autodiff graph's outputs (forward outputs and grad:<id>). */
  readonly outputs: Record<string, Float64Tensor>;
}

/**
 * Compare autodiff and finite-difference gradients for every `wrt` value; checks every element
 * of small tensors and `sample` seeded random elements of larger ones.
 */
export function gradCheck(g: Graph, data: ReadonlyMap<string, Float64Tensor>, wrt: readonly string[], sample = 48, h = 1e-6): CheckResult {
  const gg = differentiate(g, { loss: 'loss', wrt });
  validateGraph(gg);
  const [w, f] = split(gg, data);
  const out = runReference(gg, w, f);
  const checks: Record<string, TensorCheck> = {};
  const noise = (100 * Number.EPSILON * Math.max(Math.abs(out.loss!.data[0]!), 1)) / h;
  const pick = mulberry32(99);
  for (const id of wrt) {
    const ad = out[`grad:${id}`]!;
    const base = data.get(id)!;
    expect(ad.shape).toEqual(base.shape);
    const n = base.data.length;
    const idx = n <= sample ? Array.from({ length: n }, (_, i) => i) : Array.from({ length: sample }, () => Math.floor(pick() * n));
    let maxErr = 0;
    let maxFd = 0;
    for (const i of idx) {
      const orig = base.data[i]!;
      const perturbed = (v: number): Map<string, Float64Tensor> => {
        const copy = Float64Array.from(base.data);
        copy[i] = v;
        return new Map(data).set(id, { shape: base.shape, data: copy });
      };
      const fd = (lossAt(g, perturbed(orig + h)) - lossAt(g, perturbed(orig - h))) / (2 * h);
      maxErr = Math.max(maxErr, Math.abs(fd - ad.data[i]!));
      maxFd = Math.max(maxFd, Math.abs(fd));
    }
    checks[id] = { maxErr, maxFd, noise };
  }
  return { checks, gradGraph: gg, outputs: out };
}

export const GRAD_TOL = 1e-6;

/**
 * Assert every gradient is within GRAD_TOL relative error plus the FD noise floor (message names the
 * value), and that gradients are not vacuously zero except for the values listed in `zero`.
 */
export function expectGradsMatch(r: CheckResult, zero: readonly string[] = []): void {
  for (const [id, c] of Object.entries(r.checks)) {
    if (!zero.includes(id)) expect(c.maxFd, `gradient of ${id} is unexpectedly zero`).toBeGreaterThan(1e-4);
    expect(c.maxErr, `gradient of ${id} (max |fd| ${c.maxFd.toExponential(2)})`).toBeLessThanOrEqual(GRAD_TOL * c.maxFd + c.noise);
  }
}

export function toHost64(t: Float64Tensor): HostTensor {
  return { shape: t.shape, data: Float32Array.from(t.data) };
}
