/**
 * The layers added for arbitrary style transfer (issue 17): broadcasting mul/sub/add, mean, relu6,
 * depthwise/pointwise convs, a second tensor input, and conditional instance norm written as a block
 * (stdlib/arbitrary_style.style). Lowering, diagnostics with spans, and float64 gradient checks through
 * the compiler's autodiff (harness and tolerance: test/compiler/passes/autodiff/gradcheck.ts).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Float64Tensor } from '../../../src/backends/reference/tensor.ts';
import { compileSource, formatDiagnostics } from '../../../src/compiler/frontend.ts';
import { GraphBuilder } from '../../../src/compiler/ir/builder.ts';
import { paramsOf } from '../../../src/compiler/ir/graph.ts';
import type { Graph } from '../../../src/compiler/ir/types.ts';
import { specialize } from '../../../src/compiler/passes/specialize.ts';
import { countParams } from '../../../src/compiler/passes/stats.ts';
import { mulberry32 } from '../../../src/util/prng.ts';
import { OnnxBackend } from '../../../src/backends/onnx/backend.ts';
import { backendGradError } from '../passes/autodiff/backend-check.ts';
import { expectGradsMatch, gradCheck } from '../passes/autodiff/gradcheck.ts';

const FILE = path.join(import.meta.dirname, 'arbitrary-inline.style');

function compile(text: string) {
  return compileSource(text, FILE);
}

function graphOf(text: string, name?: string): Graph {
  const r = compile(text);
  expect(r.module, formatDiagnostics(r.diagnostics, r.sources)).toBeDefined();
  return r.module!.networks.get(name ?? r.module!.main!)!.graph;
}

const TINY = `
import arbitrary_style
network tiny {
  input x: image[N, 4, H, W]
  input s: tensor[N, 5, 1, 1]
  c1 = x -> conv(6, 3, padding: reflect)
  n1 = (c1, s) -> cond_instance_norm(6)
  d1 = n1 -> depthwise_conv(3, stride: 2, padding: same, multiplier: 2)
  r1 = relu6()
  p1 = pointwise_conv(4)
  m = p1 -> mean()
  centred = (p1, m) -> sub()
  g = s -> pointwise_conv(4)
  output y = (centred, g) -> mul()
}
`;

describe('new layers lower to the IR', () => {
  const g = graphOf(TINY);
  const op = (tap: string) => g.nodes.find((n) => n.outputs.includes(g.taps.get(tap)!))!;

  it('depthwise_conv is a grouped conv with groups = input channels, weights [C*m, 1, k, k]', () => {
    const d = op('d1');
    expect(d.op).toBe('conv2d');
    expect(d.op === 'conv2d' && d.attrs.group).toBe(6);
    expect(g.values.get('d1.weight')!.shape).toEqual([12, 1, 3, 3]);
  });
  it('pointwise_conv is a 1x1 conv; relu6 is clip(0, 6); mean keeps H and W as 1 by default', () => {
    expect(g.values.get('p1.weight')!.shape).toEqual([4, 12, 1, 1]);
    const r = op('r1');
    expect(r.op === 'clip' && [r.attrs.min, r.attrs.max]).toEqual([0, 6]);
    const m = op('m');
    expect(m.op === 'reduceMean' && m.attrs).toEqual({ axes: [2, 3], keepDims: true });
  });
  it('conditional instance norm is a block: unit-free IN, gamma and beta 1x1 convs of the style vector, mul + add', () => {
    expect(g.values.get('n1.gamma.weight')!.shape).toEqual([6, 5, 1, 1]);
    expect(g.values.get('n1.beta.bias')!.shape).toEqual([6]);
    expect(op('n1.normed').op).toBe('instanceNorm');
    expect(op('n1.scaled').op).toBe('mul');
    expect(op('n1').op).toBe('add');
  });
  it('broadcasts [N, C, H, W] against [N, C, 1, 1] in mul and sub', () => {
    const s = specialize(g, { N: 2, H: 9, W: 7 });
    expect(s.values.get(s.outputs.get('y')!)!.shape).toEqual([2, 4, 5, 4]);
  });
  it('counts parameters from first principles', () => {
    const conv = (k: number, i: number, o: number) => k * k * i * o + o;
    expect(countParams(g)).toBe(conv(3, 4, 6) + 2 * conv(1, 5, 6) + (9 * 12 + 12) + conv(1, 12, 4) + conv(1, 5, 4));
  });
});

describe('diagnostics with spans', () => {
  const first = (text: string) => {
    const r = compile(text);
    expect(r.module).toBeUndefined();
    return r.diagnostics[0]!;
  };
  it('a broadcast mismatch is a shape error at the mul', () => {
    const d = first('network n {\n  input a: image[N, 3, H, W]\n  input b: tensor[N, 4, 1, 1]\n  y = (a, b) -> mul()\n}');
    expect(d.code).toBe('shape');
    expect(d.message).toMatch(/broadcast/);
    expect([d.span!.line, d.span!.col]).toEqual([4, 17]);
  });
  it('mean over an axis out of range, or none', () => {
    expect(first('network n {\n  input a: image[N, 3, H, W]\n  mean(axes: [4])\n}').message).toMatch(/out of range for a rank-4/);
    expect(first('network n {\n  input a: image[N, 3, H, W]\n  mean(axes: [])\n}').message).toMatch(/at least one axis/);
    expect(first('network n {\n  input a: image[N, 3, H, W]\n  mean(axes: 1.5)\n}').code).toBe('attribute-type');
  });
  it('sub takes two inputs; depthwise_conv rejects a zero multiplier', () => {
    expect(first('network n {\n  input a: image[N, 3, H, W]\n  sub()\n}').code).toBe('arity');
    expect(first('network n {\n  input a: image[N, 3, H, W]\n  depthwise_conv(3, multiplier: 0)\n}').code).toBe('attribute-type');
  });
  it('a block with two inputs given one', () => {
    const d = first('import arbitrary_style\nnetwork n {\n  input a: image[N, 3, H, W]\n  cond_instance_norm(3)\n}');
    expect(d.code).toBe('arity');
    expect(d.message).toMatch(/takes 2 inputs/);
  });
});

/** Random float64 data for every input and parameter of g (conv weights scaled by 1/sqrt(fan-in)). */
function randomData(g: Graph, seed: number): Map<string, Float64Tensor> {
  const rand = mulberry32(seed);
  const data = new Map<string, Float64Tensor>();
  for (const v of [...g.inputs.map((i) => g.values.get(i)!), ...paramsOf(g)]) {
    const shape = v.shape as number[];
    const n = shape.reduce((a, b) => a * b, 1);
    const k = shape.length === 4 && v.kind === 'param' ? 1 / Math.sqrt(shape[1]! * shape[2]! * shape[3]!) : 1;
    data.set(v.id, { shape, data: Float64Array.from({ length: n }, () => k * (2 * rand() - 1) * (v.kind === 'input' ? 3 : 1)) });
  }
  return data;
}

