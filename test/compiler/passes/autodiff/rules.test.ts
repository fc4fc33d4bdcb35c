/**
 * Gradient checks for every VJP rule: autodiff (float64 reference interpreter) against central
 * finite differences (float64), on tiny graphs with odd sizes and batch 2. See gradcheck.ts for
 * the loss construction and the 1e-6 relative tolerance.
 */
import { describe, it } from 'vitest';
import type { Conv2dAttrs, ConvTranspose2dAttrs, PadMode, PoolAttrs } from '../../../../src/compiler/ir/types.ts';
import { expectGradsMatch, gradCheck, Net, type Init } from './gradcheck.ts';

type P4 = [number, number, number, number];
const convA = (o: Partial<Conv2dAttrs> = {}): Conv2dAttrs => ({
  strides: [1, 1],
  dilations: [1, 1],
  padding: { kind: 'explicit', pads: [0, 0, 0, 0] },
  group: 1,
  ...o,
});
const explicit = (pads: P4) => ({ kind: 'explicit' as const, pads });

describe('conv2d VJP', () => {
  const cases: [string, number[], number[], Partial<Conv2dAttrs>][] = [
    ['3x3, pad 1, stride 1', [1, 2, 5, 7], [3, 2, 3, 3], { padding: explicit([1, 1, 1, 1]) }],
    ['stride 2, asymmetric pads, batch 2', [2, 2, 5, 7], [3, 2, 3, 3], { strides: [2, 2], padding: explicit([1, 0, 2, 1]) }],
    ['strides 2x3, dilation 2x1, 3x2 kernel', [1, 2, 9, 8], [2, 2, 3, 2], { strides: [2, 3], dilations: [2, 1] }],
    ['stride 3 leaving unread trailing rows', [1, 1, 7, 8], [2, 1, 3, 3], { strides: [3, 3] }],
    ["'same' padding, stride 2, even kernel", [1, 2, 5, 7], [2, 2, 4, 4], { strides: [2, 2], padding: { kind: 'same' } }],
    ['depthwise with channel multiplier 2', [2, 2, 5, 7], [4, 1, 3, 3], { group: 2, padding: explicit([1, 1, 1, 1]) }],
    ['group 2 with 2 channels per group, stride 2', [1, 4, 5, 6], [6, 2, 3, 3], { group: 2, strides: [2, 2], padding: explicit([1, 1, 0, 0]) }],
  ];
  for (const [name, xs, ws, attrs] of cases)
    it(name, () => {
      const n = new Net(7);
      const x = n.input('x', xs);
      const w = n.convWeight('w', ws);
      const b = n.param('b', [ws[0]!]);
      const g = n.finish(n.b.add('conv2d', [x, w, b], convA(attrs)));
      expectGradsMatch(gradCheck(g, n.data, [x, w, b]));
    });
});

describe('convTranspose2d VJP', () => {
  const ct = (o: Partial<ConvTranspose2dAttrs>): ConvTranspose2dAttrs => ({
    strides: [1, 1],
    dilations: [1, 1],
    padding: explicit([0, 0, 0, 0]),
    outputPadding: [0, 0],
    group: 1,
    ...o,
  });
  const cases: [string, number[], number[], Partial<ConvTranspose2dAttrs>][] = [
    ['stride 1, no pads', [1, 3, 3, 4], [3, 2, 3, 3], {}],
    ['stride 2, pads 1, output padding', [2, 3, 3, 4], [3, 2, 3, 3], { strides: [2, 2], padding: explicit([1, 1, 1, 1]), outputPadding: [1, 0] }],
    ["'same', stride 2", [1, 2, 3, 5], [2, 3, 3, 3], { strides: [2, 2], padding: { kind: 'same' } }],
    ['output padding larger than the end pad, group 2', [1, 4, 3, 3], [4, 1, 3, 3], { strides: [2, 2], group: 2, padding: explicit([0, 1, 0, 0]), outputPadding: [1, 1] }],
    ['dilation 2, stride 3', [1, 2, 3, 2], [2, 2, 2, 3], { strides: [3, 3], dilations: [2, 2], padding: explicit([1, 0, 0, 2]), outputPadding: [2, 1] }],
  ];
  for (const [name, xs, ws, attrs] of cases)
    it(name, () => {
      const n = new Net(11);
      const x = n.input('x', xs);
      const w = n.convWeight('w', ws);
      const b = n.param('b', [ws[1]! * (attrs.group ?? 1)]);
      const g = n.finish(n.b.add('convTranspose2d', [x, w, b], ct(attrs)));
      expectGradsMatch(gradCheck(g, n.data, [x, w, b]));
    });
});

describe('pad VJP', () => {
  for (const mode of ['reflect', 'edge', 'constant'] as PadMode[])
    it(mode, () => {
      const n = new Net(3);
      const x = n.input('x', [2, 2, 5, 7]);
      const g = n.finish(n.b.add('pad', [x], { mode, pads: [2, 1, 3, 4], value: 0.5 }));
      expectGradsMatch(gradCheck(g, n.data, [x]));
    });
});

