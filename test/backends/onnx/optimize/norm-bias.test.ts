import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../../src/compiler/ir/builder.ts';
import type { Graph, HostTensor } from '../../../../src/compiler/ir/types.ts';
import { ALL_PASSES, dropBiasBeforeNorm, optimizeGraph } from '../../../../src/backends/onnx/optimize/index.ts';
import type { WeightMap } from '../../../../src/backends/types.ts';
import { maxOutputDiff, seeded } from './helpers.ts';

const P1 = { strides: [1, 1] as [number, number], dilations: [1, 1] as [number, number], padding: { kind: 'explicit', pads: [1, 1, 1, 1] } as const, group: 1 };

/**
 * x → conv a (bias) → instance norm → relu → conv b (bias) → instance norm, and conv c (bias) read by both an
 * instance norm and the output (its bias must stay), summed into y. `transposed`: conv a is a transposed conv.
 */
function net(c: number, transposed = false): { graph: Graph; weights: WeightMap } {
  const b = new GraphBuilder();
  const x = b.input('x', [1, c, 8, 8]);
  const p = (name: string, shape: number[]) => b.param(name, shape, { kind: 'zeros' });
  const norm = (v: string, k: string) => b.add('instanceNorm', [v, p(`${k}.s`, [c]), p(`${k}.t`, [c])], { epsilon: 1e-5 });
  const a = transposed
    ? b.add('convTranspose2d', [x, p('a.w', [c, c, 3, 3]), p('a.b', [c])], { ...P1, outputPadding: [0, 0] })
    : b.add('conv2d', [x, p('a.w', [c, c, 3, 3]), p('a.b', [c])], P1);
  const h = b.add('relu', [norm(a, 'na')], {});
  const bb = norm(b.add('conv2d', [h, p('b.w', [c, c, 3, 3]), p('b.b', [c])], P1), 'nb');
  const cc = b.add('conv2d', [x, p('c.w', [c, c, 3, 3]), p('c.b', [c])], P1);
  b.output('y', b.add('add', [bb, norm(cc, 'nc')], {}));
  b.output('raw', cc);
  const graph = b.build();
  const weights = new Map<string, HostTensor>();
  let seed = 40;
  for (const v of graph.values.values()) if (v.kind === 'param') weights.set(v.id, seeded(v.shape as number[], seed++, -1, 1));
  // Large biases, so a wrongly dropped one shows.
  for (const k of ['a.b', 'b.b', 'c.b']) weights.set(k, seeded([c], seed++, 5, 20));
  return { graph, weights };
}

const biasOf = (g: Graph, w: string): string | undefined => g.nodes.find((n) => n.inputs[1] === w)?.inputs[2];

describe('dropBiasBeforeNorm', () => {
  it.each([false, true])('drops the bias of convs read only by an instance norm, exactly (transposed first conv: %s)', (transposed) => {
    const { graph, weights } = net(4, transposed);
    const out = dropBiasBeforeNorm(graph);
    expect(biasOf(out, 'a.w')).toBeUndefined();
    expect(biasOf(out, 'b.w')).toBeUndefined();
    expect(biasOf(out, 'c.w')).toBe('c.b'); // also a graph output: its bias is seen
    const { diff, scale } = maxOutputDiff(graph, out, weights, { x: seeded([1, 4, 8, 8], 9, 0, 255) });
    expect(scale).toBeGreaterThan(1);
    expect(diff).toBeLessThan(1e-9 * scale); // float64 reference: exact up to rounding
  });

  it('runs with Winograd only, before it: the Winograd convs of a Johnson residual block have no bias Add', () => {
    const { graph, weights } = net(128);
    const count = (g: Graph) => g.nodes.filter((n) => n.op === 'add').length;
    const direct = optimizeGraph(graph, weights, { passes: ALL_PASSES.filter((p) => p !== 'winograd') });
    const wino = optimizeGraph(graph, weights, { winograd: { minPixels: 1 } });
    expect(biasOf(direct, 'a.w')).toBe('a.b');
    expect(wino.nodes.some((n) => n.op === 'depthToSpace')).toBe(true);
    // Without the bias drop, convs a and b each end in a bias Add (conv c, read by the output too, keeps its Add either way).
    const keepBias = optimizeGraph(graph, weights, { winograd: { minPixels: 1 }, passes: ALL_PASSES.filter((p) => p !== 'normBias') });
    expect(count(keepBias) - count(wino)).toBe(2);
  });
});
