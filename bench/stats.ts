/**
 * The benchmark's arithmetic, as small pure functions.
 *
 * Conventions: times in milliseconds; FLOPs count 2 per multiply-add (as passes/stats.ts and
 * torch.utils.flop_counter do); GFLOP/s = FLOPs / 1e9 / seconds; a ratio is stc's median time
 * over PyTorch's (below 1 means stc is faster).
 */

/** Median of a non-empty sample (mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median of an empty sample');
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Achieved GFLOP/s of `flop` floating-point operations done in `ms` milliseconds. */
export function gflops(flop: number, ms: number): number {
  if (!(ms > 0)) throw new Error(`gflops: time must be positive, got ${ms}`);
  return flop / 1e9 / (ms / 1000);
}

/** Time ratio stc / baseline; undefined when either is missing. */
export function ratio(ms: number | undefined, baselineMs: number | undefined): number | undefined {
  if (ms === undefined || baselineMs === undefined || !(baselineMs > 0)) return undefined;
  return ms / baselineMs;
}

/** Percentage of a measured peak (GFLOP/s). */
export function percentOfPeak(achieved: number, peak: number): number {
  if (!(peak > 0)) throw new Error(`percentOfPeak: peak must be positive, got ${peak}`);
  return (100 * achieved) / peak;
}

/** FLOPs of one 2-D convolution (no bias): 2 · N · O · HO · WO · (C/g) · KH · KW. */
export function convFlops(n: number, cin: number, cout: number, ho: number, wo: number, kh: number, kw: number, group = 1): number {
  return 2 * n * cout * ho * wo * (cin / group) * kh * kw;
}

/** Round to `digits` significant decimals after the point, for JSON output. */
export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** The options every interleaved inference timing script takes (parseArgs), with their defaults. */
export const TIMING_OPTIONS = {
  size: { type: 'string', default: '512' },
  repeats: { type: 'string', default: '7' },
  warmup: { type: 'string', default: '2' },
  threads: { type: 'string', default: '2' },
} as const;
