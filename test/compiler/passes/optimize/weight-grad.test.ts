import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../../src/compiler/ir/builder.ts';
import { differentiate } from '../../../../src/compiler/passes/autodiff/index.ts';
import { weightGradToMatmul } from '../../../../src/compiler/passes/optimize/index.ts';
import { maxOutputDiff, opsOf, seeded } from './helpers.ts';

/** loss = Σ relu(conv(x, w) + b)² with gradients w.r.t. w and b. */
function net(n: number, k: [number, number], strides: [number, number], pads: [number, number, number, number]) {
  const b = new GraphBuilder();
  const x = b.input('x', [n, 3, 7, 9]);
  const w = b.param('w', [4, 3, k[0], k[1]], { kind: 'zeros' });
  const bias = b.param('b', [4], { kind: 'zeros' });
  const y = b.add('relu', [b.add('conv2d', [x, w, bias], { strides, dilations: [1, 1], padding: { kind: 'explicit', pads }, group: 1 })], {});
  b.output('loss', b.add('reduceSum', [b.add('mul', [y, y], {})], { axes: [0, 1, 2, 3], keepDims: false }));
  const g = differentiate(b.build(), { loss: 'loss', wrt: ['w', 'b'] });
  const weights = new Map([
    ['w', seeded([4, 3, k[0], k[1]], 21)],
    ['b', seeded([4], 22)],
  ]);
  return { g, weights, feeds: { x: seeded([n, 3, 7, 9], 23) } };
}

const transposedConvs = (g: ReturnType<typeof net>['g']) =>
  g.nodes.filter((n) => n.op === 'conv2d' && n.inputs.some((i) => g.nodes.find((m) => m.outputs.includes(i))?.op === 'transpose')).length;

describe('weightGradToMatmul', () => {
  it.each([
    ['batch 1, 3x3, pad 1', 1, [3, 3], [1, 1, 1, 1]],
    ['batch 2, 3x3, no pad', 2, [3, 3], [0, 0, 0, 0]],
    ['batch 2, 1x1', 2, [1, 1], [0, 0, 0, 0]],
    ['batch 3, 3x1, asymmetric pads', 3, [3, 1], [2, 0, 0, 1]],
  ] as const)('gives the same weight gradient as the transposed-conv formulation (%s)', (_n, n, k, pads) => {
    const { g, weights, feeds } = net(n, [...k], [1, 1], [...pads]);
    expect(transposedConvs(g)).toBe(1);
    const opt = weightGradToMatmul(g);
    expect(transposedConvs(opt)).toBe(0);
    expect(opsOf(opt).filter((o) => o === 'matmul')).toHaveLength(k[0] * k[1]);
    const { diff, scale } = maxOutputDiff(g, opt, weights, feeds);
    expect(scale).toBeGreaterThan(1);
    expect(diff).toBeLessThan(1e-9 * scale);
  });

  it('keeps the formulation of strided convs and kernels over 9 taps', () => {
    expect(weightGradToMatmul(net(2, [3, 3], [2, 2], [1, 1, 1, 1]).g)).toEqual(net(2, [3, 3], [2, 2], [1, 1, 1, 1]).g);
    const big = net(1, [5, 5], [1, 1], [2, 2, 2, 2]).g;
    expect(weightGradToMatmul(big)).toBe(big);
  });
});
