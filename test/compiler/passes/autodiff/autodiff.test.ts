/**
 * Structural behaviour of the autodiff pass: what it keeps, what it skips, how it names
 * things, and how it rejects graphs it cannot differentiate.
 */
import { describe, expect, it } from 'vitest';
import { runReference } from '../../../../src/backends/reference/interpreter.ts';
import { GraphBuilder } from '../../../../src/compiler/ir/builder.ts';
import { dimVar } from '../../../../src/compiler/ir/dim.ts';
import { differentiate } from '../../../../src/compiler/passes/autodiff/autodiff.ts';
import { specialize } from '../../../../src/compiler/passes/specialize.ts';
import { expectGradsMatch, gradCheck, Net } from './gradcheck.ts';
import { fireLike } from './nets.ts';

const conv = { strides: [1, 1] as [number, number], dilations: [1, 1] as [number, number], padding: { kind: 'same' as const }, group: 1 };

describe('differentiate', () => {
  it('keeps the forward outputs and their values', () => {
    const { net, graph } = fireLike(5);
    const gg = differentiate(graph, { loss: 'loss', wrt: ['image'] });
    expect([...gg.outputs.keys()]).toEqual(['out', 'loss', 'grad:image']);
    const feeds = { image: net.data.get('image')! };
    const before = runReference(graph, net.data, feeds);
    const after = runReference(gg, net.data, feeds);
    expect([...after.out!.data]).toEqual([...before.out!.data]);
    expect(after.loss!.data[0]).toBe(before.loss!.data[0]);
  });

  it('emits only the gradients asked for: no weight or bias gradients for a frozen network', () => {
    const { graph } = fireLike(5);
    const gg = differentiate(graph, { loss: 'loss', wrt: ['image'] });
    const added = gg.nodes.slice(graph.nodes.length);
    // dx of a conv is a transposed conv; dw would add conv2d nodes and db a reduceSum.
    expect(added.filter((n) => n.op === 'conv2d')).toHaveLength(0);
    expect(added.filter((n) => n.op === 'reduceSum')).toHaveLength(0);
    expect(added.filter((n) => n.op === 'convTranspose2d')).toHaveLength(4);
  });

  it('skips nodes that do not lead to the loss and nodes that do not depend on wrt', () => {
    const n = new Net(1);
    const x = n.input('x', [2, 3]);
    const c = n.input('c', [2, 3]);
    const side = n.b.add('tanh', [x], {}); // not on the loss path
    n.b.output('side', side);
    const k = n.b.add('sigmoid', [c], {}); // does not depend on x
    const g = n.finish(n.b.add('mul', [x, k], {}));
    const gg = differentiate(g, { loss: 'loss', wrt: [x] });
    const added = gg.nodes.slice(g.nodes.length).map((node) => node.op);
    expect(added).not.toContain('sub'); // tanh / sigmoid VJPs would emit sub
    // d(loss)/d(prod) = 1 broadcast back from the sum, then * R, then * k
    expect(added).toEqual(['reshape', 'expand', 'mul', 'mul']);
  });

  it('reuses the forward output in the relu and tanh rules', () => {
    const n = new Net(1);
    const x = n.input('x', [2, 3]);
    const r = n.b.add('relu', [x], {});
    const t = n.b.add('tanh', [r], {});
    const gg = differentiate(n.finish(t), { loss: 'loss', wrt: [x] });
    const reluGrad = gg.nodes.find((node) => node.op === 'reluGrad')!;
    expect(reluGrad.inputs[0]).toBe(r);
    const tanhSq = gg.nodes.find((node) => node.op === 'mul' && node.inputs[0] === t && node.inputs[1] === t);
    expect(tanhSq).toBeDefined();
    expect(gg.nodes.filter((node) => node.op === 'relu' || node.op === 'tanh')).toHaveLength(2);
  });

  it('accumulates fan-out with add', () => {
    const n = new Net(3);
    const x = n.input('x', [1, 2, 3, 3]);
    const a = n.b.add('relu', [x], {});
    const b = n.b.add('sigmoid', [x], {});
    const g = n.finish(n.b.add('add', [a, b], {}));
    const r = gradCheck(g, n.data, [x]);
    expectGradsMatch(r);
    expect(r.gradGraph.nodes.slice(g.nodes.length).filter((node) => node.op === 'add')).toHaveLength(1);
  });

  it('gives a zero gradient for a wrt value the loss does not depend on', () => {
    const n = new Net(3);
    const x = n.input('x', [2, 2]);
    const unused = n.input('unused', [3]);
    const g = n.finish(n.b.add('relu', [x], {}));
    const gg = differentiate(g, { loss: 'loss', wrt: [unused], gradName: (id) => `d_${id}` });
    const out = runReference(gg, new Map(), { x: n.data.get(x)!, unused: n.data.get(unused)! });
    expect(out.d_unused!.shape).toEqual([3]);
    expect([...out.d_unused!.data]).toEqual([0, 0, 0]);
    expect(gg.nodes.some((node) => node.op === 'reluGrad')).toBe(false);
  });

  it('differentiates a specialised graph with TF "same" conv padding', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 1, dimVar('H'), dimVar('W')]);
    const w = b.param('w', [1, 1, 4, 4], { kind: 'ones' });
    const y = b.add('conv2d', [x, w], { ...conv, strides: [2, 2] });
    b.output('loss', b.add('reduceSum', [y], { axes: [0, 1, 2, 3], keepDims: false }));
    const g = b.build();
    expect(() => differentiate(g, { loss: 'loss', wrt: [x] })).toThrow(/symbolic shape.*specialise/);
    const gg = differentiate(specialize(g, { H: 5, W: 7 }), { loss: 'loss', wrt: [x] });
    const ones = { shape: [1, 1, 5, 7], data: new Float64Array(35).fill(1) };
    const dx = runReference(gg, new Map([['w', { shape: [1, 1, 4, 4], data: new Float64Array(16).fill(1) }]]), { x: ones })['grad:x']!;
    // SAME pads for H=5, k=4, s=2: 3 outputs, total padding 3 -> top 1, bottom 2; windows cover
    // rows [-1,3), [1,5), [3,7), so input rows 0..4 lie in 1, 2, 2, 2, 2 windows.
    // W=7: 4 outputs, total padding 3 -> left 1; windows [-1,3), [1,5), [3,7), [5,9).
    const rows = [1, 2, 2, 2, 2];
    const cols = [1, 2, 2, 2, 2, 2, 2];
    expect([...dx.data]).toEqual(rows.flatMap((r) => cols.map((c) => r * c)));
  });

  it('rejects a non-scalar loss, an unknown wrt, and gradient-only ops on the path', () => {
    const n = new Net(3);
    const x = n.input('x', [2, 2]);
    const y = n.b.add('relu', [x], {});
    n.b.output('vec', y);
    const rg = n.b.add('reluGrad', [y, x], {});
    n.b.output('loss', n.b.add('reduceSum', [rg], { axes: [0, 1], keepDims: false }));
    const g = n.b.build();
    expect(() => differentiate(g, { loss: 'vec', wrt: [x] })).toThrow(/not a scalar/);
    expect(() => differentiate(g, { loss: 'nope', wrt: [x] })).toThrow(/no output named nope/);
    expect(() => differentiate(g, { loss: 'loss', wrt: ['ghost'] })).toThrow(/no value ghost/);
    expect(() => differentiate(g, { loss: 'loss', wrt: [x] })).toThrow(/gradient-only op reluGrad/);
  });
});
