/**
 * A training sweep through the queue: 2 styles × 2 style weights × 10 steps gives 4 runs whose
 * logs equal the same runs done by hand (`stc train`) with the same seed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.ts';
import { openStorage } from '../../src/queue/storage.ts';
import { parseSweep, planTrain } from '../../src/queue/plan/train.ts';
import { jobStatus } from '../../src/queue/status.ts';
import { startWorker, type WorkerHandle } from '../../src/queue/worker.ts';
import { readLog } from '../../src/runtime/train/log.ts';
import { makeDataFolder, writeCoordImage } from '../runtime/data/fixtures.ts';
import { SQUEEZE, TINY_SPEC, redisServerAvailable, startRedis, type RedisServer } from './helpers.ts';

const hasShared = existsSync(SQUEEZE);
const hasRedis = redisServerAvailable();
if (!hasRedis) console.warn('[skip] redis-server is not installed (Debian: apt-get install redis-server): the queue training sweep needs a real Redis');
else if (!hasShared) console.warn('[skip] ../shared is absent: the queue training sweep needs ../shared/weights/squeezenet1_1');


let redis: RedisServer;
let root: string;
let data: string;
let worker: WorkerHandle;

beforeAll(async () => {
  if (!hasRedis || !hasShared) return;
  redis = await startRedis();
  root = await mkdtemp(join(tmpdir(), 'stc-sweep-'));
  data = await makeDataFolder(3, 40, 36);
  await writeFile(join(root, 'tiny.style'), TINY_SPEC);
  await writeCoordImage(join(root, 'a.png'), 32, 32, 30);
  await writeCoordImage(join(root, 'b.png'), 40, 24, 200);
  worker = await startWorker({ redis: redis.url, threads: 1 });
});

afterAll(async () => {
  if (!hasRedis || !hasShared) return;
  await worker?.close();
  await redis.stop();
  await rm(root, { recursive: true, force: true });
  await rm(data, { recursive: true, force: true });
});

const strip = (l: Awaited<ReturnType<typeof readLog>>) => l.map(({ ms: _ms, ...rest }) => rest);

describe.skipIf(!hasRedis || !hasShared)('stc queue submit train --sweep', () => {
  it('runs 2 styles × 2 style weights as 4 runs equal to the same runs by hand', async () => {
    const spec = join(root, 'tiny.style');
    const common = ['--loss-net', 'squeezenet1_1', '--weights', SQUEEZE, '--size', '32', '--batch', '1', '--steps', '10', '--seed', '3'];
    const small = ['--content-layers', 'relu1', '--style-layers', 'relu1,fire2', '--validate-every', '0'];
    // the data and the weights lie outside the test's folder: the storage root is their common ancestor
    const storageRoot = '/';
    const sweeps = ['style=' + join(root, 'a.png') + ',' + join(root, 'b.png'), 'style-weight=5e-3,2e-2'];
    const submitted = await main(['node', 'stc', 'queue', 'submit', 'train', spec, '--data', data, '--out', join(root, 'runs'), ...common, ...small, ...sweeps.flatMap((s) => ['--sweep', s]), '--redis', redis.url, '--storage', storageRoot]);
    expect(submitted).toBe(0);
    const plan = await planTrain(openStorage(storageRoot), {
      spec,
      data,
      weights: SQUEEZE,
      output: join(root, 'runs'),
      sweeps: sweeps.map(parseSweep),
      options: { lossNet: 'squeezenet1_1', size: 32, batch: 1, steps: 10, seed: 3, contentLayers: ['relu1'], styleLayers: ['relu1', 'fire2'], validateEvery: 0 },
    });
    expect(plan.tasks).toHaveLength(4);
    for (;;) {
      const s = await jobStatus(redis.url, plan.id);
      expect(s.failures).toEqual([]);
      if (s.done === 4) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const points = [
      ['a', '5e-3'],
      ['a', '2e-2'],
      ['b', '5e-3'],
      ['b', '2e-2'],
    ];
    for (const [style, weight] of points) {
      const run = join(root, 'runs', `style=${style},style-weight=${weight}`);
      const queued = strip(await readLog(join(run, 'log.jsonl')));
      expect(queued.map((e) => e.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      const byHand = join(root, `hand-${style}-${weight}`);
      const args = ['train', spec, '--data', data, '--style', join(root, `${style}.png`), '--out', byHand, ...common, ...small, '--style-weight', weight!, '--threads', '1'];
      expect(await main(['node', 'stc', ...args])).toBe(0);
      expect(queued).toEqual(strip(await readLog(join(byHand, 'log.jsonl'))));
    }
  }, 600_000);
});
