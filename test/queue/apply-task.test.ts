import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Device } from '../../src/backends/types.ts';
import { DEFAULT_BATCH, GPU_DEFAULT_BATCH } from '../../src/runtime/apply/apply.ts';
import type { ImageModel } from '../../src/runtime/apply/model.ts';
import { runApplyTask } from '../../src/queue/tasks/apply.ts';
import type { TaskContext } from '../../src/queue/tasks/context.ts';
import type { ApplyTask } from '../../src/queue/types.ts';
import { writeCoordImage } from '../runtime/data/fixtures.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stc-apply-task-'));
  for (let i = 0; i < 4; i++) await writeCoordImage(join(dir, `in${i}.png`), 16, 8, i);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Runs the task on a worker of `device` with an identity model, returning the batch of each model run. */
async function batches(device: Device | undefined, options: ApplyTask['options'] = {}): Promise<number[]> {
  const runs: number[] = [];
  const model = { run: async (x: { shape: readonly number[]; data: Float32Array }) => (runs.push(x.shape[0]!), x), winogradConvs: 0, dispose: async () => {} } satisfies ImageModel;
  const storage = { url: `file://${dir}/`, local: (rel: string) => join(dir, rel), rel: (p: string) => p.slice(dir.length + 1) };
  const ctx: TaskContext = {
    ...(device && { device }),
    models: { get: async () => model } as unknown as TaskContext['models'],
    storage: () => storage,
    checked: async (s, ref) => s.local(ref.path),
    progress: () => {},
  };
  const items = [0, 1, 2, 3].map((i) => ({ input: { path: `in${i}.png`, sha256: '' }, output: `out-${device ?? 'cpu'}-${options.batch ?? 'default'}/${i}.png` }));
  await runApplyTask({ kind: 'apply', format: 1, job: 'j', name: 'apply00000', root: `file://${dir}/`, units: items.length, model: { path: 'm.onnx', sha256: '' }, items, options }, ctx);
  return runs;
}

describe('apply task', () => {
  it("batches as stc apply does on the worker's device", async () => {
    expect(await batches(undefined)).toEqual(Array(4 / DEFAULT_BATCH).fill(DEFAULT_BATCH));
    expect(await batches('gpu')).toEqual([GPU_DEFAULT_BATCH]);
  });

  it("keeps the submitted batch on any device", async () => {
    expect(await batches('gpu', { batch: 2 })).toEqual([2, 2]);
    expect(await batches(undefined, { batch: 2 })).toEqual([2, 2]);
  });
});
