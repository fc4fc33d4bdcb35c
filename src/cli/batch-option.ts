/**
 * `--batch` of the commands that stylise folders (apply, transfer): the user's number, else on a GPU its own default;
 * on the CPU nothing, so that the runtime's DEFAULT_BATCH applies (src/runtime/apply/apply.ts says why they differ).
 */
import { DEFAULT_BATCH, GPU_DEFAULT_BATCH } from '../runtime/apply/apply.ts';
import type { Device } from '../backends/types.ts';
import { intFlag } from './flags.ts';

export const BATCH_HELP = `images of equal size per model run in folder mode (default ${DEFAULT_BATCH}; ${GPU_DEFAULT_BATCH} with --device gpu)`;

export function batchOption(text: string | undefined, device: Device | undefined): { batch?: number } {
  if (text !== undefined) return { batch: intFlag('batch', text, 1)! };
  return device === 'gpu' ? { batch: GPU_DEFAULT_BATCH } : {};
}
