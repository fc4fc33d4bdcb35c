/** `stc queue status` rendering: the progress bar on a terminal (redrawn in place under --watch), plain lines in a pipe. */
import { describe, expect, it } from 'vitest';
import { renderStatus } from '../../src/cli/commands/queue-status.ts';
import type { JobStatus } from '../../src/queue/status.ts';

const running: JobStatus = {
  id: '0123456789abcdef',
  kind: 'apply',
  summary: 'apply m.onnx photos -> out',
  submittedAt: 0,
  cancelled: false,
  total: 8,
  done: 2,
  running: 2,
  failed: 0,
  remaining: 4,
  removed: 0,
  unitsDone: 8,
  unitsTotal: 32,
  tasksPerSecond: 0.5,
  unitsPerSecond: 2,
  etaSeconds: 12,
  elapsedMs: 10_000,
  failures: [],
};
const finished: JobStatus = { ...running, done: 7, running: 0, remaining: 0, failed: 1, failures: [{ task: 'apply00003', error: 'input x vanished', attempts: 1 }] };
const pipe = { stdoutTTY: false, stderrTTY: false };
const tty = { stdoutTTY: true, stderrTTY: true };

describe('stc queue status on a terminal', () => {
  it('leads the status with a progress bar of the tasks done', () => {
    const { stdout, stderr } = renderStatus(running, tty);
    expect(stderr).toBe('');
    const lines = stdout.trimEnd().split('\n');
    // 2 of 8 done: a quarter of the 20-cell bar; ETA from the 10 s so far (5 s a task, 6 tasks left)
    expect(lines[0]).toBe('tasks [#####...............] 2/8  25% elapsed 10s ETA 30s');
    expect(lines.slice(1)).toEqual([
      'job 0123456789abcdef (apply): apply m.onnx photos -> out',
      'tasks: 2 done, 2 running, 0 failed, 4 remaining of 8',
      'throughput: 0.500 tasks/s (2.00 images/s); ETA 12s',
    ]);
  });

  it('prints no bar in a pipe, only the status lines', () => {
    expect(renderStatus(running, pipe).stdout).toBe(renderStatus(running, tty).stdout.split('\n').slice(1).join('\n'));
  });

  it('--watch redraws one line in place on stderr, with one ETA, and prints the full status once settled', () => {
    const poll = renderStatus(running, { ...tty, watch: true });
    expect(poll.stdout).toBe('');
    expect(poll.stderr).toMatch(/^\r0123456789abcdef \[#{5}\.{15}\] 2\/8 {2}25% elapsed 10s ETA 30s running 2 failed 0\x1b\[K$/);
    expect(poll.stderr.match(/ETA/g)).toHaveLength(1);
    expect(poll.stderr).not.toContain('\n');
    const last = renderStatus(finished, { ...tty, watch: true });
    const [bar, ...rest] = last.stderr.split('\n');
    expect(bar).toMatch(/^\r0123456789abcdef \[#{18}\.{2}\] 7\/8 {2}87% .* running 0 failed 1\x1b\[K$/);
    expect(rest).toContain('failed apply00003 after 1 attempt(s): input x vanished');
    expect(rest).toContain('tasks: 7 done, 0 running, 1 failed, 0 remaining of 8');
  });

  it('--watch in a pipe prints the plain status each poll, and --json one JSON line whatever the terminal', () => {
    expect(renderStatus(running, { ...pipe, watch: true })).toEqual(renderStatus(running, pipe));
    const j = renderStatus(running, { ...tty, json: true, watch: true });
    expect(j.stderr).toBe('');
    expect(JSON.parse(j.stdout)).toEqual(running);
  });
});
