import { describe, expect, it } from 'vitest';
import { atScale, type ObjectiveSpec } from '../../../src/compiler/objective/index.ts';

const spec: ObjectiveSpec = {
  name: 'o',
  lossNet: 'n',
  terms: [
    { kind: 'content', weight: 2, taps: [{ tap: 'a', weight: 1 }], attrs: { norm: 'half_sum', mask: false } },
    { kind: 'content', weight: 3, taps: [{ tap: 'a', weight: 1 }], attrs: { norm: 'mean', mask: false } },
    { kind: 'style', weight: 10, taps: [{ tap: 'a', weight: 1 }], attrs: { norm: 'gatys', mask: false } },
    { kind: 'tv', weight: 1e-3, taps: [], attrs: { norm: 'sum' } },
    { kind: 'tv', weight: 5, taps: [], attrs: { norm: 'mean' } },
    { kind: 'mean_std', weight: 7, taps: [{ tap: 'a', weight: 1 }], attrs: { eps: 1e-5 } },
  ],
};

describe('term weights at a coarse scale (stylize --scales)', () => {
  it('raises the sums over positions by the area ratio and leaves the size-independent terms', () => {
    expect(atScale(spec, 4).terms.map((t) => t.weight)).toEqual([8, 3, 10, 4e-3, 5, 7]);
  });
  it('is the identity at the output size', () => {
    expect(atScale(spec, 1)).toBe(spec);
  });
});
