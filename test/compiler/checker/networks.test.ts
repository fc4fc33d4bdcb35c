/**
 * The stdlib and specs compile to the networks the literature describes:
 * parameter counts, tap channel counts, output shapes, lowering conventions.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileFile, compileSource, formatDiagnostics, type NetworkDef } from '../../../src/compiler/frontend.ts';
import { specialize, concreteShapeOf } from '../../../src/compiler/passes/specialize.ts';
import { countParams } from '../../../src/compiler/passes/stats.ts';
import { validateGraph } from '../../../src/compiler/ir/graph.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function net(file: string, name?: string): NetworkDef {
  const r = compileFile(path.join(root, file));
  expect(r.module, formatDiagnostics(r.diagnostics, r.sources)).toBeDefined();
  const m = r.module!;
  const n = m.networks.get(name ?? m.main!);
  expect(n).toBeDefined();
  validateGraph(n!.graph);
  return n!;
}

function tapShape(n: NetworkDef, tap: string, h = 224, w = 224): number[] {
  const g = specialize(n.graph, { N: 1, H: h, W: w });
  const id = g.taps.get(tap);
  expect(id, `tap ${tap}`).toBeDefined();
  return concreteShapeOf(g, id!);
}

/** Conv parameter count from first principles: k*k*cin*cout + cout. */
const convP = (k: number, cin: number, cout: number, bias = true) => k * k * cin * cout + (bias ? cout : 0);

