import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../src/compiler/ir/builder.ts';
import { dimVar } from '../../../src/compiler/ir/dim.ts';
import { selectOutputs } from '../../../src/compiler/passes/prune.ts';
import { specialize } from '../../../src/compiler/passes/specialize.ts';
import { countParams, flopsPerLayer } from '../../../src/compiler/passes/stats.ts';
import { validateGraph } from '../../../src/compiler/ir/graph.ts';
import { ShapeError } from '../../../src/compiler/ir/ops.ts';

function chain() {
  const b = new GraphBuilder();
  const x = b.input('x', [dimVar('N'), 3, dimVar('H'), dimVar('W')]);
  const pads = { kind: 'explicit', pads: [1, 1, 1, 1] } as const;
  const conv = (name: string, inp: string, cin: number, cout: number) => {
    const w = b.param(`${name}.weight`, [cout, cin, 3, 3], { kind: 'uniform_fan_in', fanIn: cin * 9, gain: 1 });
    const bias = b.param(`${name}.bias`, [cout], { kind: 'zeros' });
    const y = b.add('conv2d', [inp, w, bias], { strides: [1, 1], dilations: [1, 1], padding: pads, group: 1 }, { layer: name });
    const r = b.add('relu', [y], {}, { layer: `relu${name.slice(4)}` });
    b.tap(`relu${name.slice(4)}`, r);
    return r;
  };
  const r1 = conv('conv1_1', x, 3, 4);
  const r2 = conv('conv2_1', r1, 4, 8);
  b.output('y', r2);
  return b.build();
}

describe('tap pruning', () => {
  it('a graph asked only for relu1_1 never computes conv2_1', () => {
    const g = selectOutputs(chain(), ['relu1_1']);
    validateGraph(g);
    expect(g.nodes.map((n) => n.layer)).toEqual(['conv1_1', 'relu1_1']);
    expect(g.values.has('conv2_1.weight')).toBe(false);
    expect(countParams(g)).toBe(4 * 3 * 9 + 4);
  });

  it('rejects unknown taps', () => {
    expect(() => selectOutputs(chain(), ['relu9_9'])).toThrow(/relu9_9/);
  });
});

describe('specialisation and stats', () => {
  it('binds sizes and counts FLOPs per layer', () => {
    const g = specialize(chain(), { N: 1, H: 5, W: 7 });
    const rows = flopsPerLayer(g);
    const conv1 = rows.find((r) => r.layer === 'conv1_1')!;
    expect(conv1.outputShape).toEqual([1, 4, 5, 7]);
    expect(conv1.flops).toBe(2 * 4 * 5 * 7 * 3 * 9);
  });

  it('reports channel mismatches as ShapeError', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 3, 8, 8]);
    const w = b.param('w', [4, 5, 3, 3], { kind: 'zeros' });
    expect(() => b.add('conv2d', [x, w], { strides: [1, 1], dilations: [1, 1], padding: { kind: 'same' }, group: 1 })).toThrow(ShapeError);
  });
});
