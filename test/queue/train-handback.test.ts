/**
 * A worker handing its tasks back (the CLI's second SIGTERM: close(true)) stops a running training
 * run after the current step instead of training to the end; the task is left for another worker.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStorage } from '../../src/queue/storage.ts';
import { planTrain } from '../../src/queue/plan/train.ts';
import { submitJob } from '../../src/queue/submit.ts';
import { jobStatus } from '../../src/queue/status.ts';
import { startWorker, type WorkerEvent } from '../../src/queue/worker.ts';
import { makeDataFolder, writeCoordImage } from '../runtime/data/fixtures.ts';
import { SQUEEZE, TINY_SPEC, redisServerAvailable, startRedis, type RedisServer } from './helpers.ts';

const hasShared = existsSync(SQUEEZE);
const hasRedis = redisServerAvailable();
if (!hasRedis) console.warn('[skip] redis-server is not installed (Debian: apt-get install redis-server): the training hand-back test needs a real Redis');
else if (!hasShared) console.warn('[skip] ../shared is absent: the training hand-back test needs ../shared/weights/squeezenet1_1');

const STEPS = 2000;

let redis: RedisServer;
let root: string;
let data: string;

beforeAll(async () => {
  if (!hasRedis || !hasShared) return;
  redis = await startRedis();
  root = await mkdtemp(join(tmpdir(), 'stc-handback-'));
  data = await makeDataFolder(2, 40, 36);
  await writeFile(join(root, 'tiny.style'), TINY_SPEC);
  await writeCoordImage(join(root, 'a.png'), 32, 32, 30);
});

afterAll(async () => {
  if (!hasRedis || !hasShared) return;
  await redis.stop();
  await rm(root, { recursive: true, force: true });
  await rm(data, { recursive: true, force: true });
});

const logSteps = async (run: string): Promise<number> => (await readFile(join(run, 'log.jsonl'), 'utf8').catch(() => '')).split('\n').filter(Boolean).length;

describe.skipIf(!hasRedis || !hasShared)('stc queue worker hand-back of a training run', () => {
  it('stops the run within a step of close(true), without finishing or failing the task', async () => {
    const plan = await planTrain(openStorage('/'), {
      spec: join(root, 'tiny.style'),
      data,
      weights: SQUEEZE,
      style: join(root, 'a.png'),
      output: join(root, 'runs'),
      sweeps: [],
      options: { lossNet: 'squeezenet1_1', size: 32, batch: 1, steps: STEPS, seed: 3, contentLayers: ['relu1'], styleLayers: ['relu1'], validateEvery: 0 },
    });
    await submitJob(redis.url, plan);
    const events: WorkerEvent[] = [];
    const worker = await startWorker({ redis: redis.url, threads: 1, lockMs: 2000, onEvent: (e) => events.push(e) });
    const task = plan.tasks[0]!;
    if (task.kind !== 'train') throw new Error(`planned a ${task.kind} task`);
    const run = openStorage('/').local(task.out);
    const t0 = Date.now();
    while ((await logSteps(run)) < 3) {
      if (Date.now() - t0 > 60_000) throw new Error(`training did not start: ${JSON.stringify(events)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await worker.close(true);
    const atClose = await logSteps(run);
    await new Promise((r) => setTimeout(r, 1500));
    const later = await logSteps(run);
    // at most the step running at the close is logged after it
    expect(later - atClose).toBeLessThanOrEqual(1);
    expect(later).toBeLessThan(STEPS);
    expect(events.filter((e) => e.type === 'done' || e.type === 'failed')).toEqual([]);
    const s = await jobStatus(redis.url, plan.id);
    expect([s.done, s.failed]).toEqual([0, 0]);
  }, 90_000);
});
