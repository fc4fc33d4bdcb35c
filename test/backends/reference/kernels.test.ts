/**
 * The reference interpreter against hand-computed tiny cases. Every expected value here was
 * worked out on paper from the ONNX operator definitions, not printed from the implementation.
 */
import { describe, expect, it } from 'vitest';
import { runOp, range, t } from './helpers.ts';
import type { PoolAttrs } from '../../../src/compiler/ir/types.ts';

const X33 = t([1, 1, 3, 3], range(9)); // [[1,2,3],[4,5,6],[7,8,9]]
const conv = (pads: [number, number, number, number], strides: [number, number] = [1, 1], group = 1) => ({
  strides,
  dilations: [1, 1] as [number, number],
  padding: { kind: 'explicit' as const, pads },
  group,
});
const pool = (k: number, s: number, over: Partial<PoolAttrs> = {}): PoolAttrs => ({
  kernel: [k, k],
  strides: [s, s],
  pads: [0, 0, 0, 0],
  ceilMode: false,
  countIncludePad: false,
  ...over,
});
const vals = (x: { data: Float64Array }) => [...x.data];

describe('reference conv2d', () => {
  it('valid 2x2 kernel with bias', () => {
    const y = runOp('conv2d', [X33, t([1, 1, 2, 2], [1, 0, 0, -1]), t([1], [0.5])], conv([0, 0, 0, 0]));
    expect(y.shape).toEqual([1, 1, 2, 2]);
    expect(vals(y)).toEqual([-3.5, -3.5, -3.5, -3.5]); // x[i][j] - x[i+1][j+1] = -4, + 0.5
  });
  it('3x3 box filter with zero padding 1, stride 1 and 2', () => {
    const ones = t([1, 1, 3, 3], new Array(9).fill(1));
    expect(vals(runOp('conv2d', [X33, ones], conv([1, 1, 1, 1])))).toEqual([12, 21, 16, 27, 45, 33, 24, 39, 28]);
    expect(vals(runOp('conv2d', [X33, ones], conv([1, 1, 1, 1], [2, 2])))).toEqual([12, 16, 24, 28]);
  });
  it("'same' padding puts the extra row and column at the end", () => {
    const y = runOp('conv2d', [X33, t([1, 1, 2, 2], [1, 1, 1, 1])], { ...conv([0, 0, 0, 0]), padding: { kind: 'same' } });
    expect(y.shape).toEqual([1, 1, 3, 3]);
    expect(vals(y)).toEqual([12, 16, 9, 24, 28, 15, 15, 17, 9]);
  });
  it('dilation 2 reads every other pixel', () => {
    const y = runOp('conv2d', [X33, t([1, 1, 2, 2], [1, 1, 1, 1])], { ...conv([0, 0, 0, 0]), dilations: [2, 2] });
    expect(vals(y)).toEqual([1 + 3 + 7 + 9]);
  });
  it('depthwise (group = channels) keeps channels apart', () => {
    const x = t([1, 2, 1, 2], [1, 2, 10, 20]);
    const w = t([2, 1, 1, 1], [3, -1]);
    expect(vals(runOp('conv2d', [x, w], conv([0, 0, 0, 0], [1, 1], 2)))).toEqual([3, 6, -10, -20]);
  });
  it('group = 1 sums over input channels', () => {
    const x = t([1, 2, 1, 2], [1, 2, 10, 20]);
    const w = t([1, 2, 1, 1], [3, -1]);
    expect(vals(runOp('conv2d', [x, w], conv([0, 0, 0, 0])))).toEqual([3 - 10, 6 - 20]);
  });
});

