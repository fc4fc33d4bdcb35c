/**
 * The task runners, one per task kind: adding a kind means adding its runner here. Each is loaded
 * on first use, so a worker that only stylises images never loads the Gatys and training code.
 */
import type { Task, TaskKind } from '../types.ts';
import type { TaskContext } from './context.ts';

export interface TaskResult {
  /** Files written, relative to the storage root. */
  readonly outputs: readonly string[];
}

type Runner<K extends TaskKind> = (task: Extract<Task, { kind: K }>, ctx: TaskContext) => Promise<TaskResult>;

export const TASK_RUNNERS: { readonly [K in TaskKind]: () => Promise<Runner<K>> } = {
  apply: async () => (await import('./apply.ts')).runApplyTask,
  'video-chunk': async () => (await import('./video.ts')).runVideoChunkTask,
  'video-concat': async () => (await import('./video.ts')).runVideoConcatTask,
  stylize: async () => (await import('./stylize.ts')).runStylizeTask,
  train: async () => (await import('./train.ts')).runTrainTask,
};

export async function runTask(task: Task, ctx: TaskContext): Promise<TaskResult> {
  const load = TASK_RUNNERS[task.kind] as (() => Promise<Runner<TaskKind>>) | undefined;
  if (!load) throw new Error(`no runner for task kind '${task.kind}'`);
  return (await load())(task as never, ctx);
}
