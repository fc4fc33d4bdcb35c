import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../../src/compiler/ir/builder.ts';
import { convOutputPhases, phaseStride } from '../../../../src/backends/onnx/optimize/index.ts';
import { expectSameOutputs, opsOf, seeded } from './helpers.ts';

/** y = conv(x, w, b) with x [2, 5, h, w]: O output channels, a k×k kernel, explicit pads. */
function net(o: number, k: number, pads: [number, number, number, number], h: number, w: number, bias = true) {
  const b = new GraphBuilder();
  const x = b.input('x', [2, 5, h, w]);
  const wt = b.param('w', [o, 5, k, k], { kind: 'zeros' });
  const ins = bias ? [x, wt, b.param('b', [o], { kind: 'zeros' })] : [x, wt];
  b.output('y', b.add('conv2d', ins, { strides: [1, 1], dilations: [1, 1], padding: { kind: 'explicit', pads }, group: 1 }));
  const weights = new Map([
    ['w', seeded([o, 5, k, k], 31)],
    ['b', seeded([o], 32)],
  ]);
  return { g: b.build(), weights, feeds: { x: seeded([2, 5, h, w], 33) } };
}

describe('convOutputPhases', () => {
  it('picks the phase stride from the output size', () => {
    expect(phaseStride(256, 512)).toBe(4);
    expect(phaseStride(6, 8)).toBe(2);
    expect(phaseStride(9, 8)).toBeUndefined();
  });

  it.each([
    ['9x9, pad 4, stride 4 phases', 3, 9, [4, 4, 4, 4], 12, 16, true],
    ['9x9, no pad, stride 2 phases', 3, 9, [0, 0, 0, 0], 18, 22, true],
    ['5x5, asymmetric pads, no bias, stride 2 phases', 1, 5, [2, 0, 1, 3], 9, 11, false],
  ] as const)('gives the same output as the direct conv (%s)', (_n, o, k, pads, h, w, bias) => {
    const { g, weights, feeds } = net(o, k, [...pads], h, w, bias);
    const opt = convOutputPhases(g);
    expect(opsOf(opt)).toContain('depthToSpace');
    const conv = opt.nodes.find((n) => n.op === 'conv2d')!;
    const [, , ho, wo] = g.values.get(g.outputs.get('y')!)!.shape as number[];
    const s = phaseStride(ho!, wo!)!;
    expect(conv.op === 'conv2d' && conv.attrs.strides).toEqual([s, s]);
    expect(opt.values.get(conv.outputs[0]!)!.shape).toEqual([2, o * s * s, ho! / s, wo! / s]);
    expectSameOutputs(g, opt, weights, feeds, 1, 1e-9);
  });

  it('leaves convs with more than 4 output channels, under 25 taps, or an output no stride divides', () => {
    for (const { g } of [net(8, 9, [4, 4, 4, 4], 12, 16), net(3, 3, [1, 1, 1, 1], 12, 16), net(3, 9, [4, 4, 4, 4], 11, 16)]) expect(convOutputPhases(g)).toBe(g);
  });
});
