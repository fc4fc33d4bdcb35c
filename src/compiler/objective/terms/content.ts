/**
 * `content(weight: α, norm: half_sum | mean, mask: false) { tap: w, ... }`: feature reconstruction
 * (Gatys et al. 2016 eq. 1; Johnson et al. 2016 §3.1), L = Σ_l w_l ℓ(F_l − P_l), P = the content
 * image's features. With `mask: true` the difference is weighted by the run-time content mask m
 * downsampled to each tap (ℓ((F − P) ∘ m); Gatys et al. 2017, "Controlling Perceptual Factors", §4):
 * the content is kept where m = 1 and released where m = 0.
 */
import { tBool, tEnum, tFloat } from '../../checker/values.ts';
import type { TermKind } from '../term-kind.ts';
import { attr, type ContentNorm } from '../types.ts';
import { contentLoss } from '../terms.ts';
import { perImage, sumOverTaps } from './common.ts';

export const contentTerm: TermKind = {
  kind: 'content',
  summary: 'feature reconstruction against the content image',
  attributes: [
    { name: 'weight', type: tFloat, default: 1 },
    { name: 'norm', type: tEnum('half_sum', 'mean'), default: 'half_sum' },
    { name: 'mask', type: tBool, default: false },
  ],
  taps: 'required',
  override: 'content-weight',
  extensive: (term) => attr<ContentNorm>(term, 'norm') === 'half_sum',
  target: {
    image: 'content',
    build: (ctx, term) => new Map(term.taps.map(({ tap }) => [tap, ctx.feature(tap)])),
  },
  step(ctx, term) {
    const { b } = ctx;
    const norm = attr<ContentNorm>(term, 'norm');
    const loss = sumOverTaps(ctx, term, (tap) => {
      const f = ctx.feature(tap);
      const p = ctx.target(tap);
      if (!attr<boolean>(term, 'mask')) return contentLoss(b, f, p, norm);
      const m = ctx.mask('content', 0, tap);
      const fm = b.add('mul', [f, m], {}, {}, `${ctx.stem}_${tap}_fm`);
      const pm = b.add('mul', [p, m], {}, {}, `${ctx.stem}_${tap}_pm`);
      return contentLoss(b, fm, pm, norm);
    });
    // `mean` already averages over the batch; a sum is divided by N.
    return norm === 'mean' ? loss : perImage(b, loss, ctx.batch, ctx.stem);
  },
};
