/**
 * mulberry32 (Tommy Ettinger's 32-bit generator, period 2^32): the small seeded
 * generator shared by seeded weight initialisation, quilting and the tests.
 * Not cryptographic. Its output is part of seeded results (initial weights,
 * quilt block choices), so any change to it changes those results.
 *
 * The training data pipeline uses xoshiro128** instead (src/runtime/data/rng.ts),
 * because its four-word state can be saved in a checkpoint and restored exactly.
 */

/** Returns a generator of uniform floats in [0, 1) (32 bits of resolution) from a 32-bit seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
