/**
 * A queue worker that takes one task and holds it (locked, mid-task) until it is killed, so a test
 * can SIGKILL a worker in the middle of a task. Usage: node held-worker.ts REDIS_URL LOCK_MS
 */
import { startWorker } from '../../src/queue/worker.ts';

const [url, lockMs] = process.argv.slice(2);
await startWorker({
  redis: url!,
  threads: 1,
  lockMs: Number(lockMs),
  beforeTask: async (task) => {
    process.stderr.write(`holding ${task}\n`);
    await new Promise(() => undefined);
  },
});
process.stderr.write('held worker ready\n');
