/** Runs an `apply` task: a few images through an exported model, batched as `stc apply` batches a folder. */
import { applyToFiles } from '../../runtime/apply/apply.ts';
import type { ApplyTask } from '../types.ts';
import type { TaskContext } from './context.ts';

export async function runApplyTask(task: ApplyTask, ctx: TaskContext): Promise<{ outputs: string[] }> {
  const storage = ctx.storage(task.root);
  const model = await ctx.models.get(storage, task.model);
  const files = [];
  for (const item of task.items) files.push({ input: await ctx.checked(storage, item.input), output: storage.local(item.output) });
  const { threads: _threads, ...opts } = task.options;
  await applyToFiles(model.run, files, { ...opts, onItem: (e) => ctx.progress(e.done) });
  return { outputs: task.items.map((i) => i.output) };
}
