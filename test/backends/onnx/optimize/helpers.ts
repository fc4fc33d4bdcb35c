/** Shared helpers for the optimisation-pass tests: tiny specs, seeded tensors, reference comparisons. */
import { expect } from 'vitest';
import { compileSource } from '../../../../src/compiler/frontend.ts';
import type { Graph, HostTensor } from '../../../../src/compiler/ir/types.ts';
import { specialize } from '../../../../src/compiler/passes/specialize.ts';
import { runReference } from '../../../../src/backends/reference/index.ts';
import type { WeightMap } from '../../../../src/backends/types.ts';
import { bindWeights } from '../../../../src/weights/index.ts';
import { mulberry32 } from '../../../../src/util/prng.ts';

/** Seeded values in [lo, hi) (mulberry32). */
export function seeded(shape: readonly number[], seed: number, lo = -1, hi = 1): HostTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  const next = mulberry32(seed);
  for (let i = 0; i < n; i++) data[i] = lo + next() * (hi - lo);
  return { shape: [...shape], data };
}

/** Compile a one-network spec and specialise it; returns the graph and seeded random weights. */
export async function tinyNet(spec: string, env: Record<string, number>): Promise<{ graph: Graph; weights: WeightMap }> {
  const r = compileSource(spec, '/virtual/opt-test.style');
  if (!r.module) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  const net = r.module.networks.get(r.module.main!)!;
  const graph = specialize(net.graph, env);
  return { graph, weights: await bindWeights(graph, { kind: 'random', seed: 3 }, { specDir: '/virtual' }) };
}

/** Largest |a - b| over every named output of two graphs evaluated in float64 on the same feeds. */
export function maxOutputDiff(a: Graph, b: Graph, weights: WeightMap, feeds: Readonly<Record<string, HostTensor>>): { diff: number; scale: number } {
  const ra = runReference(a, weights, feeds);
  const rb = runReference(b, weights, feeds);
  let diff = 0;
  let scale = 0;
  for (const name of Object.keys(ra)) {
    const x = ra[name]!.data;
    const y = rb[name]!.data;
    if (x.length !== y.length) throw new Error(`output ${name}: ${x.length} vs ${y.length} elements`);
    for (let i = 0; i < x.length; i++) {
      diff = Math.max(diff, Math.abs(x[i]! - y[i]!));
      scale = Math.max(scale, Math.abs(x[i]!));
    }
  }
  return { diff, scale };
}

/**
 * Expect two graphs to give the same outputs in float64: the largest output magnitude is above `minScale`
 * (the comparison is not of zeros) and the largest difference below `rel` times it.
 */
export function expectSameOutputs(a: Graph, b: Graph, weights: WeightMap, feeds: Readonly<Record<string, HostTensor>>, minScale: number, rel: number): void {
  const { diff, scale } = maxOutputDiff(a, b, weights, feeds);
  expect(scale).toBeGreaterThan(minScale);
  expect(diff).toBeLessThan(rel * scale);
}

export const opsOf = (g: Graph): string[] => g.nodes.map((n) => n.op);

/** max |a − b| over max |a| (a must not be all zeros): the relative error of b against the reference a. */
export function relErr(a: HostTensor, b: HostTensor): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.data.length; i++) {
    num = Math.max(num, Math.abs(a.data[i]! - b.data[i]!));
    den = Math.max(den, Math.abs(a.data[i]!));
  }
  expect(den).toBeGreaterThan(0);
  return num / den;
}
