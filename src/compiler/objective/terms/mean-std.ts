/**
 * `mean_std(weight: λ, eps: 1e-5) { tap: w_l, ... }`: per-channel mean and standard deviation
 * matching, the style loss of AdaIN (Huang & Belongie 2017, eq. 9):
 *   E_l = Σ_c (μ_c(F) − μ_c(S))² / C + Σ_c (σ_c(F) − σ_c(S))² / C,
 * μ and σ over the H·W positions of each channel, σ = √(var + eps) (biased variance). The squared,
 * channel-averaged form is the reference implementation's (MSE, naoto0804/pytorch-AdaIN), not the
 * paper's un-squared L2 norms: its gradient is defined where the statistics already match.
 * Targets: μ and σ of the style image's features (blended linearly over several style images).
 */
import { tFloat, tPosFloat } from '../../checker/values.ts';
import type { GraphBuilder } from '../../ir/builder.ts';
import type { TermKind } from '../term-kind.ts';
import { attr } from '../types.ts';
import { sumOfSquares } from '../terms.ts';
import { concreteNchw, perImage, sumOverTaps } from './common.ts';

/** Per-channel mean and σ = √(biased var + eps) of f [N, C, H, W], each [N, C, 1, 1]. */
export function meanStd(b: GraphBuilder, f: string, eps: number): { mean: string; std: string } {
  const mean = b.add('reduceMean', [f], { axes: [2, 3], keepDims: true }, {}, `${f}_mean`);
  const d = b.add('sub', [f, mean], {}, {}, `${f}_centred`);
  const v = b.add('reduceMean', [b.add('mul', [d, d], {}, {}, `${f}_dev2`)], { axes: [2, 3], keepDims: true }, {}, `${f}_var`);
  const std = b.add('sqrt', [b.add('shift', [v], { value: eps }, {}, `${f}_var_eps`)], {}, {}, `${f}_std`);
  return { mean, std };
}

export const meanStdTerm: TermKind = {
  kind: 'mean_std',
  summary: 'per-channel mean and standard deviation matching (AdaIN loss)',
  attributes: [
    { name: 'weight', type: tFloat, default: 1 },
    { name: 'eps', type: tPosFloat, default: 1e-5 },
  ],
  taps: 'required',
  override: 'mean-std-weight',
  target: {
    image: 'style',
    build(ctx, term) {
      const out = new Map<string, string>();
      for (const { tap } of term.taps) {
        const s = meanStd(ctx.b, ctx.feature(tap), attr<number>(term, 'eps'));
        out.set(`${tap}.mean`, s.mean);
        out.set(`${tap}.std`, s.std);
      }
      return out;
    },
  },
  step(ctx, term) {
    const { b } = ctx;
    const loss = sumOverTaps(ctx, term, (tap) => {
      const f = ctx.feature(tap);
      const [, c] = concreteNchw(b, f);
      const s = meanStd(b, f, attr<number>(term, 'eps'));
      const dm = sumOfSquares(b, b.add('sub', [s.mean, ctx.target(`${tap}.mean`)], {}, {}, `${ctx.stem}_${tap}_dmean`), `${ctx.stem}_${tap}_smean`);
      const ds = sumOfSquares(b, b.add('sub', [s.std, ctx.target(`${tap}.std`)], {}, {}, `${ctx.stem}_${tap}_dstd`), `${ctx.stem}_${tap}_sstd`);
      return b.add('scale', [b.add('add', [dm, ds], {}, {}, `${ctx.stem}_${tap}_ms`)], { value: 1 / c }, {}, `${ctx.stem}_${tap}_e`);
    });
    return perImage(b, loss, ctx.batch, ctx.stem);
  },
};
