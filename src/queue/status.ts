/**
 * A job's progress, read from BullMQ's task states: done, running, failed, remaining;
 * throughput (tasks and units per second since the first task started) and the ETA it implies.
 */
import { taskId } from './format.ts';
import { openQueue } from './connection.ts';
import { requireRecord } from './records.ts';
import type { JobKind } from './types.ts';

export interface TaskFailure {
  readonly task: string;
  readonly error: string;
  readonly attempts: number;
}

export interface JobStatus {
  readonly id: string;
  readonly kind: JobKind;
  readonly summary: string;
  readonly submittedAt: number;
  readonly cancelled: boolean;
  readonly total: number;
  readonly done: number;
  readonly running: number;
  readonly failed: number;
  /** Waiting, delayed (a retry's backoff) or waiting for other tasks (a video's final task). */
  readonly remaining: number;
  /** Removed by a cancel before they ran. */
  readonly removed: number;
  readonly unitsDone: number;
  readonly unitsTotal: number;
  /** Completed tasks per second since the first task started; undefined before one completes. */
  readonly tasksPerSecond?: number;
  readonly unitsPerSecond?: number;
  readonly etaSeconds?: number;
  readonly elapsedMs: number;
  readonly failures: readonly TaskFailure[];
}

/** Throughput and ETA from the completed tasks' start and finish times (ms since the epoch). */
export function rates(
  spans: readonly { readonly startedAt: number; readonly finishedAt: number; readonly units: number }[],
  remainingTasks: number,
): { tasksPerSecond?: number; unitsPerSecond?: number; etaSeconds?: number } {
  if (spans.length === 0) return {};
  const first = Math.min(...spans.map((s) => s.startedAt));
  const last = Math.max(...spans.map((s) => s.finishedAt));
  const seconds = Math.max(1e-3, (last - first) / 1000);
  const tasksPerSecond = spans.length / seconds;
  const unitsPerSecond = spans.reduce((a, s) => a + s.units, 0) / seconds;
  return { tasksPerSecond, unitsPerSecond, etaSeconds: remainingTasks / tasksPerSecond };
}

export async function jobStatus(url: string, id: string): Promise<JobStatus> {
  const h = await openQueue(url);
  try {
    const rec = await requireRecord(h.redis, id);
    const counts = { done: 0, running: 0, failed: 0, remaining: 0, removed: 0 };
    let unitsDone = 0;
    const spans: { startedAt: number; finishedAt: number; units: number }[] = [];
    const failures: TaskFailure[] = [];
    // States first: a job read after its state is its data at that state or later (a task that failed between
    // the two reads would otherwise show as failed without its reason).
    const states = await Promise.all(rec.tasks.map((name) => h.queue.getJobState(taskId(id, name))));
    const jobs = await Promise.all(rec.tasks.map((name) => h.queue.getJob(taskId(id, name))));
    rec.tasks.forEach((name, i) => {
      const job = jobs[i];
      const state = states[i];
      const units = rec.units[name] ?? 0;
      if (!job || state === 'unknown') counts.removed++;
      else if (state === 'completed') {
        counts.done++;
        unitsDone += units;
        if (job.processedOn && job.finishedOn) spans.push({ startedAt: job.processedOn, finishedAt: job.finishedOn, units });
      } else if (state === 'active') counts.running++;
      else if (state === 'failed') {
        counts.failed++;
        failures.push({ task: name, error: job.failedReason ?? 'unknown error', attempts: job.attemptsMade });
      } else counts.remaining++;
    });
    const unitsTotal = Object.values(rec.units).reduce((a, b) => a + b, 0);
    return {
      id,
      kind: rec.kind,
      summary: rec.summary,
      submittedAt: rec.submittedAt,
      cancelled: rec.cancelled ?? false,
      total: rec.tasks.length,
      ...counts,
      unitsDone,
      unitsTotal,
      ...rates(spans, counts.running + counts.remaining),
      elapsedMs: Date.now() - rec.submittedAt,
      failures,
    };
  } finally {
    await h.close();
  }
}