describe('reference convTranspose2d', () => {
  const X22 = t([1, 1, 2, 2], [1, 2, 3, 4]);
  const ct = (over: object = {}) => ({
    strides: [1, 1] as [number, number],
    dilations: [1, 1] as [number, number],
    padding: { kind: 'explicit' as const, pads: [0, 0, 0, 0] as [number, number, number, number] },
    outputPadding: [0, 0] as [number, number],
    group: 1,
    ...over,
  });
  it('stride 2, 2x2 ones kernel replicates each pixel into a block', () => {
    const y = runOp('convTranspose2d', [X22, t([1, 1, 2, 2], [1, 1, 1, 1])], ct({ strides: [2, 2] }));
    expect(y.shape).toEqual([1, 1, 4, 4]);
    expect(vals(y)).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
  });
  it('stride 1 overlaps and sums; pads crop the full output', () => {
    const w = t([1, 1, 2, 2], [1, 1, 1, 1]);
    expect(vals(runOp('convTranspose2d', [X22, w], ct()))).toEqual([1, 3, 2, 4, 10, 6, 3, 7, 4]);
    expect(vals(runOp('convTranspose2d', [X22, w], ct({ padding: { kind: 'explicit', pads: [1, 1, 0, 0] } })))).toEqual([10, 6, 7, 4]);
  });
  it('output padding adds bias-only rows and columns at the end', () => {
    const y = runOp('convTranspose2d', [X22, t([1, 1, 2, 2], [1, 1, 1, 1]), t([1], [0.5])], ct({ strides: [2, 2], outputPadding: [1, 1] }));
    expect(y.shape).toEqual([1, 1, 5, 5]);
    const row = (a: number, b: number) => [a, a, b, b, 0].map((v) => v + 0.5);
    expect(vals(y)).toEqual([...row(1, 2), ...row(1, 2), ...row(3, 4), ...row(3, 4), 0.5, 0.5, 0.5, 0.5, 0.5]);
  });
  it("'same' gives input * stride, cropping the extra row at the end", () => {
    const y = runOp('convTranspose2d', [X22, t([1, 1, 3, 3], new Array(9).fill(1))], ct({ strides: [2, 2], padding: { kind: 'same' } }));
    expect(y.shape).toEqual([1, 1, 4, 4]);
    expect(vals(y)).toEqual([1, 1, 3, 2, 1, 1, 3, 2, 4, 4, 10, 6, 3, 3, 7, 4]);
  });
  it('weights are [in, out/group, kh, kw]', () => {
    const x = t([1, 1, 1, 1], [2]);
    const w = t([1, 2, 1, 1], [3, 5]);
    const y = runOp('convTranspose2d', [x, w], ct());
    expect(y.shape).toEqual([1, 2, 1, 1]);
    expect(vals(y)).toEqual([6, 10]);
  });
});

describe('reference pooling', () => {
  const X44 = t([1, 1, 4, 4], range(16));
  it('2x2 max and average pool, stride 2', () => {
    expect(vals(runOp('maxPool', [X44], pool(2, 2)))).toEqual([6, 8, 14, 16]);
    expect(vals(runOp('avgPool', [X44], pool(2, 2)))).toEqual([3.5, 5.5, 11.5, 13.5]);
  });
  it('ceil mode keeps the partial last window', () => {
    const y = runOp('maxPool', [X33], pool(2, 2, { ceilMode: true }));
    expect(y.shape).toEqual([1, 1, 2, 2]);
    expect(vals(y)).toEqual([5, 6, 8, 9]);
    expect(vals(runOp('avgPool', [X33], pool(2, 2, { ceilMode: true })))).toEqual([3, 4.5, 7.5, 9]);
  });
  it('ceil-mode overhang never counts in the divisor, even with count_include_pad', () => {
    const ones = t([1, 1, 3, 3], new Array(9).fill(1));
    expect(vals(runOp('avgPool', [ones], pool(2, 2, { ceilMode: true, countIncludePad: true })))).toEqual([1, 1, 1, 1]);
  });
  it('count_include_pad divides by the full window, otherwise by the in-bounds count', () => {
    const ones = t([1, 1, 3, 3], new Array(9).fill(1));
    const inc = runOp('avgPool', [ones], pool(3, 1, { pads: [1, 1, 1, 1], countIncludePad: true }));
    expect(vals(inc).map((v) => v * 9)).toEqual([4, 6, 4, 6, 9, 6, 4, 6, 4].map((v) => expect.closeTo(v, 12)));
    const exc = runOp('avgPool', [ones], pool(3, 1, { pads: [1, 1, 1, 1] }));
    expect(vals(exc)).toEqual(new Array(9).fill(1));
  });
  it('max pool ignores padding even when all values are negative', () => {
    const neg = t([1, 1, 2, 2], [-4, -3, -2, -1]);
    expect(vals(runOp('maxPool', [neg], pool(2, 1, { pads: [1, 1, 0, 0] })))).toEqual([-4, -3, -2, -1]);
  });
  it('global average pool', () => {
    const y = runOp('globalAvgPool', [t([1, 2, 1, 2], [1, 3, 10, 20])], {});
    expect(y.shape).toEqual([1, 2, 1, 1]);
    expect(vals(y)).toEqual([2, 15]);
  });
  it('maxPoolGrad: ties go to the first maximum, overlapping windows sum', () => {
    const tie = runOp('maxPoolGrad', [t([1, 1, 2, 2], [7, 7, 7, 7]), t([1, 1, 1, 1], [5])], pool(2, 2));
    expect(vals(tie)).toEqual([5, 0, 0, 0]);
    const overlap = runOp('maxPoolGrad', [t([1, 1, 1, 3], [1, 3, 2]), t([1, 1, 1, 2], [10, 100])], { ...pool(1, 1), kernel: [1, 2] });
    expect(vals(overlap)).toEqual([0, 110, 0]);
  });
  it('avgPoolGrad spreads dy over the window', () => {
    const g = runOp('avgPoolGrad', [t([1, 1, 2, 2], [0, 0, 0, 0]), t([1, 1, 1, 1], [4])], pool(2, 2));
    expect(vals(g)).toEqual([1, 1, 1, 1]);
    const ceil = runOp('avgPoolGrad', [X33, t([1, 1, 2, 2], [4, 2, 2, 1])], pool(2, 2, { ceilMode: true }));
    // windows: 2x2 (div 4), 2x1 (div 2), 1x2 (div 2), 1x1 (div 1)
    expect(vals(ceil)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1]);
  });
});

