/**
 * Queue throughput: the same folder job (tiny model, small images) run by 1, 2 and 4 worker
 * processes (`stc queue worker --threads 1`) against a local redis-server, with the baseline
 * measured in the same run: the same images stylised in one process without the queue
 * (`applyToFiles`, one thread).
 *
 *   npx tsx bench/queue.ts [--images 96] [--per-task 4] [--size 32] [--workers 1,2,4]
 *
 * Reported per worker count: tasks/s and images/s (submit to last task done, worker start-up
 * excluded), and the queue's overhead per task in ms: (workers × wall − Σ task run time) / tasks,
 * the time a worker spends on anything but running tasks (BullMQ moves, locks, polling, the tail
 * where some workers idle). Task run times are the workers' own ("done X in Y s").
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { applyToFiles } from '../src/runtime/apply/apply.ts';
import { loadImageModel } from '../src/runtime/apply/model.ts';
import { listImages } from '../src/runtime/data/scan.ts';
import { openStorage } from '../src/queue/storage.ts';
import { planApply } from '../src/queue/plan/apply.ts';
import { submitJob } from '../src/queue/submit.ts';
import { jobStatus } from '../src/queue/status.ts';
import { writeCoordImage } from '../test/runtime/data/fixtures.ts';
import { tinyNetModel } from '../test/runtime/apply/tiny-models.ts';
import { startRedis } from '../test/queue/helpers.ts';

const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : def;
};
const IMAGES = Number(arg('images', '96'));
const PER_TASK = Number(arg('per-task', '4'));
const SIZE = Number(arg('size', '32'));
const WORKERS = arg('workers', '1,2,4').split(',').map(Number);
const STC = fileURLToPath(new URL('../bin/stc.js', import.meta.url));

interface Workers {
  runMs: number[];
  stop(): Promise<void>;
}

async function startWorkers(n: number, url: string): Promise<Workers> {
  const runMs: number[] = [];
  const procs = Array.from({ length: n }, () => spawn(process.execPath, [STC, 'queue', 'worker', '--redis', url, '--threads', '1'], { stdio: ['ignore', 'ignore', 'pipe'] }));
  await Promise.all(
    procs.map(
      (p) =>
        new Promise<void>((ready) =>
          createInterface({ input: p.stderr! }).on('line', (l) => {
            if (l.startsWith('worker ready')) ready();
            const m = / in ([\d.]+) s$/.exec(l);
            if (l.startsWith('done ') && m) runMs.push(1000 * Number(m[1]));
          }),
        ),
    ),
  );
  return {
    runMs,
    async stop() {
      await Promise.all(procs.map((p) => new Promise((res) => (p.on('exit', res), p.kill('SIGTERM')))));
    },
  };
}

async function main(): Promise<void> {
  const redis = await startRedis();
  const root = await mkdtemp(join(tmpdir(), 'stc-bench-queue-'));
  try {
    await writeFile(join(root, 'm.onnx'), tinyNetModel(5));
    await mkdir(join(root, 'photos'));
    for (let i = 0; i < IMAGES; i++) await writeCoordImage(join(root, 'photos', `p${String(i).padStart(4, '0')}.png`), SIZE, SIZE, i % 256);
    const storage = openStorage(root);
    console.log(`queue bench: ${IMAGES} images of ${SIZE}x${SIZE}, ${PER_TASK} per task (${Math.ceil(IMAGES / PER_TASK)} tasks); ${cpus().length} cores, load average ${loadavg()[0]!.toFixed(1)}`);

    const model = await loadImageModel(join(root, 'm.onnx'), { threads: 1 });
    const files = (await listImages(join(root, 'photos'))).map((f, i) => ({ input: f, output: join(root, 'base', `${i}.png`) }));
    const b0 = performance.now();
    await applyToFiles(model.run, files, {});
    const baseS = (performance.now() - b0) / 1000;
    await model.dispose();
    console.log(`baseline (one process, no queue): ${(IMAGES / baseS).toFixed(1)} images/s, ${((baseS * 1000) / Math.ceil(IMAGES / PER_TASK)).toFixed(1)} ms per ${PER_TASK} images`);

    for (const n of WORKERS) {
      const w = await startWorkers(n, redis.url);
      const plan = await planApply(storage, { model: join(root, 'm.onnx'), input: join(root, 'photos'), output: join(root, `out-${n}`), perTask: PER_TASK, options: {} });
      const t0 = performance.now();
      await submitJob(redis.url, plan);
      for (;;) {
        const s = await jobStatus(redis.url, plan.id);
        if (s.done + s.failed === s.total) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const wallMs = performance.now() - t0;
      await w.stop();
      const tasks = plan.tasks.length;
      const overhead = (n * wallMs - w.runMs.reduce((a, b) => a + b, 0)) / tasks;
      console.log(
        `${n} worker(s): ${((1000 * tasks) / wallMs).toFixed(2)} tasks/s, ${((1000 * IMAGES) / wallMs).toFixed(1)} images/s, ` +
          `mean task run ${(w.runMs.reduce((a, b) => a + b, 0) / tasks).toFixed(0)} ms, queue overhead ${overhead.toFixed(0)} ms/task`,
      );
    }
  } finally {
    await redis.stop();
    await rm(root, { recursive: true, force: true });
  }
}

await main();
