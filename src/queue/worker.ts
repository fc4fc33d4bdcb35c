/**
 * A queue worker: takes tasks from BullMQ and runs them with the library (runtime apply, Gatys,
 * training). BullMQ supplies the distributed parts: a lock per running task renewed as a heartbeat
 * (a killed worker's task goes back to the queue when its lock expires: stalled-job recovery),
 * retries with backoff, failed tasks kept with their error.
 *
 * A task is refused, and failed at once without retries, when it comes from a newer task format,
 * belongs to a cancelled job, or fails on a user error (an input that vanished or changed): running
 * it again would fail the same way. Other errors are retried up to the task's attempts.
 */
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Device } from '../backends/types.ts';
import { UserError } from '../util/errors.ts';
import { QUEUE_NAME, TASK_FORMAT } from './format.ts';
import { RedisUnreachableError, probeRedis, waitForRedis } from './connection.ts';
import { readRecord } from './records.ts';
import { bullConnection } from './redis/client.ts';
import { ModelCache, makeContext } from './tasks/context.ts';
import { runTask, type TaskResult } from './tasks/index.ts';
import type { Task } from './types.ts';

export type WorkerEvent =
  | { readonly type: 'unreachable'; readonly attempt: number; readonly delayMs: number; readonly message: string }
  | { readonly type: 'ready' }
  | { readonly type: 'start'; readonly task: string; readonly kind: string }
  | { readonly type: 'done'; readonly task: string; readonly ms: number }
  | { readonly type: 'failed'; readonly task: string; readonly error: string; readonly willRetry: boolean }
  | { readonly type: 'refused'; readonly task: string; readonly reason: string }
  | { readonly type: 'error'; readonly message: string };

export interface WorkerOptions {
  readonly redis: string;
  /** Tasks run at once in this process (default 1). */
  readonly concurrency?: number;
  readonly device?: Device;
  readonly threads?: number;
  /**
   * A running task's lock, renewed every half of it: a task whose worker died goes back to the
   * queue within about lockMs + lockMs / 2 (default 30 s, BullMQ's).
   */
  readonly lockMs?: number;
  readonly onEvent?: (e: WorkerEvent) => void;
  /** Stops the wait for an unreachable Redis. */
  readonly signal?: AbortSignal;
  /** Called once a task is taken (locked by this worker) and before it runs; tests use it to hold a worker mid-task. */
  readonly beforeTask?: (taskId: string) => Promise<void>;
}

export interface WorkerHandle {
  /** Finish the running tasks, then stop. With `release`, stop now: running tasks go back to the queue. */
  close(release?: boolean): Promise<void>;
}

/** The task format this worker reads: a newer one is refused with the reason. */
export function formatRefusal(task: { readonly format?: unknown }): string | undefined {
  const f = task.format;
  if (typeof f !== 'number') return 'the task has no format version: it was not written by stc queue submit';
  if (f > TASK_FORMAT) return `task format ${f} is newer than this worker's (${TASK_FORMAT}): it was submitted by a newer stc; upgrade stc on this machine`;
  return undefined;
}

export async function startWorker(opts: WorkerOptions): Promise<WorkerHandle> {
  const emit = opts.onEvent ?? (() => undefined);
  try {
    await probeRedis(opts.redis);
  } catch (e) {
    if (!(e instanceof RedisUnreachableError)) throw e;
    await waitForRedis(opts.redis, {
      onRetry: (r) => emit({ type: 'unreachable', attempt: r.attempt, delayMs: r.delayMs, message: r.error.message }),
      ...(opts.signal && { signal: opts.signal }),
    });
  }
  const models = new ModelCache(opts.device, opts.threads);
  // Aborted by close(true): a running task stops at its next check and writes nothing, since its
  // lock lapses and another worker runs it again from the start.
  const released = new AbortController();
  const records = bullConnection(opts.redis);
  await records.connect();
  const processor = async (job: Job<Task, TaskResult>): Promise<TaskResult> => {
    const task = job.data;
    const refusal = formatRefusal(task) ?? ((await readRecord(records, task.job))?.cancelled ? `job ${task.job} was cancelled` : undefined);
    if (refusal) {
      emit({ type: 'refused', task: job.id ?? job.name, reason: refusal });
      throw new UnrecoverableError(refusal);
    }
    emit({ type: 'start', task: job.id ?? job.name, kind: task.kind });
    await opts.beforeTask?.(job.id ?? job.name);
    const t0 = performance.now();
    const ctx = makeContext(opts, (units) => void job.updateProgress(units).catch(() => undefined), models, released.signal);
    try {
      const r = await runTask(task, ctx);
      emit({ type: 'done', task: job.id ?? job.name, ms: performance.now() - t0 });
      return r;
    } catch (e) {
      if (released.signal.aborted) throw e;
      const msg = (e as Error).message;
      const unrecoverable = e instanceof UserError;
      emit({ type: 'failed', task: job.id ?? job.name, error: msg, willRetry: !unrecoverable && job.attemptsMade + 1 < (job.opts.attempts ?? 1) });
      throw unrecoverable ? new UnrecoverableError(msg) : e;
    }
  };
  const lockDuration = opts.lockMs ?? 30_000;
  const conn = bullConnection(opts.redis);
  const worker = new Worker<Task, TaskResult>(QUEUE_NAME, processor, {
    connection: conn,
    concurrency: opts.concurrency ?? 1,
    lockDuration,
    stalledInterval: Math.max(500, Math.round(lockDuration / 2)),
    maxStalledCount: 2,
    autorun: true,
  });
  worker.on('error', (e) => emit({ type: 'error', message: e.message }));
  await worker.waitUntilReady();
  emit({ type: 'ready' });
  return {
    async close(release = false) {
      // closed before the abort, so the stopped task is not recorded as failed: its lock lapses instead
      const closing = worker.close(release);
      if (release) released.abort();
      await closing;
      await models.dispose();
      await conn.quit();
      await records.quit();
    },
  };
}
