/** Runs a `stylize` task: Gatys optimisation of one content × style pair (runtime/gatys/stylize.ts). */
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
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
  // stylize() writes the image reached even when stopped: a task handed back must leave no output,
  // so it writes beside the output (same folder: the rename is atomic) and renames only when finished
  const partial = join(dirname(output), `.tmp-${process.pid}-${basename(output)}`);
  const { threads: _t, ...o } = task.options;
  const threads = task.options.threads ?? ctx.threads;
  try {
    const result = await stylize({
      spec,
      content,
      styles: [style],
      output: partial,
      ...o,
      ...(weights !== undefined && { weights }),
      ...(threads !== undefined && { threads }),
      ...(ctx.device && { device: ctx.device }),
      ...(ctx.signal && { signal: ctx.signal }),
      onProgress: (e) => ctx.progress(e.current),
    });
    if (result.status === 'diverged') throw new UserError(`optimisation stopped: ${result.message}`);
    if (ctx.signal?.aborted) throw new Error(`task ${task.name} handed back to the queue before it finished`);
    await rename(partial, output);
  } finally {
    await rm(partial, { force: true });
  }
  return { outputs: [task.output] };
}
