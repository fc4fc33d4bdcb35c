/** Helpers shared by the term modules. */
import type { GraphBuilder } from '../../ir/builder.ts';
import type { StepContext } from '../term-kind.ts';
import type { LossTerm } from '../types.ts';

/** Σ_l w_l E_l over the term's taps, each per-tap loss scaled by its tap weight. */
export function sumOverTaps(ctx: StepContext, term: LossTerm, perTap: (tap: string) => string): string {
  const { b } = ctx;
  const parts = term.taps.map(({ tap, weight }) => {
    const e = perTap(tap);
    return weight === 1 ? e : b.add('scale', [e], { value: weight }, {}, `${ctx.stem}_${tap}`);
  });
  if (parts.length === 0) throw new Error(`term ${term.kind} has no taps`);
  return parts.reduce((acc, p) => b.add('add', [acc, p], {}, {}, `${ctx.stem}_sum`));
}

/** A loss summed over a batch of N images, divided by N: the per-image mean (N = 1: unchanged). */
export function perImage(b: GraphBuilder, v: string, batch: number, stem: string): string {
  return batch === 1 ? v : b.add('scale', [v], { value: 1 / batch }, {}, `${stem}_per_image`);
}

/** The concrete [N, C, H, W] of a specialised feature map. */
export function concreteNchw(b: GraphBuilder, v: string): [number, number, number, number] {
  const s = b.shape(v);
  if (s.length !== 4 || s.some((d) => typeof d !== 'number')) throw new Error(`${v}: expected a concrete NCHW shape, got [${s.join(', ')}]`);
  return s as [number, number, number, number];
}
