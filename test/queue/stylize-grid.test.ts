/**
 * Gatys grids through the queue, on a tiny random-weights loss network (no ../shared needed): a 1×2
 * grid run by a worker equals the same `stylize` runs by hand with the same seed; a worker sent
 * SIGTERM twice hands its task back, another worker completes it and one output is written; an
 * input changed since submission is refused with the reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStorage } from '../../src/queue/storage.ts';
import { planStylize } from '../../src/queue/plan/stylize.ts';
import { submitJob } from '../../src/queue/submit.ts';
import { jobStatus, type JobStatus } from '../../src/queue/status.ts';
import { startWorker, type WorkerEvent, type WorkerHandle } from '../../src/queue/worker.ts';
import { stylize } from '../../src/runtime/gatys/stylize.ts';
import type { StylizeTaskOptions } from '../../src/queue/types.ts';
import { writeCoordImage } from '../runtime/data/fixtures.ts';
import { STC_BIN, redisServerAvailable, spawnNode, startRedis, type RedisServer } from './helpers.ts';

const hasRedis = redisServerAvailable();
if (!hasRedis) console.warn('[skip] redis-server is not installed (Debian: apt-get install redis-server): the queue Gatys grid tests need a real Redis');

// a two-layer loss network with seeded random weights: Gatys' terms on it cost milliseconds per iteration
const SPEC = `network tinyvgg {
  input x: image[N, 3, H, W]
  conv1_1 = conv(4, 3, padding: same); relu1_1 = relu()
  conv2_1 = conv(6, 3, padding: same); relu2_1 = relu()
  output y = relu2_1
  weights random(seed: 0)
}
objective tiny on tinyvgg {
  content(weight: 1) { conv2_1 }
  style(weight: 1e3) { relu1_1: 0.5, relu2_1: 0.5 }
}
`;
const LOCK_MS = 2000;

let redis: RedisServer;
let root: string;
let worker: WorkerHandle | undefined;
const events: WorkerEvent[] = [];

async function until(id: string, done: (s: JobStatus) => boolean, timeoutMs = 60_000): Promise<JobStatus> {
  const t0 = Date.now();
  for (;;) {
    const s = await jobStatus(redis.url, id);
    if (done(s)) return s;
    if (Date.now() - t0 > timeoutMs) throw new Error(`job ${id} did not finish: ${JSON.stringify(s)}\nevents: ${JSON.stringify(events)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
const settled = (s: JobStatus) => s.running + s.remaining === 0;

/** The same pair stylised by hand, as `stc stylize` would with the task's options. */
async function byHand(content: string, style: string, output: string, o: StylizeTaskOptions): Promise<Buffer> {
  const r = await stylize({ spec: join(root, 'tiny.style'), content: join(root, content), styles: [join(root, style)], output: join(root, output), ...o, threads: 1 });
  expect(r.status).not.toBe('diverged');
  return readFile(join(root, output));
}

const plan = (contents: string[], styles: string[], output: string, options: StylizeTaskOptions) =>
  planStylize(openStorage(root), { spec: join(root, 'tiny.style'), contents: contents.map((c) => join(root, c)), styles: styles.map((s) => join(root, s)), output: join(root, output), options });

beforeAll(async () => {
  if (!hasRedis) return;
  redis = await startRedis();
  root = await mkdtemp(join(tmpdir(), 'stc-queue-gatys-'));
  await writeFile(join(root, 'tiny.style'), SPEC);
  await writeCoordImage(join(root, 'c.png'), 24, 16, 5);
  await writeCoordImage(join(root, 's1.png'), 16, 16, 120);
  await writeCoordImage(join(root, 's2.png'), 20, 12, 200);
});

afterAll(async () => {
  if (!hasRedis) return;
  await worker?.close();
  await redis.stop();
  await rm(root, { recursive: true, force: true });
});

