import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../../src/compiler/ir/builder.ts';
import { constantFold } from '../../../../src/backends/onnx/optimize/index.ts';
import { opsOf, seeded } from './helpers.ts';

describe('constantFold', () => {
  it('evaluates nodes computed from constants and bound weights, and nothing that reads an input', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 2, 3, 3]);
    const w = b.param('w', [2, 2, 1, 1], { kind: 'zeros' });
    const c = b.constant('c', [1, 2, 1, 1], Float32Array.of(2, -3));
    const w2 = b.add('scale', [w], { value: 3 }); // foldable: 3 w
    const y = b.add('conv2d', [x, w2], { strides: [1, 1], dilations: [1, 1], padding: { kind: 'explicit', pads: [0, 0, 0, 0] }, group: 1 });
    b.output('y', b.add('add', [y, b.add('neg', [c], {})], {})); // neg(c) folds, the add does not
    const g = b.build();
    const weights = new Map([['w', { shape: [2, 2, 1, 1], data: Float32Array.of(1, 2, 3, 4) }]]);
    const f = constantFold(g, weights);
    expect(opsOf(f)).toEqual(['conv2d', 'add']);
    const conv = f.nodes[0]!;
    const folded = f.values.get(conv.inputs[1]!)!;
    expect(folded.kind).toBe('const');
    expect(Array.from(folded.data!)).toEqual([3, 6, 9, 12]);
    const negC = f.values.get(f.nodes[1]!.inputs[1]!)!;
    expect(Array.from(negC.data!)).toEqual([-2, 3]);
    expect(f.values.has('w')).toBe(false); // the parameter is no longer read
  });

  it('leaves trained parameters (no bound weight) alone', () => {
    const b = new GraphBuilder();
    const w = b.param('w', [4], { kind: 'zeros' });
    b.output('y', b.add('scale', [w], { value: 2 }));
    const g = b.build();
    expect(constantFold(g, new Map())).toBe(g);
  });

  it('does not fold nodes that would grow the model (expand of a scalar)', () => {
    const b = new GraphBuilder();
    const s = b.scalar('s', 1.5);
    const x = b.input('x', [1, 8, 16, 16]);
    b.output('y', b.add('mul', [x, b.add('expand', [s], { shape: [1, 8, 16, 16] })], {}));
    const g = b.build();
    expect(opsOf(constantFold(g, new Map()))).toEqual(['expand', 'mul']);
    expect(opsOf(constantFold(g, new Map(), { maxGrowth: 4096 }))).toEqual(['mul']);
  });

  it('matches the unfolded graph on a seeded weight chain', async () => {
    const { runReference } = await import('../../../../src/backends/reference/index.ts');
    const b = new GraphBuilder();
    const x = b.input('x', [2, 3]);
    const w = b.param('w', [3, 4], { kind: 'zeros' });
    const wt = b.add('sqrt', [b.add('mul', [w, w], {})], {});
    b.output('y', b.add('matmul', [x, wt], {}));
    const g = b.build();
    const weights = new Map([['w', seeded([3, 4], 2)]]);
    const feeds = { x: seeded([2, 3], 3) };
    const f = constantFold(g, weights);
    expect(opsOf(f)).toEqual(['matmul']);
    const a = runReference(g, weights, feeds).y!.data;
    const c = runReference(f, weights, feeds).y!.data;
    for (let i = 0; i < a.length; i++) expect(c[i]).toBeCloseTo(a[i]!, 5);
  });
});
