/**
 * One tiny graph per VJP rule configuration (odd sizes, batch 2 where it matters), shared by the
 * float64 finite-difference checks (rules.test.ts) and the ONNX Runtime checks (onnx.test.ts).
 */
import type { Conv2dAttrs, ConvTranspose2dAttrs, Graph, PadMode, PoolAttrs } from '../../../../src/compiler/ir/types.ts';
import { Net, type Init } from './gradcheck.ts';

export interface RuleCase {
  readonly group: string;
  readonly name: string;
  /** Elements checked by finite differences per tensor (all when the tensor is smaller). */
  readonly sample?: number;
  build(): { net: Net; graph: Graph; wrt: string[] };
}

type P4 = [number, number, number, number];
const explicit = (pads: P4) => ({ kind: 'explicit' as const, pads });
const cases: RuleCase[] = [];
const add = (group: string, name: string, build: RuleCase['build'], sample?: number): void => {
  cases.push({ group, name, build, ...(sample !== undefined && { sample }) });
};

/** A single-op graph over fresh inputs. */
function single(seed: number, inputs: readonly (readonly [string, number[], Init?])[], op: (n: Net, ids: string[]) => string, wrt?: (ids: string[]) => string[]) {
  return () => {
    const net = new Net(seed);
    const ids = inputs.map(([name, shape, init]) => net.input(name, shape, init ?? 'signed'));
    const graph = net.finish(op(net, ids));
    return { net, graph, wrt: wrt ? wrt(ids) : ids };
  };
}

const convA = (o: Partial<Conv2dAttrs>): Conv2dAttrs => ({ strides: [1, 1], dilations: [1, 1], padding: explicit([0, 0, 0, 0]), group: 1, ...o });
for (const [name, xs, ws, attrs] of [
  ['3x3, pad 1, stride 1', [1, 2, 5, 7], [3, 2, 3, 3], { padding: explicit([1, 1, 1, 1]) }],
  ['stride 2, asymmetric pads, batch 2', [2, 2, 5, 7], [3, 2, 3, 3], { strides: [2, 2], padding: explicit([1, 0, 2, 1]) }],
  ['strides 2x3, dilation 2x1, 3x2 kernel', [1, 2, 9, 8], [2, 2, 3, 2], { strides: [2, 3], dilations: [2, 1] }],
  ['stride 3 leaving unread trailing rows', [1, 1, 7, 8], [2, 1, 3, 3], { strides: [3, 3] }],
  ["'same' padding, stride 2, even kernel", [1, 2, 5, 7], [2, 2, 4, 4], { strides: [2, 2], padding: { kind: 'same' } }],
  ['depthwise with channel multiplier 2', [2, 2, 5, 7], [4, 1, 3, 3], { group: 2, padding: explicit([1, 1, 1, 1]) }],
  ['group 2 with 2 channels per group, stride 2', [1, 4, 5, 6], [6, 2, 3, 3], { group: 2, strides: [2, 2], padding: explicit([1, 1, 0, 0]) }],
] as [string, number[], number[], Partial<Conv2dAttrs>][])
  add('conv2d', name, () => {
    const net = new Net(7);
    const x = net.input('x', xs);
    const w = net.convWeight('w', ws);
    const b = net.param('b', [ws[0]!]);
    return { net, graph: net.finish(net.b.add('conv2d', [x, w, b], convA(attrs))), wrt: [x, w, b] };
  });

const ctA = (o: Partial<ConvTranspose2dAttrs>): ConvTranspose2dAttrs => ({
  strides: [1, 1],
  dilations: [1, 1],
  padding: explicit([0, 0, 0, 0]),
  outputPadding: [0, 0],
  group: 1,
  ...o,
});
for (const [name, xs, ws, attrs] of [
  ['stride 1, no pads', [1, 3, 3, 4], [3, 2, 3, 3], {}],
  ['stride 2, pads 1, output padding', [2, 3, 3, 4], [3, 2, 3, 3], { strides: [2, 2], padding: explicit([1, 1, 1, 1]), outputPadding: [1, 0] }],
  ["'same', stride 2", [1, 2, 3, 5], [2, 3, 3, 3], { strides: [2, 2], padding: { kind: 'same' } }],
  ['output padding larger than the end pad, group 2', [1, 4, 3, 3], [4, 1, 3, 3], { strides: [2, 2], group: 2, padding: explicit([0, 1, 0, 0]), outputPadding: [1, 1] }],
  ['dilation 2, stride 3', [1, 2, 3, 2], [2, 2, 2, 3], { strides: [3, 3], dilations: [2, 2], padding: explicit([1, 0, 0, 2]), outputPadding: [2, 1] }],
] as [string, number[], number[], Partial<ConvTranspose2dAttrs>][])
  add('convTranspose2d', name, () => {
    const net = new Net(11);
    const x = net.input('x', xs);
    const w = net.convWeight('w', ws);
    const b = net.param('b', [ws[1]! * (attrs.group ?? 1)]);
    return { net, graph: net.finish(net.b.add('convTranspose2d', [x, w, b], ctA(attrs))), wrt: [x, w, b] };
  });