describe.skipIf(!hasRedis)('stc queue stylize grids', () => {
  it('a worker sent SIGTERM twice hands its task back; another worker completes it, with one output', async () => {
    // long enough that the task is still optimising when the second signal comes
    const opts: StylizeTaskOptions = { size: 24, iterations: 300, optimizer: 'lbfgs', seed: 7 };
    const p = await plan(['c.png'], ['s1.png'], 'back', opts);
    await submitJob(redis.url, p);
    const first = spawnNode(STC_BIN, ['queue', 'worker', '--redis', redis.url, '--threads', '1', '--lock-ms', String(LOCK_MS)]);
    await first.waitFor(/^start /, 60_000);
    first.proc.kill('SIGTERM');
    await first.waitFor(/SIGTERM: finishing the running task/);
    first.proc.kill('SIGTERM');
    await first.waitFor(/SIGTERM: handing the running task\(s\) back/);
    expect(await first.exited).toBe(0);
    expect(first.lines.at(-1)).toBe('worker stopped');
    expect(first.lines.filter((l) => /^(done|failed) /.test(l) || /at .*\.ts:\d+/.test(l)), first.lines.join('\n')).toEqual([]);
    // the output folder may exist; no image, no temporary file is left in it
    expect(await readdir(join(root, 'back')).catch(() => [])).toEqual([]);
    expect((await jobStatus(redis.url, p.id)).done).toBe(0);

    // its lock lapses and this worker's stalled-task check puts the task back in the queue
    worker = await startWorker({ redis: redis.url, threads: 1, lockMs: LOCK_MS, onEvent: (e) => events.push(e) });
    const s = await until(p.id, settled);
    expect([s.done, s.failed, s.total]).toEqual([1, 0, 1]);
    expect(await readdir(join(root, 'back'))).toEqual(['c__s1.png']);
    const ref = await byHand('c.png', 's1.png', 'back-ref.png', opts);
    expect((await readFile(join(root, 'back', 'c__s1.png'))).equals(ref)).toBe(true);
  }, 120_000);

  it('runs a 1 content × 2 style grid through a worker, each output equal to stylize by hand with the same seed', async () => {
    const opts: StylizeTaskOptions = { size: 24, iterations: 8, optimizer: 'lbfgs', seed: 3 };
    const p = await plan(['c.png'], ['s1.png', 's2.png'], 'grid', opts);
    expect(p.tasks).toHaveLength(2);
    await submitJob(redis.url, p);
    const s = await until(p.id, settled);
    expect([s.done, s.failed, s.total]).toEqual([2, 0, 2]);
    expect(await readdir(join(root, 'grid'))).toEqual(['c__s1.png', 'c__s2.png']);
    for (const style of ['s1', 's2']) {
      const ref = await byHand('c.png', `${style}.png`, `ref-${style}.png`, opts);
      expect((await readFile(join(root, 'grid', `c__${style}.png`))).equals(ref), style).toBe(true);
    }
    // the two styles give two different images: the comparison above is not of two blanks
    expect((await readFile(join(root, 'grid', 'c__s1.png'))).equals(await readFile(join(root, 'grid', 'c__s2.png')))).toBe(false);
  }, 60_000);

  it('refuses a task whose input changed since submission, once, with the reason, and writes nothing', async () => {
    await writeCoordImage(join(root, 'moving.png'), 16, 16, 40);
    const p = await plan(['c.png'], ['moving.png'], 'changed', { size: 24, iterations: 4, seed: 1 });
    // same name, other pixels: hashed when planned, different when the worker reads it
    await writeCoordImage(join(root, 'moving.png'), 16, 16, 41);
    await submitJob(redis.url, p, { attempts: 3 });
    const s = await until(p.id, settled);
    expect([s.done, s.failed]).toEqual([0, 1]);
    expect(s.failures[0]!.error).toMatch(/^input moving\.png changed since the job was submitted \(sha256 [0-9a-f]{12}…, submitted [0-9a-f]{12}…\)$/);
    // a user error is not retried: the same input would fail the same way
    expect(s.failures[0]!.attempts).toBe(1);
    expect(events.some((e) => e.type === 'failed' && /moving\.png changed/.test(e.error) && !e.willRetry)).toBe(true);
    expect(await readdir(root)).not.toContain('changed');
  }, 60_000);
});
