/**
 * Seeded randomness for quilting, so that the same seed always gives the same
 * block choices: generators are mulberry32 (src/util/prng.ts), one per pass,
 * seeded by `deriveSeed`.
 */

/** A generator of uniform floats in [0, 1). */
export type Rng = () => number;

/** Mixes a seed with extra integers (e.g. a pass index) into a new 32-bit seed. */
export function deriveSeed(seed: number, ...parts: readonly number[]): number {
  let h = (seed >>> 0) ^ 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** A uniform integer in [0, n). */
export function randomInt(rng: Rng, n: number): number {
  return Math.min(n - 1, Math.floor(rng() * n));
}