/** loss = sum(y * R), R a seeded constant (as gradcheck.ts's Net.finish). */
function withLoss(g: Graph, seed: number): Graph {
  const b = GraphBuilder.from(g);
  const y = g.outputs.get('y')!;
  const shape = b.shape(y) as number[];
  const rand = mulberry32(seed);
  const r = b.constant('loss.weights', shape, Float32Array.from({ length: shape.reduce((a, c) => a * c, 1) }, () => 2 * rand() - 1));
  b.output('d1', g.taps.get('d1')!); // relu6's input, to show both kinks are exercised
  b.output('loss', b.add('reduceSum', [b.add('mul', [y, r], {})], { axes: shape.map((_, i) => i), keepDims: false }));
  return b.build();
}

describe('gradient checks (float64 autodiff vs central differences)', () => {
  it('through cond_instance_norm, depthwise/pointwise convs, relu6, mean, broadcasting sub and mul: w.r.t. both inputs and every parameter', () => {
    const g = withLoss(specialize(graphOf(TINY), { N: 2, H: 7, W: 6 }), 5);
    const data = randomData(g, 17);
    // relu6's upper kink needs inputs above 6: scale the depthwise weights up so some activations clip there.
    const dw = data.get('d1.weight')!;
    for (let i = 0; i < dw.data.length; i++) dw.data[i]! *= 12;
    // c1's bias reaches an instance norm unchanged and p1's is removed by the mean subtraction: zero gradients.
    const r = gradCheck(g, data, [...g.inputs, ...paramsOf(g).map((p) => p.id)], 24);
    expectGradsMatch(r, ['c1.bias', 'p1.bias']);
    const d1 = [...r.outputs['d1']!.data];
    expect(Math.min(...d1)).toBeLessThan(0);
    expect(Math.max(...d1)).toBeGreaterThan(6);
  });
  it('the same gradient graph emitted as ONNX (float32) matches the float64 reference within 1e-3 of scale', async () => {
    // Tolerance as the composite nets of test/compiler/passes/autodiff/onnx.test.ts (instance norm compounds rounding).
    const g = withLoss(specialize(graphOf(TINY), { N: 2, H: 7, W: 6 }), 5);
    const data = randomData(g, 17);
    const { rel } = await backendGradError(new OnnxBackend(), g, data, [...g.inputs, ...paramsOf(g).map((p) => p.id)]);
    for (const [name, err] of Object.entries(rel)) expect(err, name).toBeLessThanOrEqual(1e-3);
  });
});
