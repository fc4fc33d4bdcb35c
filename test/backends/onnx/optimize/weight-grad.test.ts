import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../../src/compiler/ir/builder.ts';
import { differentiate } from '../../../../src/compiler/passes/autodiff/index.ts';
import { weightGradToMatmul } from '../../../../src/backends/onnx/optimize/index.ts';
import { OnnxBackend } from '../../../../src/backends/onnx/index.ts';
import { expectSameOutputs, opsOf, relErr, seeded } from './helpers.ts';

/**
 * loss = Σ relu(conv(x, w) + b)² with gradients w.r.t. w and b; `reflect` pads x by one pixel (reflect) before
 * the conv, as Johnson's net does, with `pads` the conv's own zero pads.
 */
function net(n: number, k: [number, number], strides: [number, number], pads: [number, number, number, number], cin = 3, cout = 4, size: [number, number] = [7, 9], reflect = false) {
  const b = new GraphBuilder();
  const input = b.input('x', [n, cin, ...size]);
  const x = reflect ? b.add('pad', [input], { mode: 'reflect', pads: [1, 1, 1, 1], value: 0 }) : input;
  const w = b.param('w', [cout, cin, k[0], k[1]], { kind: 'zeros' });
  const bias = b.param('b', [cout], { kind: 'zeros' });
  const y = b.add('relu', [b.add('conv2d', [x, w, bias], { strides, dilations: [1, 1], padding: { kind: 'explicit', pads }, group: 1 })], {});
  b.output('loss', b.add('reduceSum', [b.add('mul', [y, y], {})], { axes: [0, 1, 2, 3], keepDims: false }));
  const g = differentiate(b.build(), { loss: 'loss', wrt: ['w', 'b'] });
  const weights = new Map([
    ['w', seeded([cout, cin, k[0], k[1]], 21)],
    ['b', seeded([cout], 22)],
  ]);
  return { g, weights, feeds: { x: seeded([n, cin, ...size], 23) } };
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
    expectSameOutputs(g, opt, weights, feeds, 1, 1e-9);
  });

  it.each([
    ['batch 1, 3x3, pad 1', 1, [3, 3], [1, 1, 1, 1]],
    ['batch 2, 3x3, no pad', 2, [3, 3], [0, 0, 0, 0]],
    ['batch 2, 1x1', 2, [1, 1], [0, 0, 0, 0]],
    ['batch 3, 3x1, asymmetric pads', 3, [3, 1], [2, 0, 0, 1]],
    ['batch 2, 2x3, asymmetric pads', 2, [2, 3], [0, 2, 1, 0]],
  ] as const)('shifts dy instead of x when there are fewer output than input channels (%s)', (_n, n, k, pads) => {
    const { g, weights, feeds } = net(n, [...k], [1, 1], [...pads], 5, 2);
    const opt = weightGradToMatmul(g);
    expect(transposedConvs(opt)).toBe(0);
    const matmuls = opt.nodes.filter((m) => m.op === 'matmul');
    expect(matmuls).toHaveLength(k[0] * k[1]);
    // Each tap's product runs over the whole padded grid: [N, O, Hp·Wp] x [N, Hp·Wp, C].
    const grid = (7 + pads[0] + pads[2]) * (9 + pads[1] + pads[3]);
    for (const mm of matmuls) expect(opt.values.get(mm.inputs[0]!)!.shape).toEqual([n, 2, grid]);
    expectSameOutputs(g, opt, weights, feeds, 1, 1e-9);
  });

  it.each([
    ['batch 1, 5x5, pad 2', 1, [5, 5], [2, 2, 2, 2]],
    ['batch 2, 5x5, no pad', 2, [5, 5], [0, 0, 0, 0]],
    ['batch 3, 4x3, asymmetric pads', 3, [4, 3], [1, 0, 3, 2]],
  ] as const)('swaps image and kernel for kernels over 9 taps with fewer output than input channels (%s)', (_n, n, k, pads) => {
    const { g, weights, feeds } = net(n, [...k], [1, 1], [...pads], 5, 2);
    expect(transposedConvs(g)).toBe(1);
    const opt = weightGradToMatmul(g);
    // The conv is still over transposed tensors, now with dy as the image: [O, N, ...] * [C, N, ...] -> [O, C, KH, KW].
    const conv = opt.nodes.find((m) => m.op === 'conv2d' && m.inputs[1] !== 'w')!;
    expect(opt.values.get(conv.outputs[0]!)!.shape).toEqual([2, 5, k[0], k[1]]);
    expect(opsOf(opt).filter((o) => o === 'matmul')).toHaveLength(1);
    expectSameOutputs(g, opt, weights, feeds, 1, 1e-9);
  });

  it.each([
    ['3x3, pad 1, odd size, O > C', 2, [3, 3], [2, 2], [1, 1, 1, 1], 3, 4, [7, 9], false],
    ['3x3, pad 1, even size, O > C', 1, [3, 3], [2, 2], [1, 1, 1, 1], 3, 4, [8, 10], false],
    ['3x3, reflect pad, even size, O > C', 2, [3, 3], [2, 2], [0, 0, 0, 0], 3, 4, [8, 8], true],
    ['3x3, reflect pad, odd size, O > C', 2, [3, 3], [2, 2], [0, 0, 0, 0], 2, 5, [9, 7], true],
    ['3x3, pad 1, odd size, O < C', 2, [3, 3], [2, 2], [1, 1, 1, 1], 5, 2, [7, 9], false],
    ['3x3, reflect pad, even size, O < C', 3, [3, 3], [2, 2], [0, 0, 0, 0], 5, 2, [10, 8], true],
    ['2x3, asymmetric pads, O > C', 2, [2, 3], [2, 2], [0, 2, 1, 0], 3, 4, [7, 9], false],
    ['2x3, asymmetric pads, O < C', 2, [2, 3], [2, 2], [1, 0, 0, 2], 5, 2, [8, 9], false],
    ['1x1, no pad', 2, [1, 1], [2, 2], [0, 0, 0, 0], 3, 4, [7, 9], false],
    ['3x3, strides 3 and 2, O > C', 2, [3, 3], [3, 2], [1, 1, 1, 1], 3, 4, [11, 9], false],
    ['3x3, strides 2 and 3, O < C', 1, [3, 3], [2, 3], [1, 2, 0, 1], 5, 2, [9, 11], false],
  ] as const)('rewrites strided weight gradients on the input phases (%s)', (_n, n, k, strides, pads, cin, cout, size, reflect) => {
    const { g, weights, feeds } = net(n, [...k], [...strides], [...pads], cin, cout, [...size], reflect);
    expect(transposedConvs(g)).toBe(1);
    const opt = weightGradToMatmul(g);
    expect(transposedConvs(opt)).toBe(0);
    const matmuls = opt.nodes.filter((m) => m.op === 'matmul');
    expect(matmuls).toHaveLength(k[0] * k[1]);
    // Each product runs over dy's HO rows widened to a phase's columns (x's windows, O > C) or over a whole phase (dy's windows, O < C).
    const [ho, wo] = opt.values.get(g.nodes.find((m) => m.op === 'conv2d')!.outputs[0]!)!.shape.slice(2) as number[];
    const [hp, wp] = [size[0] + (reflect ? 2 : 0) + pads[0] + pads[2], size[1] + (reflect ? 2 : 0) + pads[1] + pads[3]];
    const [hq, wq] = [Math.ceil(hp / strides[0]), Math.ceil(wp / strides[1])];
    expect(wq).toBeLessThan(2 * wo!);
    for (const mm of matmuls) expect(opt.values.get(mm.inputs[0]!)!.shape).toEqual([n, cout, cout > cin ? ho! * wq : hq * wq]);
    expectSameOutputs(g, opt, weights, feeds, 1, 1e-9);
  });

  it('keeps the formulation of kernels over 9 taps that it cannot swap (strided, or more output than input channels)', () => {
    const strided = net(2, [5, 5], [2, 2], [2, 2, 2, 2], 5, 2).g;
    expect(weightGradToMatmul(strided)).toBe(strided);
    const big = net(1, [5, 5], [1, 1], [2, 2, 2, 2]).g;
    expect(weightGradToMatmul(big)).toBe(big);
  });
});

describe('strided weight gradients on onnxruntime (float32)', () => {
  it.each([
    ['O > C, reflect pad', 3, 4, true],
    ['O < C, zero pad', 5, 2, false],
  ] as const)('match the unrewritten graph (%s)', async (_n, cin, cout, reflect) => {
    const { g, weights, feeds } = net(2, [3, 3], [2, 2], reflect ? [0, 0, 0, 0] : [1, 1, 1, 1], cin, cout, [13, 16], reflect);
    const opt = weightGradToMatmul(g);
    expect(transposedConvs(opt)).toBe(0);
    const backend = new OnnxBackend();
    const plain = await backend.compile(g, weights, { threads: 1, optimize: false });
    const rewritten = await backend.compile(opt, weights, { threads: 1, optimize: false });
    try {
      const [a, b] = [await plain.run(feeds), await rewritten.run(feeds)];
      for (const name of Object.keys(a)) expect(relErr(a[name]!, b[name]!), name).toBeLessThan(1e-5);
    } finally {
      await plain.dispose();
      await rewritten.dispose();
    }
  });
});
