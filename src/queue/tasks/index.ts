/** The task runners, one per task kind: adding a kind means adding its runner here. */
import type { Task, TaskKind } from '../types.ts';
import type { TaskContext } from './context.ts';
import { runApplyTask } from './apply.ts';
import { runStylizeTask } from './stylize.ts';
import { runTrainTask } from './train.ts';
import { runVideoChunkTask, runVideoConcatTask } from './video.ts';

export interface TaskResult {
  /** Files written, relative to the storage root. */
  readonly outputs: readonly string[];
}

type Runner<K extends TaskKind> = (task: Extract<Task, { kind: K }>, ctx: TaskContext) => Promise<TaskResult>;

export const TASK_RUNNERS: { readonly [K in TaskKind]: Runner<K> } = {
  apply: runApplyTask,
  'video-chunk': runVideoChunkTask,
  'video-concat': runVideoConcatTask,
  stylize: runStylizeTask,
  train: runTrainTask,
};

export function runTask(task: Task, ctx: TaskContext): Promise<TaskResult> {
  const run = TASK_RUNNERS[task.kind] as Runner<TaskKind> | undefined;
  if (!run) throw new Error(`no runner for task kind '${task.kind}'`);
  return run(task as never, ctx);
}
