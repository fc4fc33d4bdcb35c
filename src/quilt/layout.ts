/**
 * Raster-order block layout. Blocks of size B step by B − overlap; the last
 * block in each direction is clipped at the output edge. Every block adds at
 * least one new row and column beyond its overlap.
 */

/** Top-left coordinates of the blocks covering [0, length). */
export function blockOrigins(length: number, block: number, overlap: number): number[] {
  if (!(block >= 1 && overlap >= 0 && overlap < block)) throw new Error('blockOrigins: need 0 ≤ overlap < block');
  const step = block - overlap;
  const origins = [0];
  while (origins[origins.length - 1] + block < length) origins.push(origins[origins.length - 1] + step);
  return origins;
}

/** The default overlap: one sixth of the block, at least one pixel. */
export function defaultOverlap(block: number): number {
  return Math.max(1, Math.round(block / 6));
}
