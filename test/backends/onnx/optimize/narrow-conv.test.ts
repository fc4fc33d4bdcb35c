import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../../src/compiler/ir/builder.ts';
import { narrowConvAsMatmul } from '../../../../src/backends/onnx/optimize/index.ts';
import { expectSameOutputs, opsOf, seeded } from './helpers.ts';

/** y = conv(x, w[, b]) with x [n, c, h, w]: O output channels, a k×k kernel, explicit pads. */
function net(n: number, c: number, o: number, k: number, pads: [number, number, number, number], h: number, w: number, bias = false) {
  const b = new GraphBuilder();
  const x = b.input('x', [n, c, h, w]);
  const wt = b.param('w', [o, c, k, k], { kind: 'zeros' });
  const ins = bias ? [x, wt, b.param('b', [o], { kind: 'zeros' })] : [x, wt];
  b.output('y', b.add('conv2d', ins, { strides: [1, 1], dilations: [1, 1], padding: { kind: 'explicit', pads }, group: 1 }));
  const weights = new Map([
    ['w', seeded([o, c, k, k], 41)],
    ['b', seeded([o], 42)],
  ]);
  return { g: b.build(), weights, feeds: { x: seeded([n, c, h, w], 43) } };
}

describe('narrowConvAsMatmul', () => {
  it.each([
    ['3x3, pad 1, 3 outputs (VGG image gradient)', 1, 16, 3, 3, [1, 1, 1, 1], 9, 12, false],
    ['3x3, no pad, bias, batch 2', 2, 20, 2, 3, [0, 0, 0, 0], 7, 8, true],
    ['4x4, asymmetric pads, one output', 1, 16, 1, 4, [2, 0, 1, 3], 6, 5, false],
  ] as const)('gives the same output as the direct conv in float64 (%s)', (_n, n, c, o, k, pads, h, w, bias) => {
    const { g, weights, feeds } = net(n, c, o, k, [...pads], h, w, bias);
    const opt = narrowConvAsMatmul(g);
    expect(opsOf(opt)).not.toContain('conv2d');
    expect(opsOf(opt)).toContain('matmul');
    expect(opt.values.get(opt.outputs.get('y')!)!.shape).toEqual(g.values.get(g.outputs.get('y')!)!.shape);
    expectSameOutputs(g, opt, weights, feeds, 1, 1e-12);
  });

  it('leaves convs with more than 4 outputs, 25 taps or more, under 16 input channels, or a 1x1 kernel', () => {
    const left = [net(1, 16, 8, 3, [1, 1, 1, 1], 8, 8), net(1, 16, 3, 5, [2, 2, 2, 2], 8, 8), net(1, 8, 3, 3, [1, 1, 1, 1], 8, 8), net(1, 16, 4, 1, [0, 0, 0, 0], 8, 8)];
    for (const { g } of left) expect(narrowConvAsMatmul(g)).toBe(g);
  });
});