describe('normalisation VJPs', () => {
  it('batchNorm with respect to x, scale, bias, mean and var', () => {
    const n = new Net(5);
    const x = n.input('x', [2, 3, 5, 7]);
    const ps = ['scale', 'bias', 'mean'].map((p) => n.param(p, [3]));
    const v = n.param('var', [3], 'positive');
    const g = n.finish(n.b.add('batchNorm', [x, ...ps, v], { epsilon: 1e-3 }));
    expectGradsMatch(gradCheck(g, n.data, [x, ...ps, v]));
  });
  it('instanceNorm with respect to x, scale and bias', () => {
    const n = new Net(6);
    const x = n.input('x', [2, 3, 5, 7]);
    const s = n.param('scale', [3]);
    const b = n.param('bias', [3]);
    const g = n.finish(n.b.add('instanceNorm', [x, s, b], { epsilon: 1e-5 }));
    expectGradsMatch(gradCheck(g, n.data, [x, s, b]));
  });
  it('instanceNorm with respect to the bias only', () => {
    const n = new Net(6);
    const x = n.input('x', [1, 2, 3, 5]);
    const s = n.param('scale', [2]);
    const b = n.param('bias', [2]);
    const g = n.finish(n.b.add('instanceNorm', [x, s, b], { epsilon: 1e-5 }));
    expectGradsMatch(gradCheck(g, n.data, [b]));
  });
});

describe('elementwise unary VJPs', () => {
  const cases: [string, (n: Net, x: string) => string, Init][] = [
    ['relu', (n, x) => n.b.add('relu', [x], {}), 'signed'],
    ['tanh', (n, x) => n.b.add('tanh', [x], {}), 'signed'],
    ['sigmoid', (n, x) => n.b.add('sigmoid', [x], {}), 'signed'],
    ['sqrt', (n, x) => n.b.add('sqrt', [x], {}), 'positive'],
    ['neg', (n, x) => n.b.add('neg', [x], {}), 'signed'],
    ['clip', (n, x) => n.b.add('clip', [x], { min: -0.3, max: 0.4 }), 'signed'],
    ['clip with one-sided bound', (n, x) => n.b.add('clip', [x], { min: 0, max: Infinity }), 'signed'],
    ['scale', (n, x) => n.b.add('scale', [x], { value: -2.5 }), 'signed'],
    ['shift', (n, x) => n.b.add('shift', [x], { value: 3 }), 'signed'],
  ];
  for (const [name, build, init] of cases)
    it(name, () => {
      const n = new Net(13);
      const x = n.input('x', [2, 3, 5, 7], init);
      const g = n.finish(build(n, x));
      expectGradsMatch(gradCheck(g, n.data, [x], 200));
    });
});

describe('elementwise binary VJPs with broadcasting', () => {
  const cases: [string, 'add' | 'sub' | 'mul' | 'div', number[], number[]][] = [
    ['add [2,3,4,5] + [3,1,1]', 'add', [2, 3, 4, 5], [3, 1, 1]],
    ['sub [1,3,1,5] - [2,3,4,1]', 'sub', [1, 3, 1, 5], [2, 3, 4, 1]],
    ['mul [2,3,4,5] * [5]', 'mul', [2, 3, 4, 5], [5]],
    ['mul by a scalar []', 'mul', [2, 3], []],
    ['div [2,3,4,5] / [1,3,1,1]', 'div', [2, 3, 4, 5], [1, 3, 1, 1]],
    ['div [3] / [2,3]', 'div', [3], [2, 3]],
  ];
  for (const [name, op, as, bs] of cases)
    it(name, () => {
      const n = new Net(17);
      const a = n.input('a', as);
      const b = n.input('b', bs, op === 'div' ? 'positive' : 'signed');
      const g = n.finish(n.b.add(op, [a, b], {}));
      expectGradsMatch(gradCheck(g, n.data, [a, b]));
    });
  it('mul(x, x) accumulates both operand gradients', () => {
    const n = new Net(2);
    const x = n.input('x', [2, 3]);
    const g = n.finish(n.b.add('mul', [x, x], {}));
    expectGradsMatch(gradCheck(g, n.data, [x]));
  });
});

