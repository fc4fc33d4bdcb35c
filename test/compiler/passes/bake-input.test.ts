/** bakeInput: a graph input becomes a constant and every shape is inferred again from it. */
import { describe, expect, it } from 'vitest';
import { runReference } from '../../../src/backends/reference/interpreter.ts';
import { GraphBuilder } from '../../../src/compiler/ir/builder.ts';
import { dimVar } from '../../../src/compiler/ir/dim.ts';
import { validateGraph } from '../../../src/compiler/ir/graph.ts';
import { bakeInput } from '../../../src/compiler/passes/bake-input.ts';
import { specialize } from '../../../src/compiler/passes/specialize.ts';

function conditioned() {
  const b = new GraphBuilder();
  const N = dimVar('N');
  const x = b.input('x', [N, 2, dimVar('H'), 3]);
  const s = b.input('s', [N, 2, 1, 1]);
  const y = b.add('mul', [x, s], {}, { layer: 'scaled' });
  b.tap('scaled', y);
  b.tap('s', s);
  b.output('y', b.add('tanh', [y], {}));
  return b.build();
}

describe('bakeInput', () => {
  it('leaves one input, keeps outputs and taps, and broadcasts the [1, C, 1, 1] constant over a symbolic batch', () => {
    const g = bakeInput(conditioned(), 's', { shape: [1, 2, 1, 1], data: Float32Array.of(2, -1) });
    validateGraph(g);
    expect(g.inputs).toEqual(['x']);
    expect(g.values.get('s')!.kind).toBe('const');
    expect([...g.outputs.keys()]).toEqual(['y']);
    expect(g.taps.has('scaled')).toBe(true);
    expect(g.taps.has('s')).toBe(false); // no longer a value of the network's computation
    const s = specialize(g, { N: 3, H: 1 });
    const x = Float64Array.from({ length: 18 }, (_, i) => (i - 9) / 10);
    const out = runReference(s, new Map(), { x: { shape: [3, 2, 1, 3], data: x } }).y!;
    expect(out.shape).toEqual([3, 2, 1, 3]);
    for (let i = 0; i < 18; i++) expect(out.data[i]).toBeCloseTo(Math.tanh(x[i]! * (Math.floor(i / 3) % 2 === 0 ? 2 : -1)), 12);
  });
  it('rejects a name that is not an input', () => {
    expect(() => bakeInput(conditioned(), 'scaled', { shape: [1], data: Float32Array.of(0) })).toThrow(/not an input/);
  });
});