for (const mode of ['reflect', 'edge', 'constant'] as PadMode[])
  add('pad', mode, single(3, [['x', [2, 2, 5, 7]]], (n, [x]) => n.b.add('pad', [x!], { mode, pads: [2, 1, 3, 4], value: 0.5 })));

add('normalisation', 'batchNorm with respect to x, scale, bias, mean and var', () => {
  const net = new Net(5);
  const x = net.input('x', [2, 3, 5, 7]);
  const ps = ['scale', 'bias', 'mean'].map((p) => net.param(p, [3]));
  const v = net.param('var', [3], 'positive');
  return { net, graph: net.finish(net.b.add('batchNorm', [x, ...ps, v], { epsilon: 1e-3 })), wrt: [x, ...ps, v] };
});
add('normalisation', 'instanceNorm with respect to x, scale and bias', () => {
  const net = new Net(6);
  const x = net.input('x', [2, 3, 5, 7]);
  const s = net.param('scale', [3]);
  const b = net.param('bias', [3]);
  return { net, graph: net.finish(net.b.add('instanceNorm', [x, s, b], { epsilon: 1e-5 })), wrt: [x, s, b] };
});
add('normalisation', 'instanceNorm with respect to x only', () => {
  const net = new Net(6);
  const x = net.input('x', [2, 3, 4, 6]);
  return { net, graph: net.finish(net.b.add('instanceNorm', [x, net.param('scale', [3]), net.param('bias', [3])], { epsilon: 1e-5 })), wrt: [x] };
});
add('normalisation', 'instanceNorm with respect to the scale only', () => {
  const net = new Net(6);
  const x = net.input('x', [2, 3, 4, 6]);
  const s = net.param('scale', [3]);
  return { net, graph: net.finish(net.b.add('instanceNorm', [x, s, net.param('bias', [3])], { epsilon: 1e-5 })), wrt: [s] };
});
add('normalisation', 'instanceNorm with respect to the bias only', () => {
  const net = new Net(6);
  const x = net.input('x', [1, 2, 3, 5]);
  const b = net.param('bias', [2]);
  return { net, graph: net.finish(net.b.add('instanceNorm', [x, net.param('scale', [2]), b], { epsilon: 1e-5 })), wrt: [b] };
});

for (const [name, build, init] of [
  ['relu', (n, x) => n.b.add('relu', [x], {}), 'signed'],
  ['tanh', (n, x) => n.b.add('tanh', [x], {}), 'signed'],
  ['sigmoid', (n, x) => n.b.add('sigmoid', [x], {}), 'signed'],
  ['sqrt', (n, x) => n.b.add('sqrt', [x], {}), 'positive'],
  ['neg', (n, x) => n.b.add('neg', [x], {}), 'signed'],
  ['clip', (n, x) => n.b.add('clip', [x], { min: -0.3, max: 0.4 }), 'signed'],
  ['clip with one-sided bound', (n, x) => n.b.add('clip', [x], { min: 0, max: Infinity }), 'signed'],
  ['scale', (n, x) => n.b.add('scale', [x], { value: -2.5 }), 'signed'],
  ['shift', (n, x) => n.b.add('shift', [x], { value: 3 }), 'signed'],
] as [string, (n: Net, x: string) => string, Init][])
  add('unary', name, single(13, [['x', [2, 3, 5, 7], init]], (n, [x]) => build(n, x!)), 200);

for (const [name, op, as, bs] of [
  ['add [2,3,4,5] + [3,1,1]', 'add', [2, 3, 4, 5], [3, 1, 1]],
  ['sub [1,3,1,5] - [2,3,4,1]', 'sub', [1, 3, 1, 5], [2, 3, 4, 1]],
  ['mul [2,3,4,5] * [5]', 'mul', [2, 3, 4, 5], [5]],
  ['mul by a scalar []', 'mul', [2, 3], []],
  ['div [2,3,4,5] / [1,3,1,1]', 'div', [2, 3, 4, 5], [1, 3, 1, 1]],
  ['div [3] / [2,3]', 'div', [3], [2, 3]],
] as [string, 'add' | 'sub' | 'mul' | 'div', number[], number[]][])
  add('binary', name, single(17, [['a', as], ['b', bs, op === 'div' ? 'positive' : 'signed']], (n, [a, b]) => n.b.add(op, [a!, b!], {})));
add('binary', 'mul(x, x) accumulates both operand gradients', single(2, [['x', [2, 3]]], (n, [x]) => n.b.add('mul', [x!, x!], {})));

