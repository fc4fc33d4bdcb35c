/**
 * `style(weight: β, norm: gatys | johnson, mask: false) { tap: w_l, ... }`: Gram matrix matching
 * (Gatys et al. 2016 eq. 3-5; Johnson et al. 2016 §3.2), L = Σ_l w_l E_l(G(F_l), A_l).
 *
 * Targets: A_l = gram(style features). Gatys Grams are unnormalised, so they scale with the number
 * of positions M = H·W: a style image of another size has its Grams multiplied by M_output / M_style
 * (the targets of a style image of the output's size with the same statistics). Several style
 * images are blended (Σ b_k A^(k)).
 *
 * `mask: true`: guided Gram matrices (Gatys et al. 2017, "Controlling Perceptual Factors in Neural
 * Style Transfer", §5): style image k owns the region of its run-time mask m_k (downsampled to each
 * tap); G_k = (F ∘ m_k)(F ∘ m_k)ᵀ is matched to A_k · Σ m_k² / M, style k's Gram scaled to the
 * region's (weighted) share of the positions, and the term sums E_l over the images (no blending).
 */
import { tBool, tEnum, tFloat } from '../../checker/values.ts';
import type { StepContext, TermKind } from '../term-kind.ts';
import { attr, type GramNorm, type LossTerm } from '../types.ts';
import { gram, styleLayerLoss, sumOfSquares } from '../terms.ts';
import { concreteNchw, perImage, sumOverTaps } from './common.ts';

function maskedStyle(ctx: StepContext, term: LossTerm, tap: string, norm: GramNorm): string {
  const { b } = ctx;
  const f = ctx.feature(tap);
  const [, , h, w] = concreteNchw(b, f);
  const parts: string[] = [];
  for (let k = 0; k < ctx.styles; k++) {
    const m = ctx.mask('style', k, tap);
    const fk = b.add('mul', [f, m], {}, {}, `${ctx.stem}_${tap}_region${k}`);
    const share = b.add('scale', [sumOfSquares(b, m, `${ctx.stem}_${tap}_area${k}`)], { value: 1 / (h * w) }, {}, `${ctx.stem}_${tap}_share${k}`);
    const a = b.add('mul', [ctx.target(tap, k), share], {}, {}, `${ctx.stem}_${tap}_target${k}`);
    parts.push(styleLayerLoss(b, gram(b, fk, norm), a, norm, b.shape(f)));
  }
  return parts.reduce((acc, p) => b.add('add', [acc, p], {}, {}, `${ctx.stem}_${tap}_regions`));
}

export const styleTerm: TermKind = {
  kind: 'style',
  summary: 'Gram matrix matching against the style image(s)',
  attributes: [
    { name: 'weight', type: tFloat, default: 1 },
    { name: 'norm', type: tEnum('gatys', 'johnson'), default: 'gatys' },
    { name: 'mask', type: tBool, default: false },
  ],
  taps: 'required',
  override: 'style-weight',
  target: {
    image: 'style',
    perStyle: (term) => attr<boolean>(term, 'mask'),
    build(ctx, term) {
      const norm = attr<GramNorm>(term, 'norm');
      const { b } = ctx;
      return new Map(
        term.taps.map(({ tap }) => {
          const f = ctx.feature(tap);
          let g = gram(b, f, norm);
          if (norm === 'gatys') {
            const [, , hs, ws] = concreteNchw(b, f);
            const [, , hx, wx] = ctx.outputShape(tap);
            const ratio = (hx! * wx!) / (hs * ws);
            if (ratio !== 1) g = b.add('scale', [g], { value: ratio }, {}, `${f}_gram_rescaled`);
          }
          return [tap, g];
        }),
      );
    },
  },
  step(ctx, term) {
    const { b } = ctx;
    const norm = attr<GramNorm>(term, 'norm');
    const loss = sumOverTaps(ctx, term, (tap) => {
      if (attr<boolean>(term, 'mask')) return maskedStyle(ctx, term, tap, norm);
      const f = ctx.feature(tap);
      return styleLayerLoss(b, gram(b, f, norm), ctx.target(tap), norm, b.shape(f));
    });
    return perImage(b, loss, ctx.batch, ctx.stem);
  },
};
