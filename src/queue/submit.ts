/**
 * Enqueue a planned job. Each task is one BullMQ job with bounded retries (exponential backoff);
 * failed tasks are kept with their error. A video's final task is a BullMQ flow parent of its
 * chunks, so BullMQ runs it once every chunk has completed. The job's id is its content hash:
 * submitting the same job again is refused and points at the first submission.
 */
import { FlowProducer, type JobsOptions } from 'bullmq';
import { UserError } from '../util/errors.ts';
import { QUEUE_NAME, jobKey, taskId } from './format.ts';
import { openQueue } from './connection.ts';
import { readRecord, writeRecord } from './records.ts';
import { bullConnection } from './redis/client.ts';
import type { JobPlan, Task } from './types.ts';

export class DuplicateJobError extends UserError {}

export interface SubmitOptions {
  /** Runs of a task before it is failed for good (default 3); a user error (missing input) fails at once. */
  readonly attempts?: number;
  /** First retry delay (default 2000 ms), doubled on each retry. */
  readonly backoffMs?: number;
}

function jobOptions(id: string, t: Task, o: SubmitOptions): JobsOptions {
  return { jobId: taskId(id, t.name), attempts: o.attempts ?? 3, backoff: { type: 'exponential', delay: o.backoffMs ?? 2000 }, removeOnComplete: false, removeOnFail: false };
}

export async function submitJob(url: string, plan: JobPlan, opts: SubmitOptions = {}): Promise<{ readonly id: string; readonly tasks: number }> {
  const h = await openQueue(url);
  try {
    const prior = await readRecord(h.redis, plan.id);
    if (prior)
      throw new DuplicateJobError(
        `this job was already submitted at ${new Date(prior.submittedAt).toISOString()} as ${plan.id} (same inputs, by content hash); ` +
          `see stc queue status ${plan.id}, or stc queue retry ${plan.id} to re-run its failed tasks`,
      );
    const all = plan.final ? [...plan.tasks, plan.final] : plan.tasks;
    await writeRecord(h.redis, {
      id: plan.id,
      kind: plan.kind,
      summary: plan.summary,
      root: plan.root,
      submittedAt: Date.now(),
      tasks: all.map((t) => t.name),
      units: Object.fromEntries(all.map((t) => [t.name, t.units])),
    });
    try {
      if (plan.final) {
        const conn = bullConnection(url);
        const flow = new FlowProducer({ connection: conn });
        try {
          await flow.add({
            name: plan.final.name,
            queueName: QUEUE_NAME,
            data: plan.final,
            opts: jobOptions(plan.id, plan.final, opts),
            children: plan.tasks.map((t) => ({ name: t.name, queueName: QUEUE_NAME, data: t, opts: jobOptions(plan.id, t, opts) })),
          });
        } finally {
          await flow.close();
          await conn.quit();
        }
      } else {
        await h.queue.addBulk(plan.tasks.map((t) => ({ name: t.name, data: t, opts: jobOptions(plan.id, t, opts) })));
      }
    } catch (e) {
      // no record without its tasks: the same job may then be submitted again
      await h.redis.del(jobKey(plan.id)).catch(() => undefined);
      throw e;
    }
    return { id: plan.id, tasks: all.length };
  } finally {
    await h.close();
  }
}
