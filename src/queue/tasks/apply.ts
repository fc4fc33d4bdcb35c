/** Runs an `apply` task: a few images through an exported model, batched as `stc apply` batches a folder on the worker's device. */
import { applyToFiles, defaultBatch } from '../../runtime/apply/apply.ts';
import { UserError } from '../../util/errors.ts';
import type { ApplyTask } from '../types.ts';
import type { TaskContext } from './context.ts';

export async function runApplyTask(task: ApplyTask, ctx: TaskContext): Promise<{ outputs: string[] }> {
  const storage = ctx.storage(task.root);
  const model = await ctx.models.get(storage, task.model);
  const files = [];
  for (const item of task.items) files.push({ input: await ctx.checked(storage, item.input), output: storage.local(item.output) });
  const { threads: _threads, ...opts } = task.options;
  // A task owns its outputs: an unreadable input fails the task (and is reported) instead of being skipped.
  const onSkip = (e: { path: string; reason: string }): never => {
    throw new UserError(`cannot read ${e.path}: ${e.reason}`);
  };
  await applyToFiles(model.run, files, { ...opts, batch: opts.batch ?? defaultBatch(ctx.device), onItem: (e) => ctx.progress(e.done), onSkip });
  return { outputs: task.items.map((i) => i.output) };
}
