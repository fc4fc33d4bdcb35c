/** `--batch` of the commands that stylise folders (apply, transfer): the user's number, else the device's default. */
import { DEFAULT_BATCH, GPU_DEFAULT_BATCH, defaultBatch } from '../runtime/apply/apply.ts';
import type { Device } from '../backends/types.ts';
import { intFlag } from './flags.ts';

export const BATCH_HELP = `images of equal size per model run in folder mode (default ${DEFAULT_BATCH}; ${GPU_DEFAULT_BATCH} with --device gpu)`;

export function batchOption(text: string | undefined, device: Device | undefined): { batch: number } {
  return { batch: text === undefined ? defaultBatch(device) : intFlag('batch', text, 1)! };
}
