/** `retry` (re-run a job's failed tasks) and `cancel` (drop its tasks that have not started). */
import { taskId } from './format.ts';
import { openQueue } from './connection.ts';
import { requireRecord, writeRecord } from './records.ts';

export async function retryJob(url: string, id: string): Promise<{ readonly retried: readonly string[] }> {
  const h = await openQueue(url);
  try {
    const rec = await requireRecord(h.redis, id);
    const retried: string[] = [];
    for (const name of rec.tasks) {
      const job = await h.queue.getJob(taskId(id, name));
      if (job && (await job.getState()) === 'failed') {
        await job.retry('failed');
        retried.push(name);
      }
    }
    if (rec.cancelled && retried.length) await writeRecord(h.redis, { ...rec, cancelled: false });
    return { retried };
  } finally {
    await h.close();
  }
}

/**
 * Cancel: mark the job cancelled (a worker then refuses its tasks) and remove every task not yet
 * running. Running tasks finish; their outputs are complete files, never partial ones.
 */
export async function cancelJob(url: string, id: string): Promise<{ readonly removed: number; readonly running: number }> {
  const h = await openQueue(url);
  try {
    const rec = await requireRecord(h.redis, id);
    await writeRecord(h.redis, { ...rec, cancelled: true });
    let removed = 0;
    let running = 0;
    // the final task (a flow parent) last: its children go first
    for (const name of rec.tasks) {
      const job = await h.queue.getJob(taskId(id, name));
      if (!job) continue;
      const state = await job.getState();
      if (state === 'active') running++;
      else if (state !== 'completed' && state !== 'failed') {
        await job.remove({ removeChildren: true }).catch(() => undefined);
        removed++;
      }
    }
    return { removed, running };
  } finally {
    await h.close();
  }
}
