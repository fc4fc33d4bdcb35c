/** The comparison numbers (src/verify/compare.ts) on hand-computed examples. */
import { describe, expect, it } from 'vitest';
import { diffTensors, leadingItems, relativeError, unravel } from '../../src/verify/index.ts';

const t = (shape: number[], values: number[]) => ({ shape, data: Float32Array.from(values) });

describe('diffTensors', () => {
  it('reports max|a - b|, max|b|, their ratio and where the worst difference is', () => {
    // |1-1| = 0, |2-2.5| = 0.5, |3-(-4)| = 7; max|b| = 4; 7 / 4 = 1.75
    const d = diffTensors(t([3], [1, 2, 3]), t([3], [1, 2.5, -4]));
    expect(d).toEqual({ maxAbs: 7, scale: 4, relErr: 1.75, worst: 2 });
  });
  it('scales by the reference side only (b)', () => {
    expect(diffTensors(t([2], [10, 0]), t([2], [9, 0])).relErr).toBeCloseTo(1 / 9, 15);
    expect(diffTensors(t([2], [9, 0]), t([2], [10, 0])).relErr).toBeCloseTo(1 / 10, 15);
  });
  it('is 0 for equal tensors, including all zeros, and infinite against an all-zero reference', () => {
    expect(diffTensors(t([2], [0, 0]), t([2], [0, 0])).relErr).toBe(0);
    expect(diffTensors(t([2], [0, 1e-30]), t([2], [0, 0])).relErr).toBe(Infinity);
    expect(relativeError(0, 0)).toBe(0);
  });
  it('never lets a NaN pass: one-sided NaN gives NaN error', () => {
    const d = diffTensors(t([3], [1, NaN, 3]), t([3], [1, 2, 3]));
    expect(d.maxAbs).toBeNaN();
    expect(d.relErr <= 1).toBe(false);
    expect(d.worst).toBe(1);
  });
  it('rejects tensors of different shapes', () => {
    expect(() => diffTensors(t([2, 2], [1, 2, 3, 4]), t([4], [1, 2, 3, 4]))).toThrow(/shapes/);
  });
});

describe('tensor helpers', () => {
  it('unravels a flat C-order index', () => {
    // shape [2, 3, 2]: strides 6, 2, 1; 7 = 1*6 + 0*2 + 1
    expect(unravel(7, [2, 3, 2])).toEqual([1, 0, 1]);
    expect(unravel(11, [2, 3, 2])).toEqual([1, 2, 1]);
  });
  it('takes the leading batch items', () => {
    const x = t([3, 2], [1, 2, 3, 4, 5, 6]);
    expect(leadingItems(x, 2)).toEqual({ shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) });
    expect(() => leadingItems(x, 4)).toThrow();
  });
});
