/**
 * `histogram(weight: λ, every: 10, norm: mean) { tap: w_l, ... }`: histogram loss (Risser, Wilmot &
 * Barnes 2017, "Stable and Controllable Neural Texture Synthesis and Style Transfer Using Histogram
 * Losses", eq. 5): each tapped feature map F is histogram-matched to the style's, R = match(F, style),
 * and L = Σ_l w_l ℓ(F_l − R_l) with ℓ the content norms (`half_sum` ½ Σ, `mean` Σ / (N C H W)).
 * R is treated as a constant target, recomputed from the current image every `every` iterations (the
 * paper recomputes it at every step; it changes slowly, and between recomputations the objective is
 * fixed, which L-BFGS needs). The style's histogram is kept as sorted quantiles (histogram-match.ts).
 * Gatys only: a training step has no "current image" to remap between steps.
 */
import { tEnum, tFloat, tPosInt } from '../../checker/values.ts';
import type { HostTensor } from '../../ir/types.ts';
import type { TermKind } from '../term-kind.ts';
import { attr, type ContentNorm, type LossTerm } from '../types.ts';
import { contentLoss } from '../terms.ts';
import { matchHistogram, sortedQuantiles } from '../histogram-match.ts';
import { sumOverTaps } from './common.ts';

const quantilesOf = (tap: string): string => `${tap}.quantiles`;

export const histogramTerm: TermKind = {
  kind: 'histogram',
  summary: 'histogram matching of feature maps (Risser et al. 2017)',
  extensive: (term) => attr<ContentNorm>(term, 'norm') === 'half_sum',
  attributes: [
    { name: 'weight', type: tFloat, default: 1 },
    { name: 'every', type: tPosInt, default: 10 },
    { name: 'norm', type: tEnum('half_sum', 'mean'), default: 'mean' },
  ],
  taps: 'required',
  override: 'histogram-weight',
  target: {
    image: 'style',
    build: (ctx, term) => new Map(term.taps.map(({ tap }) => [tap, ctx.feature(tap)])),
    finish(values, term: LossTerm, outputShape) {
      const out: Record<string, HostTensor> = {};
      for (const { tap } of term.taps) {
        const [, , h, w] = outputShape(tap);
        out[quantilesOf(tap)] = sortedQuantiles(values[tap]!, h! * w!);
      }
      return out;
    },
  },
  refresh: {
    every: (term) => attr<number>(term, 'every'),
    shapes: (term, outputShape) => new Map(term.taps.map(({ tap }) => [tap, outputShape(tap)])),
    compute(term, features, targets) {
      const out: Record<string, HostTensor> = {};
      for (const { tap } of term.taps) {
        const f = features.get(tap);
        const q = targets[quantilesOf(tap)];
        if (!f || !q) throw new Error(`histogram: no ${f ? 'style quantiles' : 'features'} for ${tap}`);
        out[tap] = matchHistogram(f, q);
      }
      return out;
    },
  },
  step: (ctx, term) => sumOverTaps(ctx, term, (tap) => contentLoss(ctx.b, ctx.feature(tap), ctx.target(tap), attr<ContentNorm>(term, 'norm'))),
};
