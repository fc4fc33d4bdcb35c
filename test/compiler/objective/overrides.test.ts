import { describe, expect, it } from 'vitest';
import { withOverrides, type ObjectiveSpec } from '../../../src/compiler/objective/index.ts';
import { UserError } from '../../../src/util/errors.ts';

const spec: ObjectiveSpec = {
  name: 'o',
  lossNet: 'n',
  terms: [
    { kind: 'content', weight: 1, taps: [{ tap: 'a', weight: 1 }], attrs: {} },
    { kind: 'style', weight: 10, taps: [{ tap: 'a', weight: 1 }], attrs: {} },
    { kind: 'mean_std', weight: 5, taps: [{ tap: 'a', weight: 1 }], attrs: {} },
  ],
};
const weights = (s: ObjectiveSpec) => s.terms.map((t) => `${t.kind}=${t.weight}`);

describe('term weight overrides', () => {
  it('each flag sets exactly the kinds that declare it: no kind takes another kind’s flag', () => {
    expect(weights(withOverrides(spec, { 'style-weight': 3 }))).toEqual(['content=1', 'style=3', 'mean_std=5']);
    expect(weights(withOverrides(spec, { 'mean-std-weight': 2, 'content-weight': undefined }))).toEqual(['content=1', 'style=10', 'mean_std=2']);
  });
  it('--tv-weight adds a sum TV term when the objective has none (0 adds nothing)', () => {
    const added = withOverrides(spec, { 'tv-weight': 1e-3 });
    expect(added.terms.at(-1)).toEqual({ kind: 'tv', weight: 1e-3, taps: [], attrs: { norm: 'sum' } });
    expect(withOverrides(spec, { 'tv-weight': 0 }).terms).toHaveLength(3);
  });
  it('reports a flag for a term the objective lacks and cannot add, and an unknown flag', () => {
    expect(() => withOverrides(spec, { 'histogram-weight': 1 })).toThrow(new UserError('--histogram-weight: objective o has no histogram term to weight'));
    expect(() => withOverrides(spec, { 'colour-weight': 1 })).toThrow(/--colour-weight is not a term weight; term weight flags: --content-weight, --style-weight, --tv-weight/);
  });
});