describe('specs/johnson-in.style', () => {
  const n = net('specs/johnson-in.style');

  it('has 1,679,235 parameters (PyTorch fast_neural_style TransformerNet)', () => {
    // independently: convs + affine IN (2 per channel)
    const expected =
      convP(9, 3, 32) + 64 + convP(3, 32, 64) + 128 + convP(3, 64, 128) + 256 + 5 * 2 * (convP(3, 128, 128) + 256) + convP(3, 128, 64) + 128 + convP(3, 64, 32) + 64 + convP(9, 32, 3);
    expect(expected).toBe(1_679_235);
    expect(countParams(n.graph)).toBe(1_679_235);
  });

  it('uses PyTorch examples parameter names', () => {
    for (const id of ['conv1.weight', 'conv1.bias', 'in1.scale', 'in1.bias', 'res1.conv1.weight', 'res5.in2.bias', 'deconv1.weight', 'in5.scale', 'deconv3.bias'])
      expect(n.graph.values.get(id)?.kind, id).toBe('param');
  });

  it('maps 1x3x256x256 to 1x3x256x256 and taps every named layer', () => {
    const g = specialize(n.graph, { N: 1, H: 256, W: 256 });
    expect(concreteShapeOf(g, g.outputs.get('y')!)).toEqual([1, 3, 256, 256]);
    expect(concreteShapeOf(g, g.taps.get('conv3')!)).toEqual([1, 128, 64, 64]);
    expect(concreteShapeOf(g, g.taps.get('res3.conv2')!)).toEqual([1, 128, 64, 64]);
  });

  it('lowers reflection padding to a pad node before a zero-padded conv, and instance norm with PyTorch inits', () => {
    const conv = n.graph.nodes.find((x) => x.op === 'conv2d' && x.layer === 'conv1')!;
    const pad = n.graph.nodes.find((x) => x.outputs.includes(conv.inputs[0]!))!;
    expect(pad.op).toBe('pad');
    expect(pad.attrs).toEqual({ mode: 'reflect', pads: [4, 4, 4, 4], value: 0 });
    expect(conv.attrs).toMatchObject({ padding: { kind: 'explicit', pads: [0, 0, 0, 0] } });
    const source = readFileSync(conv.span!.file, 'utf8').split('\n');
    const line = source.findIndex((l) => /^\s*conv1 = conv\(/.test(l)) + 1;
    expect(line).toBeGreaterThan(0);
    expect(conv.span).toMatchObject({ line, col: source[line - 1]!.indexOf('conv(') + 1 });
    const w = n.graph.values.get('conv1.weight')!;
    expect(w.shape).toEqual([32, 3, 9, 9]);
    expect(w.init).toEqual({ kind: 'uniform_fan_in', fanIn: 3 * 81, gain: 1 / Math.sqrt(3) });
    expect(n.graph.values.get('in1.scale')!.init).toEqual({ kind: 'ones' });
    expect(n.graph.values.get('in1.bias')!.init).toEqual({ kind: 'zeros' });
  });

  it('binds seeded random weights', () => {
    expect(n.weights).toEqual({ kind: 'random', seed: 0 });
  });

  it('compiles and specialises at 1024x1024 quickly (loose sanity bound; real numbers in bench/)', () => {
    const t0 = performance.now();
    const r = compileFile(path.join(root, 'specs/johnson-in.style'));
    const g = specialize(r.module!.networks.get('johnson_in')!.graph, { N: 1, H: 1024, W: 1024 });
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(concreteShapeOf(g, g.outputs.get('y')!)).toEqual([1, 3, 1024, 1024]);
  });
});

describe('specs/johnson.style (paper variant)', () => {
  const n = net('specs/johnson.style');
  it('uses batch norm with frozen running statistics, transposed convs and a scaled tanh output', () => {
    expect(n.graph.values.get('c1.norm.mean')).toMatchObject({ kind: 'param', trainable: false, init: { kind: 'zeros' } });
    expect(n.graph.values.get('c1.norm.var')).toMatchObject({ kind: 'param', trainable: false, init: { kind: 'ones' } });
    expect(n.graph.values.get('res2.bn1.scale')).toMatchObject({ trainable: true });
    expect(n.graph.nodes.filter((x) => x.op === 'convTranspose2d').map((x) => x.layer)).toEqual(['u1', 'u2']);
    const ops = n.graph.nodes.slice(-3).map((x) => [x.op, (x.attrs as { value?: number }).value]);
    expect(ops).toEqual([['tanh', undefined], ['scale', 127.5], ['shift', 127.5]]);
    const g = specialize(n.graph, { N: 2, H: 64, W: 96 });
    expect(concreteShapeOf(g, g.outputs.get('y')!)).toEqual([2, 3, 64, 96]);
  });
});

describe('specs/fast-style.style', () => {
  const n = net('specs/fast-style.style');
  it('has no conv biases, eps 1e-3 norms, TF SAME padding and an ordered mapping over 48 variables', () => {
    expect([...n.graph.values.keys()].filter((k) => k.endsWith('.weight') && n.graph.values.get(k)!.kind === 'param').length).toBe(16);
    expect(n.graph.nodes.filter((x) => x.op === 'conv2d' && x.inputs.length !== 2)).toEqual([]);
    expect(n.graph.nodes.filter((x) => x.op === 'instanceNorm').every((x) => (x.attrs as { epsilon: number }).epsilon === 1e-3)).toBe(true);
    expect(n.graph.nodes.filter((x) => x.op === 'conv2d').every((x) => (x.attrs as { padding: { kind: string } }).padding.kind === 'same')).toBe(true);
    expect(n.weights?.kind).toBe('file');
    if (n.weights?.kind === 'file' && n.weights.mapping.kind === 'ordered') {
      expect(n.weights.format).toBe('fast_style');
      expect(n.weights.mapping.params.length).toBe(48);
      expect(n.weights.mapping.params.slice(0, 3)).toEqual([
        { param: 'conv1.weight', layout: 'HWIO' },
        { param: 'in1.bias', layout: 'asis' },
        { param: 'in1.scale', layout: 'asis' },
      ]);
    } else expect.fail('expected an ordered file mapping');
    const g = specialize(n.graph, { N: 1, H: 100, W: 75 });
    expect(concreteShapeOf(g, g.outputs.get('y')!)).toEqual([1, 3, 100, 76]);
    expect(n.graph.nodes.at(-1)!.op).toBe('clip');
  });
});

describe('stdlib/vgg19.style', () => {
  const n = net('stdlib/vgg19.style', 'vgg19');
  it('has taps conv1_1 .. relu5_4 and pool1 .. pool5 with VGG channel counts', () => {
    const expected: Record<string, number> = { relu1_1: 64, relu1_2: 64, relu2_1: 128, relu3_1: 256, relu3_4: 256, conv4_2: 512, relu4_2: 512, relu5_1: 512, relu5_4: 512 };
    for (const [tap, c] of Object.entries(expected)) expect(tapShape(n, tap)[1], tap).toBe(c);
    expect(tapShape(n, 'pool1')).toEqual([1, 64, 112, 112]);
    expect(tapShape(n, 'pool5')).toEqual([1, 512, 7, 7]);
    // 16 convs of VGG-19
    const convs = [[3, 64], [64, 64], [64, 128], [128, 128], [128, 256], [256, 256], [256, 256], [256, 256], [256, 512], [512, 512], [512, 512], [512, 512], [512, 512], [512, 512], [512, 512], [512, 512]];
    // 16 convs, plus the 3-value input mean the weights' profile sets (src/weights/profiles/preprocessing.ts)
    expect(countParams(n.graph)).toBe(convs.reduce((s, [a, b]) => s + convP(3, a!, b!), 0) + 3);
  });
  it('selects average pooling by a network parameter', () => {
    const r = compileSource('import vgg19\nnetwork v = vgg19(pool: avg)\n', path.join(root, 'specs/_inline.style'));
    expect(r.diagnostics).toEqual([]);
    const g = r.module!.networks.get('v')!.graph;
    expect(g.nodes.filter((x) => x.op === 'avgPool').length).toBe(5);
    expect(g.nodes.filter((x) => x.op === 'maxPool').length).toBe(0);
    expect(n.graph.nodes.filter((x) => x.op === 'maxPool').length).toBe(5);
  });
  it('takes its preprocessing from the weights (one mean parameter) and its weights as pretrained vgg19', () => {
    const ops = n.graph.nodes.slice(0, 2).map((x) => x.op);
    expect(ops).toEqual(['sub', 'conv2d']);
    const mean = n.graph.values.get(n.graph.nodes[0]!.inputs[1]!)!;
    expect(mean).toMatchObject({ id: 'preprocess.mean', kind: 'param', shape: [1, 3, 1, 1], trainable: false });
    expect(n.weights).toEqual({ kind: 'pretrained', name: 'vgg19' });
  });
});

describe('stdlib/squeezenet1_1.style', () => {
  const n = net('stdlib/squeezenet1_1.style');
  it('has 1,235,496 parameters and fire-module taps', () => {
    expect(countParams(n.graph)).toBe(1_235_496);
    expect(tapShape(n, 'relu1')).toEqual([1, 64, 111, 111]);
    expect(tapShape(n, 'pool1')).toEqual([1, 64, 55, 55]);
    expect(tapShape(n, 'fire2')).toEqual([1, 128, 55, 55]);
    expect(tapShape(n, 'fire2.squeeze_relu')).toEqual([1, 16, 55, 55]);
    expect(tapShape(n, 'fire5')).toEqual([1, 256, 27, 27]);
    expect(tapShape(n, 'fire9.expand3x3')).toEqual([1, 256, 13, 13]);
    const g = specialize(n.graph, { N: 1, H: 224, W: 224 });
    expect(concreteShapeOf(g, g.outputs.get('logits')!)).toEqual([1, 1000]);
  });
});

describe('stdlib/vgg16.style', () => {
  it('has the 13 VGG-16 convs and Johnson loss taps', () => {
    const n = net('stdlib/vgg16.style');
    for (const [tap, c] of Object.entries({ relu1_2: 64, relu2_2: 128, relu3_3: 256, relu4_3: 512 })) expect(tapShape(n, tap)[1]).toBe(c);
    expect(n.graph.taps.has('relu5_4')).toBe(false);
    expect(n.graph.values.get('conv5_3.weight')!.shape).toEqual([512, 512, 3, 3]);
  });
});

describe('specs/gatys.style', () => {
  it("states the paper's objective and the variants", () => {
    const r = compileFile(path.join(root, 'specs/gatys.style'));
    expect(r.diagnostics).toEqual([]);
    const m = r.module!;
    const g = m.objectives.get('gatys')!;
    expect(g.lossNet).toBe('vgg19');
    expect(g.terms[0]).toEqual({ kind: 'content', taps: [{ tap: 'conv4_2', weight: 1 }], weight: 1, attrs: { norm: 'half_sum', mask: false } });
    const style = g.terms[1]!;
    expect(style.kind === 'style' && style.taps.map((t) => t.tap)).toEqual(['relu1_1', 'relu2_1', 'relu3_1', 'relu4_1', 'relu5_1']);
    expect(style.kind === 'style' && style.taps.every((t) => t.weight === 0.2) && style.attrs['norm']).toBe('gatys');
    expect(m.objectives.get('gatys_avg')!.lossNet).toBe('vgg19_avg');
    expect(m.networks.get('vgg19_avg')!.graph.nodes.some((x) => x.op === 'avgPool')).toBe(true);
    expect(m.objectives.get('gatys_squeezenet')!.lossNet).toBe('squeezenet1_1');
    const partial = m.objectives.get('gatys_vgg19_partial')!;
    const deepest = Math.max(...partial.terms.flatMap((t) => ('taps' in t ? t.taps.map((x) => Number(x.tap.match(/(\d)_/)![1])) : [])));
    expect(deepest).toBeLessThanOrEqual(3);
  });
});
