/**
 * `tv(weight: λ, norm: sum | mean)`: total variation of the generated image, Σ (x[h+1,w] − x[h,w])² +
 * (x[h,w+1] − x[h,w])² over every channel, `mean` dividing by the element count (Johnson et al. 2016
 * §3.3; Mahendran & Vedaldi 2015). `--tv-weight` on an objective without TV adds a `sum` term.
 */
import { tEnum, tFloat } from '../../checker/values.ts';
import type { TermKind } from '../term-kind.ts';
import { attr } from '../types.ts';
import { tvLoss } from '../terms.ts';
import { perImage } from './common.ts';

export const tvTerm: TermKind = {
  kind: 'tv',
  summary: 'total variation of the image',
  attributes: [
    { name: 'weight', type: tFloat, default: 1 },
    { name: 'norm', type: tEnum('sum', 'mean'), default: 'sum' },
  ],
  taps: 'none',
  override: 'tv-weight',
  extensive: (term) => attr<'sum' | 'mean'>(term, 'norm') === 'sum',
  addWithWeight: (weight) => ({ kind: 'tv', weight, taps: [], attrs: { norm: 'sum' } }),
  step(ctx, term) {
    const norm = attr<'sum' | 'mean'>(term, 'norm');
    const v = tvLoss(ctx.b, ctx.image, norm);
    return norm === 'mean' ? v : perImage(ctx.b, v, ctx.batch, ctx.stem);
  },
};