describe('pooling and resampling VJPs', () => {
  const pool = (o: Partial<PoolAttrs>): PoolAttrs => ({ kernel: [3, 3], strides: [2, 2], pads: [0, 0, 0, 0], ceilMode: false, countIncludePad: false, ...o });
  const cases: [string, 'maxPool' | 'avgPool', Partial<PoolAttrs>][] = [
    ['maxPool k3 s2 ceil (overlapping windows)', 'maxPool', { ceilMode: true }],
    ['maxPool k2 s2 with pads', 'maxPool', { kernel: [2, 2], pads: [1, 0, 0, 1] }],
    ['maxPool k3 s1 pads 1', 'maxPool', { strides: [1, 1], pads: [1, 1, 1, 1] }],
    ['avgPool k3 s2 ceil, count_include_pad', 'avgPool', { ceilMode: true, pads: [1, 1, 1, 1], countIncludePad: true }],
    ['avgPool k3 s2 ceil, excluding pad', 'avgPool', { ceilMode: true, pads: [1, 1, 1, 1] }],
    ['avgPool k2 s2', 'avgPool', { kernel: [2, 2] }],
  ];
  for (const [name, op, attrs] of cases)
    it(name, () => {
      const n = new Net(19);
      const x = n.input('x', [2, 2, 5, 7]);
      const g = n.finish(n.b.add(op, [x], pool(attrs)));
      expectGradsMatch(gradCheck(g, n.data, [x], 140));
    });
  it('globalAvgPool', () => {
    const n = new Net(23);
    const x = n.input('x', [2, 3, 5, 7]);
    expectGradsMatch(gradCheck(n.finish(n.b.add('globalAvgPool', [x], {})), n.data, [x]));
  });
  it('upsampleNearest by 2x3', () => {
    const n = new Net(29);
    const x = n.input('x', [2, 2, 3, 5]);
    expectGradsMatch(gradCheck(n.finish(n.b.add('upsampleNearest', [x], { scale: [2, 3] })), n.data, [x], 60));
  });
});

describe('structure VJPs', () => {
  it('concat along channels, one input not differentiated', () => {
    const n = new Net(31);
    const a = n.input('a', [2, 2, 3, 5]);
    const b = n.input('b', [2, 3, 3, 5]);
    const c = n.input('c', [2, 1, 3, 5]);
    const g = n.finish(n.b.add('concat', [a, b, c], { axis: 1 }));
    expectGradsMatch(gradCheck(g, n.data, [a, c]));
  });
  const slices: [string, number[], number, number, number][] = [
    ['slice along channels (zero blocks)', [2, 5, 3, 4], 1, 1, 3],
    ['slice along height (constant pad)', [2, 2, 7, 4], 2, 2, 5],
    ['slice along width from 0', [1, 2, 3, 6], 3, 0, 5],
    ['slice along batch', [3, 2], 0, 1, 3],
    ['slice along last axis of a rank-3 tensor', [2, 3, 5], -1, 1, 4],
  ];
  for (const [name, xs, axis, start, end] of slices)
    it(name, () => {
      const n = new Net(37);
      const x = n.input('x', xs);
      expectGradsMatch(gradCheck(n.finish(n.b.add('slice', [x], { axis, start, end })), n.data, [x]));
    });
  it('reshape', () => {
    const n = new Net(41);
    const x = n.input('x', [2, 3, 4, 5]);
    expectGradsMatch(gradCheck(n.finish(n.b.add('reshape', [x], { shape: [6, 20] })), n.data, [x]));
  });
  it('transpose', () => {
    const n = new Net(43);
    const x = n.input('x', [2, 3, 4, 5]);
    expectGradsMatch(gradCheck(n.finish(n.b.add('transpose', [x], { perm: [2, 0, 3, 1] })), n.data, [x]));
  });
  const mms: [string, number[], number[]][] = [
    ['matmul 2-D', [3, 4], [4, 5]],
    ['matmul batched', [2, 3, 4], [2, 4, 5]],
    ['matmul with a broadcast right operand', [2, 3, 4], [4, 2]],
    ['matmul with broadcast batch axes', [2, 1, 3, 4], [3, 4, 2]],
  ];
  for (const [name, as, bs] of mms)
    it(name, () => {
      const n = new Net(47);
      const a = n.input('a', as);
      const b = n.input('b', bs);
      expectGradsMatch(gradCheck(n.finish(n.b.add('matmul', [a, b], {})), n.data, [a, b]));
    });
  const reds: [string, 'reduceSum' | 'reduceMean', number[], boolean][] = [
    ['reduceSum over H, W keeping dims', 'reduceSum', [2, 3], true],
    ['reduceSum over channels', 'reduceSum', [1], false],
    ['reduceMean over everything', 'reduceMean', [0, 1, 2, 3], false],
    ['reduceMean over batch and width, negative axis', 'reduceMean', [0, -1], true],
  ];
  for (const [name, op, axes, keepDims] of reds)
    it(name, () => {
      const n = new Net(53);
      const x = n.input('x', [2, 3, 4, 5]);
      expectGradsMatch(gradCheck(n.finish(n.b.add(op, [x], { axes, keepDims })), n.data, [x]));
    });
  it('expand', () => {
    const n = new Net(59);
    const x = n.input('x', [3, 1, 5]);
    expectGradsMatch(gradCheck(n.finish(n.b.add('expand', [x], { shape: [2, 3, 4, 5] })), n.data, [x]));
  });
});
