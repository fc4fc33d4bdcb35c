/**
 * The memory check of commands that run a network at a user-chosen size (`verify`, `run`): the forward
 * graph specialised at that size, estimated by liveness (runtime/limits.ts), before anything is compiled.
 */
import type { Graph } from '../compiler/ir/types.ts';
import { ShapeError } from '../compiler/ir/ops.ts';
import { specialize } from '../compiler/passes/specialize.ts';
import { checkMemory, estimateGraphBytes } from '../runtime/limits.ts';
import { UserError } from '../util/errors.ts';
import { sizeEnv } from './load-spec.ts';

/**
 * Refuse when the forward pass at `size` (batch `batch`) is estimated over `limit` bytes; `widen` scales the
 * estimate for backends that hold values wider than float32 (the float64 reference interpreter: 2).
 */
export function checkForwardMemory(g: Graph, size: { height: number; width: number }, batch: number, limit: number, what: string, widen = 1): void {
  const env = { ...sizeEnv(g, size) };
  if ('N' in env) env.N = batch;
  let concrete: Graph;
  try {
    concrete = specialize(g, env);
  } catch (e) {
    if (e instanceof ShapeError) return; // the command reports the shape error itself, with more context
    throw e;
  }
  const bytes = estimateGraphBytes(concrete) * widen;
  if (!Number.isFinite(bytes)) throw new UserError(`${what}: the memory estimate overflows`);
  checkMemory(bytes, limit, what);
}
