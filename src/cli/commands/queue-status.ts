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

export interface StatusView {
  readonly json?: boolean;
  readonly watch?: boolean;
  /** Whether stdout and stderr are terminals. */
  readonly stdoutTTY: boolean;
  readonly stderrTTY: boolean;
}

/**
 * What one poll prints: `--json` one line; `--watch` on a terminal a progress bar redrawn in place
 * on stderr (`\r`, erase to end of line) and the full status once settled; otherwise the status,
 * led by a progress bar when stdout is a terminal.
 */
export function renderStatus(s: JobStatus, v: StatusView): { stdout: string; stderr: string } {
  if (v.json) return { stdout: `${JSON.stringify(s)}\n`, stderr: '' };
  if (v.stderrTTY && v.watch) {
    const bar = formatProgress({ label: s.id, current: s.done, total: s.total, elapsedMs: s.elapsedMs });
    // the bar carries its own ETA once a task is done; a second one from the throughput would disagree with it
    const redraw = `\r${bar} running ${s.running} failed ${s.failed}\x1b[K`;
    return { stdout: '', stderr: settled(s) ? `${redraw}\n${statusLines(s).join('\n')}\n` : redraw };
  }
  const bar = v.stdoutTTY ? `${formatProgress({ label: 'tasks', current: s.done, total: s.total, elapsedMs: s.elapsedMs })}\n` : '';
  return { stdout: `${bar}${statusLines(s).join('\n')}\n`, stderr: '' };
}

/** Prints the status; resolves to the exit code: 1 when a task failed. */
export async function statusAction(job: string, o: { redis?: string; json?: boolean; watch?: boolean }): Promise<number> {
  const url = redisUrl(o.redis);
  for (;;) {
    const s = await jobStatus(url, job);
    const out = renderStatus(s, { ...o, stdoutTTY: process.stdout.isTTY === true, stderrTTY: process.stderr.isTTY === true });
    if (out.stdout) process.stdout.write(out.stdout);
    if (out.stderr) process.stderr.write(out.stderr);
    if (!o.watch || settled(s)) return s.failed > 0 ? 1 : 0;
    await new Promise((r) => setTimeout(r, 2000));
  }
}
