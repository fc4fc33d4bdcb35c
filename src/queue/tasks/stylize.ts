/** Runs a `stylize` task: Gatys optimisation of one content × style pair (runtime/gatys/stylize.ts). */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { stylize } from '../../runtime/gatys/stylize.ts';
import { UserError } from '../../util/errors.ts';
import type { StylizeTask } from '../types.ts';
import type { TaskContext } from './context.ts';

export async function runStylizeTask(task: StylizeTask, ctx: TaskContext): Promise<{ outputs: string[] }> {
  const storage = ctx.storage(task.root);
  const spec = await ctx.checked(storage, task.spec);
  const weights = task.weights ? await ctx.checked(storage, task.weights) : undefined;
  const content = await ctx.checked(storage, task.content);
  const style = await ctx.checked(storage, task.style);
  const output = storage.local(task.output);
  await mkdir(dirname(output), { recursive: true });
  const { threads: _t, ...o } = task.options;
  const threads = task.options.threads ?? ctx.threads;
  const result = await stylize({
    spec,
    content,
    styles: [style],
    output,
    ...o,
    ...(weights !== undefined && { weights }),
    ...(threads !== undefined && { threads }),
    ...(ctx.device && { device: ctx.device }),
    onProgress: (e) => ctx.progress(e.current),
  });
  if (result.status === 'diverged') throw new UserError(`optimisation stopped: ${result.message}`);
  return { outputs: [task.output] };
}