describe('reference pad and padGrad', () => {
  const row = t([1, 1, 1, 3], [1, 2, 3]);
  const pads = [0, 2, 0, 2] as [number, number, number, number];
  it('reflect, edge and constant', () => {
    expect(vals(runOp('pad', [row], { mode: 'reflect', pads, value: 0 }))).toEqual([3, 2, 1, 2, 3, 2, 1]);
    expect(vals(runOp('pad', [row], { mode: 'edge', pads, value: 0 }))).toEqual([1, 1, 1, 2, 3, 3, 3]);
    expect(vals(runOp('pad', [row], { mode: 'constant', pads, value: 0.5 }))).toEqual([0.5, 0.5, 1, 2, 3, 0.5, 0.5]);
  });
  it('reflect pads on top and bottom too', () => {
    const y = runOp('pad', [t([1, 1, 2, 1], [1, 2])], { mode: 'reflect', pads: [1, 0, 1, 0], value: 0 });
    expect(vals(y)).toEqual([2, 1, 2, 1]);
  });
  it('padGrad folds reflected copies back onto their sources', () => {
    const dy = t([1, 1, 1, 7], [1, 10, 100, 1000, 10000, 100000, 1000000]);
    expect(vals(runOp('padGrad', [dy], { mode: 'reflect', pads, value: 0 }))).toEqual([100 + 1000000, 10 + 1000 + 100000, 1 + 10000]);
    expect(vals(runOp('padGrad', [dy], { mode: 'edge', pads, value: 0 }))).toEqual([1 + 10 + 100, 1000, 10000 + 100000 + 1000000]);
    expect(vals(runOp('padGrad', [dy], { mode: 'constant', pads, value: 0 }))).toEqual([100, 1000, 10000]);
  });
});

describe('reference normalisation', () => {
  it('instance norm uses the biased variance per plane', () => {
    const x = t([1, 2, 1, 4], [1, 2, 3, 4, 10, 10, 10, 10]);
    const y = runOp('instanceNorm', [x, t([2], [2, 1]), t([2], [1, -1])], { epsilon: 1e-5 });
    const s = Math.sqrt(1.25 + 1e-5); // var of 1,2,3,4 with divisor 4
    const want = [-1.5, -0.5, 0.5, 1.5].map((v) => (2 * v) / s + 1);
    vals(y)
      .slice(0, 4)
      .forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 12));
    expect(vals(y).slice(4)).toEqual([-1, -1, -1, -1]); // constant plane: (x - mu) = 0
  });
  it('batch norm uses the given statistics', () => {
    const x = t([1, 2, 1, 2], [1, 3, 5, 7]);
    const y = runOp('batchNorm', [x, t([2], [1, 2]), t([2], [0, 1]), t([2], [1, 5]), t([2], [4, 1])], { epsilon: 0 });
    expect(vals(y)).toEqual([0, 1, 1, 5]);
  });
});

