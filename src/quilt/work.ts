/**
 * A bound on quilting's time, checked before any work (issue 21: a 1×1 target with `--size 32` scaled the
 * texture 32× and quilted for 17.6 s; the pixel caps bound memory, not time).
 *
 * Every block of every pass is one candidate search over the whole texture (ssd.ts): ⌈planes / 2⌉ forward
 * and one inverse 2-D FFT on the texture's power-of-two grid N = fftHeight · fftWidth, O(N log₂ N) each,
 * plus a lookup per candidate. The work unit is one N log₂ N term per block:
 *
 *   work = Σ_passes blocks(pass) · N · log₂ N
 *
 * Measured on the build machine: 1–2·10⁸ units per CPU second (25 blocks on a 1024² grid, 5.2·10⁸ units,
 * took 2.5 s of CPU time; docs/quilting.md's real run, 868 blocks on a 256² grid in three transfer passes,
 * 9.1·10⁸ units, 8.5 s), so the default limit, 2·10¹⁰, is 1.5 to 3 minutes of CPU time.
 */
import { nextPowerOfTwo } from './fft.ts';
import { blockOrigins } from './layout.ts';
import { UserError } from '../util/errors.ts';

/** The default bound on `estimateQuiltWork` (units of N log₂ N, see above). */
export const QUILT_MAX_WORK = 2e10;

export interface PassLayout {
  readonly block: number;
  readonly overlap: number;
}

export interface Size {
  readonly width: number;
  readonly height: number;
}

/** Blocks one pass places on an output of `out`'s size (raster layout, layout.ts). */
export function blocksPerPass(out: Size, pass: PassLayout): number {
  return blockOrigins(out.width, pass.block, pass.overlap).length * blockOrigins(out.height, pass.block, pass.overlap).length;
}

/** Estimated work of quilting `out` from `texture` over `passes` (see the module comment for the unit). */
export function estimateQuiltWork(texture: Size, out: Size, passes: readonly PassLayout[]): number {
  const n = nextPowerOfTwo(texture.height) * nextPowerOfTwo(texture.width);
  const perBlock = n * Math.max(1, Math.log2(n));
  return passes.reduce((sum, p) => sum + blocksPerPass(out, p) * perBlock, 0);
}

/** Refuse, before any work, a quilting job whose estimated work is over `limit`. */
export function checkQuiltWork(texture: Size, out: Size, passes: readonly PassLayout[], limit = QUILT_MAX_WORK): void {
  const work = estimateQuiltWork(texture, out, passes);
  if (work <= limit) return;
  const blocks = passes.reduce((sum, p) => sum + blocksPerPass(out, p), 0);
  const g = (x: number) => x.toExponential(2);
  throw new UserError(
    `quilting ${out.width}x${out.height} px in ${blocks} blocks, each searching a ${texture.width}x${texture.height} texture, ` +
      `is an estimated ${g(work)} units of work, over the limit of ${g(limit)}${limit === QUILT_MAX_WORK ? ' (1.5 to 3 minutes of CPU time)' : ''}: ` +
      'use a smaller --size or --texture-size, or a larger --block',
  );
}
