/**
 * Weight files holding a NaN or an infinity (a diverged training run, a corrupt download) are refused when
 * they are bound, so `run`, `compile`, `verify`, `stylize` and `train` never compute an image or a model from
 * them (issue 21; `export` and `apply` refuse non-finite checkpoints and models the same way).
 */
import type { HostTensor } from '../compiler/ir/types.ts';
import { WeightError } from './errors.ts';

/** The index of the first NaN or infinite value of `t`, or -1 when every value is finite. */
export function firstNonFiniteIndex(t: HostTensor): number {
  const d = t.data;
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i]!)) return i;
  return -1;
}

/** Throw a WeightError naming `what` (the file, tensor and parameter) when `t` holds a non-finite value. */
export function refuseNonFinite(t: HostTensor, what: string): void {
  const i = firstNonFiniteIndex(t);
  if (i >= 0) throw new WeightError('non_finite', `${what} holds a non-finite value (${t.data[i]} at flat index ${i}): refusing to compute with it`);
}