describe('reference elementwise and structure', () => {
  it('numpy broadcasting', () => {
    const y = runOp('sub', [t([2, 1], [10, 20]), t([3], [1, 2, 3])], {});
    expect(y.shape).toEqual([2, 3]);
    expect(vals(y)).toEqual([9, 8, 7, 19, 18, 17]);
  });
  it('unary ops', () => {
    const x = t([4], [-2, -0.5, 0.5, 4]);
    expect(vals(runOp('relu', [x], {}))).toEqual([0, 0, 0.5, 4]);
    expect(vals(runOp('clip', [x], { min: -1, max: 1 }))).toEqual([-1, -0.5, 0.5, 1]);
    expect(vals(runOp('scale', [x], { value: 2 }))).toEqual([-4, -1, 1, 8]);
    expect(vals(runOp('shift', [x], { value: 1 }))).toEqual([-1, 0.5, 1.5, 5]);
    expect(vals(runOp('sigmoid', [t([1], [0])], {}))).toEqual([0.5]);
    expect(vals(runOp('sqrt', [t([2], [4, 9])], {}))).toEqual([2, 3]);
  });
  it('reluGrad masks by y > 0', () => {
    expect(vals(runOp('reluGrad', [t([3], [0, 1, -1]), t([3], [5, 6, 7])], {}))).toEqual([0, 6, 0]);
  });
  it('batched matmul with a broadcast operand', () => {
    const a = t([2, 1, 2], [1, 2, 3, 4]);
    const b = t([2, 2], [1, 0, 0, 10]);
    const y = runOp('matmul', [a, b], {});
    expect(y.shape).toEqual([2, 1, 2]);
    expect(vals(y)).toEqual([1, 20, 3, 40]);
  });
  it('transpose, reshape, concat, slice', () => {
    const x = t([2, 3], range(6));
    expect(vals(runOp('transpose', [x], { perm: [1, 0] }))).toEqual([1, 4, 2, 5, 3, 6]);
    expect(runOp('reshape', [x], { shape: [3, 2] }).shape).toEqual([3, 2]);
    expect(vals(runOp('concat', [x, t([2, 1], [7, 8])], { axis: 1 }))).toEqual([1, 2, 3, 7, 4, 5, 6, 8]);
    expect(vals(runOp('slice', [x], { axis: 1, start: 1, end: 3 }))).toEqual([2, 3, 5, 6]);
    expect(vals(runOp('slice', [x], { axis: 0, start: 1, end: 2 }))).toEqual([4, 5, 6]);
  });
  it('reductions with and without keepDims', () => {
    const x = t([2, 3], range(6));
    const s = runOp('reduceSum', [x], { axes: [1], keepDims: true });
    expect(s.shape).toEqual([2, 1]);
    expect(vals(s)).toEqual([6, 15]);
    const m = runOp('reduceMean', [x], { axes: [0], keepDims: false });
    expect(m.shape).toEqual([3]);
    expect(vals(m)).toEqual([2.5, 3.5, 4.5]);
    expect(vals(runOp('reduceSum', [x], { axes: [-1, 0], keepDims: false }))).toEqual([21]);
  });
  it('expand broadcasts to a fixed shape', () => {
    const y = runOp('expand', [t([2, 1], [1, 2])], { shape: [2, 3] });
    expect(vals(y)).toEqual([1, 1, 1, 2, 2, 2]);
  });
  it('nearest upsampling and its adjoint', () => {
    const y = runOp('upsampleNearest', [t([1, 1, 1, 2], [1, 2])], { scale: [2, 2] });
    expect(y.shape).toEqual([1, 1, 2, 4]);
    expect(vals(y)).toEqual([1, 1, 2, 2, 1, 1, 2, 2]);
    const g = runOp('upsampleNearestGrad', [t([1, 1, 2, 4], range(8))], { scale: [2, 2] });
    expect(vals(g)).toEqual([1 + 2 + 5 + 6, 3 + 4 + 7 + 8]);
  });
  it('depth-to-space in DCR order: channel (i·b + j)·C + c lands at offset (i, j) of channel c', () => {
    // Channel k holds [10k, 10k + 1] across two columns; one output channel.
    const y = runOp('depthToSpace', [t([1, 4, 1, 2], [0, 1, 10, 11, 20, 21, 30, 31])], { block: 2 });
    expect(y.shape).toEqual([1, 1, 2, 4]);
    expect(vals(y)).toEqual([0, 10, 1, 11, 20, 30, 21, 31]);
    // Two output channels: c = 0 gathers channels 0, 2, 4, 6 and c = 1 gathers 1, 3, 5, 7.
    const z = runOp('depthToSpace', [t([1, 8, 1, 1], range(8))], { block: 2 });
    expect(vals(z)).toEqual([1, 3, 5, 7, 2, 4, 6, 8]);
  });
});
