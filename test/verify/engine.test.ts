/**
 * The conformance engine on tiny graphs: which pairs it compares and in which direction,
 * golden comparisons on leading batch items against hand-computed values, and that a
 * bug planted in one backend's graph fails exactly the comparisons that involve it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { selectTfjsBackend } from '../../src/backends/tfjs/index.ts';
import { GraphBuilder } from '../../src/compiler/ir/builder.ts';
import type { Graph, HostTensor } from '../../src/compiler/ir/types.ts';
import { runConformance, uniformTensor, type Comparison } from '../../src/verify/index.ts';

/** y = relu(reflect-pad(x, 1) * conv) on [2, 2, 7, 9]: small, with a padding mode that matters. */
function tinyNet(mode: 'reflect' | 'constant' = 'reflect', stride = 1): { graph: Graph; weights: Map<string, HostTensor>; feeds: Record<string, HostTensor> } {
  const b = new GraphBuilder();
  const x = b.input('x', [2, 2, 7, 9]);
  const w = b.param('conv.weight', [3, 2, 3, 3], { kind: 'zeros' });
  const p = b.add('pad', [x], { mode, pads: [1, 1, 1, 1], value: 0 });
  const c = b.add('conv2d', [p, w], { strides: [stride, stride], dilations: [1, 1], padding: { kind: 'explicit', pads: [0, 0, 0, 0] }, group: 1 });
  b.output('y', b.add('relu', [c], {}));
  const weights = new Map([['conv.weight', uniformTensor([3, 2, 3, 3], 'tiny/w', -0.5, 0.5)]]);
  return { graph: b.build(), weights, feeds: { x: uniformTensor([2, 2, 7, 9], 'tiny/x', -1, 1) } };
}

/** y = relu(x): its golden is computable by hand. */
function reluNet(): { graph: Graph; feeds: Record<string, HostTensor> } {
  const b = new GraphBuilder();
  b.output('y', b.add('relu', [b.input('x', [3, 2, 4])], {}));
  return { graph: b.build(), feeds: { x: uniformTensor([3, 2, 4], 'relu/x', -2, 2) } };
}

const pairs = (cs: readonly Comparison[]) => cs.map((c) => `${c.a}:${c.b}:${c.pass ? 'pass' : 'fail'}`);

describe('runConformance', () => {
  beforeAll(async () => {
    await selectTfjsBackend('cpu');
  });

  it('compares every pair of backends, with the float64 reference on the right', async () => {
    const r = await runConformance(tinyNet(), { backends: ['reference', 'onnx', 'tfjs'] });
    expect(r.backends.map((b) => b.status)).toEqual(['ran', 'ran', 'ran']);
    expect(pairs(r.comparisons)).toEqual(['onnx:reference:pass', 'tfjs:reference:pass', 'onnx:tfjs:pass']);
    for (const c of r.comparisons) {
      expect(c.shape).toEqual([2, 3, 7, 9]);
      expect(c.relErr).toBeLessThan(1e-6);
    }
    expect(r.pass).toBe(true);
  });

  it('fails exactly the comparisons that involve the backend whose graph has a planted bug', async () => {
    const bad = tinyNet('constant').graph;
    const r = await runConformance(tinyNet(), { backends: ['onnx', 'tfjs', 'reference'], graphs: { tfjs: bad } });
    expect(pairs(r.comparisons)).toEqual(['onnx:tfjs:fail', 'onnx:reference:pass', 'tfjs:reference:fail']);
    // Zero instead of reflected borders: an O(1) change of border outputs.
    expect(r.comparisons[0]!.relErr).toBeGreaterThan(0.05);
    expect(r.comparisons[0]!.worstAt![2] === 0 || r.comparisons[0]!.worstAt![2] === 6 || r.comparisons[0]!.worstAt![3] === 0 || r.comparisons[0]!.worstAt![3] === 8).toBe(true);
    expect(r.pass).toBe(false);
  });

  it('reports a shape mismatch as a failure with infinite error', async () => {
    const r = await runConformance(tinyNet(), { backends: ['onnx', 'reference'], graphs: { onnx: tinyNet('reflect', 2).graph } });
    expect(r.comparisons).toHaveLength(1);
    expect(r.comparisons[0]).toMatchObject({ a: 'onnx', b: 'reference', pass: false, relErr: Infinity, problem: 'shape [2,3,4,5] vs [2,3,7,9]' });
  });

  it('compares the golden with the leading batch items only', async () => {
    const { graph, feeds } = reluNet();
    const x = feeds.x!.data;
    // Golden for item 0 only: relu by hand.
    const want = { shape: [1, 2, 4], data: Float32Array.from(x.subarray(0, 8), (v) => Math.max(v, 0)) };
    const ok = await runConformance({ graph, weights: new Map(), feeds, golden: { case: 'hand', outputs: new Map([['y', want]]), items: 1 } }, { backends: ['onnx'] });
    expect(ok.comparisons).toEqual([expect.objectContaining({ a: 'onnx', b: 'golden', items: 1, shape: [1, 2, 4], maxAbs: 0, pass: true })]);
    // A golden that forgot the ReLU: wrong by the most negative input of item 0.
    const noRelu = { shape: [1, 2, 4], data: Float32Array.from(x.subarray(0, 8)) };
    const bad = await runConformance({ graph, weights: new Map(), feeds, golden: { case: 'hand', outputs: new Map([['y', noRelu]]), items: 1 } }, { backends: ['onnx'] });
    expect(bad.comparisons[0]!.pass).toBe(false);
    expect(bad.comparisons[0]!.maxAbs).toBe(-Math.min(...x.subarray(0, 8)));
  });

  it('applies tolerance overrides, reports skipped and failing backends, and never passes an empty check', async () => {
    const net = tinyNet();
    const strict = await runConformance(net, { backends: ['onnx', 'reference'], tolerances: { 'onnx:reference': { relErr: 0, why: 'test' } } });
    expect(strict.comparisons[0]!.relErr).toBeGreaterThan(0); // float32 vs float64 differ somewhere
    expect(strict.pass).toBe(false);

    const broken = await runConformance(net, { backends: ['onnx', 'reference'], skip: { reference: 'too big' }, graphs: { onnx: { ...net.graph, inputs: ['nope'] } } });
    expect(broken.backends[0]).toMatchObject({ backend: 'onnx', status: 'error' });
    expect(broken.backends[1]).toEqual({ backend: 'reference', status: 'skipped', reason: 'too big' });
    expect(broken.comparisons).toEqual([]);
    expect(broken.pass).toBe(false);
  });
});
