import { describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, writeFile, rm } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import {
  checkpointPath,
  listCheckpoints,
  loadCheckpoint,
  loadLatestCheckpoint,
  saveCheckpoint,
  type Checkpoint,
} from '../../../src/runtime/checkpoint/checkpoint.ts';
import { decodeSafetensors, encodeSafetensors } from '../../../src/weights/safetensors.ts';

function ckpt(step: number, fill: number): Checkpoint {
  const t = (n: number, v: number) => ({ shape: [n], data: new Float32Array(n).map((_, i) => v + i / 8) });
  return {
    step,
    params: new Map([
      ['conv1.weight', { shape: [2, 1, 3, 3], data: new Float32Array(18).map((_, i) => fill * i - 0.1) }],
      ['in1.scale', t(2, fill)],
    ]),
    adamM: new Map([['conv1.weight', { shape: [2, 1, 3, 3], data: new Float32Array(18).fill(fill / 10) }], ['in1.scale', t(2, 0)]]),
    adamV: new Map([['conv1.weight', { shape: [2, 1, 3, 3], data: new Float32Array(18).fill(1e-7) }], ['in1.scale', t(2, 1)]]),
    meta: { seed: 5, loader: { epoch: 1, cursor: 3, rng: [1, 2, 3, 4] } },
  };
}

describe('safetensors codec', () => {
  it('lays out the standard header: u64 length, JSON with offsets, 8-byte alignment', () => {
    const chunks = encodeSafetensors(new Map([['a', { shape: [2], data: Float32Array.of(1.5, -2) }]]), { k: 'v' });
    const buf = Buffer.concat(chunks);
    const n = Number(buf.readBigUInt64LE(0));
    expect((8 + n) % 8).toBe(0);
    const header = JSON.parse(buf.subarray(8, 8 + n).toString());
    expect(header.a).toEqual({ dtype: 'F32', shape: [2], data_offsets: [0, 8] });
    expect(header.__metadata__).toEqual({ k: 'v' });
    expect(buf.readFloatLE(8 + n)).toBe(1.5);
    expect(buf.readFloatLE(8 + n + 4)).toBe(-2);
  });

  it('rejects truncated data', () => {
    const buf = Buffer.concat(encodeSafetensors(new Map([['a', { shape: [4], data: new Float32Array(4) }]])));
    expect(() => decodeSafetensors(buf.subarray(0, buf.length - 1))).toThrow(/truncated/);
    expect(() => decodeSafetensors(buf.subarray(0, 5))).toThrow();
  });
});

describe('checkpoints', () => {
  it('round-trips parameters, Adam state, step and metadata bit-exactly', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stc-ckpt-'));
    const c = ckpt(7, 0.3);
    const path = await saveCheckpoint(dir, c);
    expect(path).toBe(checkpointPath(dir, 7));
    const back = await loadCheckpoint(path);
    expect(back.step).toBe(7);
    expect(back.meta).toEqual(c.meta);
    for (const key of ['params', 'adamM', 'adamV'] as const)
      for (const [id, t] of c[key]) {
        expect(back[key].get(id)!.shape).toEqual(t.shape);
        expect(Buffer.from(back[key].get(id)!.data.buffer).equals(Buffer.from(t.data.buffer))).toBe(true);
      }
    await rm(dir, { recursive: true });
  });

  it('keeps only the newest `keep` checkpoints and leaves no temporary files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stc-ckpt-'));
    for (let s = 1; s <= 4; s++) await saveCheckpoint(dir, ckpt(s * 10, s), { keep: 2 });
    expect((await listCheckpoints(dir)).map((f) => f.step)).toEqual([30, 40]);
    expect(await readdir(dir)).toHaveLength(2);
    expect((await loadLatestCheckpoint(dir))!.checkpoint.step).toBe(40);
    await rm(dir, { recursive: true });
  });

  it('falls back to the previous checkpoint when the newest file is torn', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stc-ckpt-'));
    await saveCheckpoint(dir, ckpt(1, 1));
    const full = await readFile(checkpointPath(dir, 1));
    await writeFile(checkpointPath(dir, 2), full.subarray(0, full.length - 16)); // a torn copy under the final name
    const latest = await loadLatestCheckpoint(dir);
    expect(latest!.checkpoint.step).toBe(1);
    expect(latest!.unreadable.map((u) => u.path)).toEqual([checkpointPath(dir, 2)]);
    expect(await loadLatestCheckpoint(join(dir, 'nothing-here'))).toBeUndefined();
    await rm(dir, { recursive: true });
  });

  it('a process SIGKILLed during a checkpoint write leaves the previous checkpoint loadable', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stc-ckpt-'));
    await saveCheckpoint(dir, ckpt(1, 1));
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'kill-child.ts'), dir], { encoding: 'utf8' });
    expect(r.signal).toBe('SIGKILL');
    expect(r.stdout).not.toMatch(/unreachable/);
    const names = await readdir(dir);
    expect(names.some((n) => n.startsWith('.tmp-'))).toBe(true); // the torn write is there...
    const latest = await loadLatestCheckpoint(dir);
    expect(latest!.checkpoint.step).toBe(1); // ...but never mistaken for a checkpoint
    expect(latest!.unreadable).toEqual([]);
    // the next save cleans the dead writer's temporary file
    await saveCheckpoint(dir, ckpt(3, 3));
    expect((await readdir(dir)).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
    await rm(dir, { recursive: true });
  });
});