const poolA = (o: Partial<PoolAttrs>): PoolAttrs => ({ kernel: [3, 3], strides: [2, 2], pads: [0, 0, 0, 0], ceilMode: false, countIncludePad: false, ...o });
for (const [name, op, attrs] of [
  ['maxPool k3 s2 ceil (overlapping windows)', 'maxPool', { ceilMode: true }],
  ['maxPool k2 s2 with pads', 'maxPool', { kernel: [2, 2], pads: [1, 0, 0, 1] }],
  ['maxPool k3 s1 pads 1', 'maxPool', { strides: [1, 1], pads: [1, 1, 1, 1] }],
  ['avgPool k3 s2 ceil, count_include_pad', 'avgPool', { ceilMode: true, pads: [1, 1, 1, 1], countIncludePad: true }],
  ['avgPool k3 s2 ceil, excluding pad', 'avgPool', { ceilMode: true, pads: [1, 1, 1, 1] }],
  ['avgPool k2 s2', 'avgPool', { kernel: [2, 2] }],
] as [string, 'maxPool' | 'avgPool', Partial<PoolAttrs>][])
  add('pooling', name, single(19, [['x', [2, 2, 5, 7]]], (n, [x]) => n.b.add(op, [x!], poolA(attrs))), 140);
add('pooling', 'globalAvgPool', single(23, [['x', [2, 3, 5, 7]]], (n, [x]) => n.b.add('globalAvgPool', [x!], {})));
add('structure', 'depthToSpace by 2', single(37, [['x', [2, 8, 3, 2]]], (n, [x]) => n.b.add('depthToSpace', [x!], { block: 2 })));
add('pooling', 'upsampleNearest by 2x3', single(29, [['x', [2, 2, 3, 5]]], (n, [x]) => n.b.add('upsampleNearest', [x!], { scale: [2, 3] })), 60);

add(
  'structure',
  'concat along channels, one input not differentiated',
  single(31, [['a', [2, 2, 3, 5]], ['b', [2, 3, 3, 5]], ['c', [2, 1, 3, 5]]], (n, ids) => n.b.add('concat', ids, { axis: 1 }), ([a, , c]) => [a!, c!]),
);
for (const [name, xs, axis, start, end] of [
  ['slice along channels (zero blocks)', [2, 5, 3, 4], 1, 1, 3],
  ['slice along height (constant pad)', [2, 2, 7, 4], 2, 2, 5],
  ['slice along width from 0', [1, 2, 3, 6], 3, 0, 5],
  ['slice along batch', [3, 2], 0, 1, 3],
  ['slice along last axis of a rank-3 tensor', [2, 3, 5], -1, 1, 4],
] as [string, number[], number, number, number][])
  add('structure', name, single(37, [['x', xs]], (n, [x]) => n.b.add('slice', [x!], { axis, start, end })));
add('structure', 'reshape', single(41, [['x', [2, 3, 4, 5]]], (n, [x]) => n.b.add('reshape', [x!], { shape: [6, 20] })));
add('structure', 'transpose', single(43, [['x', [2, 3, 4, 5]]], (n, [x]) => n.b.add('transpose', [x!], { perm: [2, 0, 3, 1] })));
for (const [name, as, bs] of [
  ['matmul 2-D', [3, 4], [4, 5]],
  ['matmul batched', [2, 3, 4], [2, 4, 5]],
  ['matmul with a broadcast right operand', [2, 3, 4], [4, 2]],
  ['matmul with broadcast batch axes', [2, 1, 3, 4], [3, 4, 2]],
] as [string, number[], number[]][])
  add('structure', name, single(47, [['a', as], ['b', bs]], (n, [a, b]) => n.b.add('matmul', [a!, b!], {})));
for (const [name, as, bs, transA, transB] of [
  ['matmul a @ bᵀ', [2, 3, 4], [2, 5, 4], false, true],
  ['matmul aᵀ @ b', [2, 4, 3], [2, 4, 5], true, false],
  ['matmul aᵀ @ bᵀ with a broadcast right operand', [2, 4, 3], [5, 4], true, true],
] as [string, number[], number[], boolean, boolean][])
  add('structure', name, single(53, [['a', as], ['b', bs]], (n, [a, b]) => n.b.add('matmul', [a!, b!], { transA, transB })));
// The Gram form: both operands are the same value, so autodiff sums two flagged products.
add('structure', 'matmul f @ fᵀ (Gram, one operand)', single(59, [['f', [2, 3, 6]]], (n, [f]) => n.b.add('matmul', [f!, f!], { transB: true })));
for (const [name, op, axes, keepDims] of [
  ['reduceSum over H, W keeping dims', 'reduceSum', [2, 3], true],
  ['reduceSum over channels', 'reduceSum', [1], false],
  ['reduceMean over everything', 'reduceMean', [0, 1, 2, 3], false],
  ['reduceMean over batch and width, negative axis', 'reduceMean', [0, -1], true],
] as [string, 'reduceSum' | 'reduceMean', number[], boolean][])
  add('structure', name, single(53, [['x', [2, 3, 4, 5]]], (n, [x]) => n.b.add(op, [x!], { axes, keepDims })));
add('structure', 'expand', single(59, [['x', [3, 1, 5]]], (n, [x]) => n.b.add('expand', [x!], { shape: [2, 3, 4, 5] })));

export const RULE_CASES: readonly RuleCase[] = cases;
export const RULE_GROUPS: readonly string[] = [...new Set(cases.map((c) => c.group))];
