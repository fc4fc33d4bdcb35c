/** `stc queue status JOB`: counts, throughput and ETA; a progress bar on a terminal, `--json` for scripts. */
import { jobStatus, type JobStatus } from '../../queue/status.ts';
import { formatDuration, formatProgress } from '../../runtime/progress.ts';
import { redisUrl } from './queue-options.ts';

export function statusLines(s: JobStatus): string[] {
  const lines = [
    `job ${s.id} (${s.kind}${s.cancelled ? ', cancelled' : ''}): ${s.summary}`,
    `tasks: ${s.done} done, ${s.running} running, ${s.failed} failed, ${s.remaining} remaining${s.removed ? `, ${s.removed} dropped` : ''} of ${s.total}`,
  ];
  if (s.tasksPerSecond !== undefined)
    lines.push(
      `throughput: ${s.tasksPerSecond.toFixed(3)} tasks/s (${s.unitsPerSecond!.toFixed(2)} ${s.kind === 'train' ? 'steps' : s.kind === 'stylize' ? 'iterations' : s.kind === 'video' ? 'frames' : 'images'}/s)` +
        (s.running + s.remaining > 0 ? `; ETA ${formatDuration(s.etaSeconds!)}` : ''),
    );
  for (const f of s.failures) lines.push(`failed ${f.task} after ${f.attempts} attempt(s): ${f.error}`);
  return lines;
}

const settled = (s: JobStatus) => s.running + s.remaining === 0;

/** Prints the status; resolves to the exit code: 1 when a task failed. */
export async function statusAction(job: string, o: { redis?: string; json?: boolean; watch?: boolean }): Promise<number> {
  const url = redisUrl(o.redis);
  for (;;) {
    const s = await jobStatus(url, job);
    if (o.json) process.stdout.write(`${JSON.stringify(s)}\n`);
    else if (process.stderr.isTTY && o.watch) {
      const bar = formatProgress({ label: job, current: s.done, total: s.total, elapsedMs: s.elapsedMs });
      process.stderr.write(`\r${bar} running ${s.running} failed ${s.failed}${s.etaSeconds !== undefined && !settled(s) ? ` ETA ${formatDuration(s.etaSeconds)}` : ''}\x1b[K`);
    } else {
      if (process.stdout.isTTY) process.stdout.write(`${formatProgress({ label: 'tasks', current: s.done, total: s.total, elapsedMs: s.elapsedMs })}\n`);
      process.stdout.write(`${statusLines(s).join('\n')}\n`);
    }
    if (!o.watch || settled(s)) {
      if (process.stderr.isTTY && o.watch && !o.json) process.stderr.write(`\n${statusLines(s).join('\n')}\n`);
      return s.failed > 0 ? 1 : 0;
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
}
