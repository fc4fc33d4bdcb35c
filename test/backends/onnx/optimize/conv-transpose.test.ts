import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../../src/compiler/ir/builder.ts';
import { convTransposeToConv, flipTransposeKernel, reversalMatrix } from '../../../../src/backends/onnx/optimize/index.ts';
import { expectSameOutputs, maxOutputDiff, opsOf, seeded } from './helpers.ts';

function convT(strides: [number, number], pads: [number, number, number, number], k: [number, number], bias: boolean, asConst: boolean) {
  const b = new GraphBuilder();
  const x = b.input('x', [2, 3, 5, 6]);
  const wShape = [3, 4, k[0], k[1]];
  const w = asConst ? b.constant('w', wShape, seeded(wShape, 11).data) : b.param('w', wShape, { kind: 'zeros' });
  const ins = [x, w];
  if (bias) ins.push(b.param('b', [4], { kind: 'zeros' }));
  b.output('y', b.add('convTranspose2d', ins, { strides, dilations: [1, 1], padding: { kind: 'explicit', pads }, outputPadding: [0, 0], group: 1 }));
  return b.build();
}

describe('convTransposeToConv', () => {
  const weights = new Map([
    ['w', seeded([3, 4, 3, 2], 11)],
    ['b', seeded([4], 12)],
  ]);
  const feeds = { x: seeded([2, 3, 5, 6], 13) };

  it.each([
    ['no pads', [0, 0, 0, 0]],
    ['asymmetric pads', [1, 0, 2, 1]],
    ['full pads', [2, 1, 2, 1]],
  ] as const)('rewrites a stride-1 transposed conv (%s) to an equivalent conv', (_name, pads) => {
    for (const bias of [false, true]) {
      // The weight as an unknown input (IR flip) and as a bound weight (flipped here).
      for (const known of [false, true]) {
        const g = convT([1, 1], [...pads], [3, 2], bias, false);
        const opt = convTransposeToConv(g, known ? weights : new Map());
        expect(opsOf(opt)).not.toContain('convTranspose2d');
        expect(opsOf(opt)).toContain('conv2d');
        expectSameOutputs(g, opt, weights, feeds, 0.1, 1e-5);
      }
    }
  });

  it('flips constant kernels too', () => {
    const g = convT([1, 1], [1, 1, 1, 1], [3, 3], false, true);
    const opt = convTransposeToConv(g);
    expect(opsOf(opt)).toEqual(['conv2d']);
    const { diff, scale } = maxOutputDiff(g, opt, new Map(), feeds);
    expect(diff).toBeLessThan(1e-5 * scale);
  });

  it('leaves strided transposed convs alone', () => {
    const g = convT([2, 2], [1, 1, 1, 1], [3, 3], false, false);
    expect(convTransposeToConv(g, weights)).toBe(g);
  });

  it('flipTransposeKernel swaps the channel axes and rotates by 180 degrees', () => {
    // w[i=0, o=1] = [[1, 2], [3, 4]] -> w'[o=1, i=0] = [[4, 3], [2, 1]].
    const w = { shape: [1, 2, 2, 2], data: Float32Array.of(0, 0, 0, 0, 1, 2, 3, 4) };
    const f = flipTransposeKernel(w);
    expect(f.shape).toEqual([2, 1, 2, 2]);
    expect(Array.from(f.data)).toEqual([0, 0, 0, 0, 4, 3, 2, 1]);
  });

  it('reversalMatrix reverses the columns of a row vector', () => {
    const p = reversalMatrix(3);
    const r = [1, 2, 3];
    const out = [0, 1, 2].map((q) => r.reduce((s, v, i) => s + v * p[i * 3 + q]!, 0));
    expect(out).toEqual([3, 2, 1]);
  });
});
