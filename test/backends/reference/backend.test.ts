import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../../../src/backends/reference/backend.ts';
import { runReference } from '../../../src/backends/reference/interpreter.ts';
import { GraphBuilder } from '../../../src/compiler/ir/builder.ts';
import { dimProd, dimVar } from '../../../src/compiler/ir/dim.ts';

/** y = relu(conv1x1(x) + b) flattened over a symbolic H, W. */
function tinyNet() {
  const b = new GraphBuilder();
  const H = dimVar('H');
  const W = dimVar('W');
  const x = b.input('image', [1, 1, H, W]);
  const w = b.param('c.weight', [2, 1, 1, 1], { kind: 'ones' });
  const bias = b.param('c.bias', [2], { kind: 'zeros' });
  const c = b.add('conv2d', [x, w, bias], { strides: [1, 1], dilations: [1, 1], padding: { kind: 'explicit', pads: [0, 0, 0, 0] }, group: 1 });
  const r = b.add('relu', [c], {});
  b.output('flat', b.add('reshape', [r], { shape: [1, 2, dimProd(H, W)] }));
  return b.build();
}

describe('ReferenceBackend', () => {
  const weights = new Map([
    ['c.weight', { shape: [2, 1, 1, 1], data: Float32Array.of(1, -1) }],
    ['c.bias', { shape: [2], data: Float32Array.of(0.25, 0) }],
  ]);
  it('runs a graph with symbolic sizes bound from the feeds, returning float32', async () => {
    const model = await new ReferenceBackend().compile(tinyNet(), weights);
    expect(model.inputNames).toEqual(['image']);
    expect(model.outputNames).toEqual(['flat']);
    const out = await model.run({ image: { shape: [1, 1, 1, 3], data: Float32Array.of(-1, 0, 2) } });
    expect(out.flat!.shape).toEqual([1, 2, 3]);
    expect(out.flat!.data).toBeInstanceOf(Float32Array);
    expect([...out.flat!.data]).toEqual([0, 0.25, 2.25, 1, 0, 0]);
    await model.dispose();
  });
  it('reports a missing parameter by name', () => {
    expect(() => runReference(tinyNet(), new Map(), { image: { shape: [1, 1, 1, 1], data: Float32Array.of(1) } })).toThrow(/no weights for parameter c.weight/);
  });
});
