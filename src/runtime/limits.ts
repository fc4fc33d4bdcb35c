/**
 * The bounds every command checks before it allocates (issue 21, defect 4): image sizes in pixels, and the
 * working memory a compiled graph will need, estimated by the liveness analysis that `stc info` prints
 * (compiler/passes/memory.ts). Each refusal is a UserError that names the flag and the limit.
 */
import { totalmem } from 'node:os';
import type { Graph } from '../compiler/ir/types.ts';
import { memoryProfile } from '../compiler/passes/memory.ts';
import { UserError } from '../util/errors.ts';
import { DEFAULT_MAX_PIXELS } from './image.ts';

/** Pixels of any image read, resized or produced (100 megapixels: decompression bombs stop here). */
export const MAX_PIXELS = DEFAULT_MAX_PIXELS;

const mpx = (n: number): string => `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)} megapixels`;
const gib = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(bytes < 10 * 2 ** 30 ? 2 : 0)} GiB`;

/** Refuse a width × height over `max` pixels; `what` names the flag that asked for it (`--size 100000x100000`). */
export function checkPixels(width: number, height: number, what: string, max = MAX_PIXELS): void {
  if (!(width * height <= max)) throw new UserError(`${what} means ${width}x${height} pixels (${mpx(width * height)}), over the limit of ${mpx(max)}`);
}

/** Default memory budget: three quarters of this machine's RAM (the rest is the OS's, ORT's arena slack, V8's). */
export function defaultMaxMemory(): number {
  return Math.floor(0.75 * totalmem());
}

/**
 * Estimated working bytes of a concrete-shape graph: intermediates at the liveness peak plus the inputs,
 * parameters and constants it reads. ORT's planner can do a little better (in-place elementwise ops);
 * its arena and the caller's own copies of inputs and outputs add to it: an estimate, not a bound.
 */
export function estimateGraphBytes(g: Graph): number {
  const m = memoryProfile(g);
  return m.peakBytes + m.residentBytes;
}

/** Refuse work estimated at more than `limit` bytes; `what` names the flags that set its size, `basis` what was counted. */
export function checkMemory(bytes: number, limit: number, what: string, basis = 'activations at the liveness peak plus inputs and weights'): void {
  if (bytes > limit) throw new UserError(`${what} needs an estimated ${gib(bytes)} (${basis}), over the limit of ${gib(limit)} (--max-memory)`);
}
