/** `--max-memory <GiB>`: the working-memory budget checked before a graph is compiled (runtime/limits.ts). */
import { defaultMaxMemory } from '../runtime/limits.ts';
import { UserError } from '../util/errors.ts';

export const MAX_MEMORY_FLAGS = '--max-memory <GiB>';
export const MAX_MEMORY_HELP = 'refuse work whose estimated memory exceeds this many GiB (default: 3/4 of RAM)';

export function parseMaxMemory(v: string | undefined): number {
  if (v === undefined) return defaultMaxMemory();
  const g = Number(v);
  if (!(Number.isFinite(g) && g > 0)) throw new UserError(`--max-memory must be a positive number of GiB, got '${v}'`);
  return g * 2 ** 30;
}
