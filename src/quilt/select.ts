/**
 * Block selection (Efros & Freeman 2001, §2.1): among all candidates whose
 * error is within a tolerance of the best, E ≤ E_min · (1 + tolerance) + noise,
 * pick one uniformly at random. `noise` treats floating-point ties as ties.
 */
import { randomInt, type Rng } from './prng.ts';

export function selectWithinTolerance(errors: Float64Array, tolerance: number, noise: number, rng: Rng): number {
  if (errors.length === 0) throw new Error('selectWithinTolerance: no candidates');
  let min = Infinity;
  for (let i = 0; i < errors.length; i++) if (errors[i] < min) min = errors[i];
  const threshold = min * (1 + tolerance) + noise;
  let count = 0;
  for (let i = 0; i < errors.length; i++) if (errors[i] <= threshold) count++;
  let pick = randomInt(rng, count);
  for (let i = 0; i < errors.length; i++) {
    if (errors[i] <= threshold && pick-- === 0) return i;
  }
  throw new Error('selectWithinTolerance: unreachable');
}
