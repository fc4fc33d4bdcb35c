/** The queue's pure parts: redis URLs, sweeps, storage names, backoff, rates, the format check, seeking. */
import { describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planStylize } from '../../src/queue/plan/stylize.ts';
import { parseRedisUrl } from '../../src/queue/redis/client.ts';
import { parseSweep, sweepPoints } from '../../src/queue/plan/train.ts';
import { openStorage } from '../../src/queue/storage.ts';
import { backoffMs } from '../../src/queue/connection.ts';
import { rates } from '../../src/queue/status.ts';
import { formatRefusal } from '../../src/queue/worker.ts';
import { TASK_FORMAT } from '../../src/queue/format.ts';
import { seekSeconds } from '../../src/runtime/apply/video-chunks.ts';
import { UserError } from '../../src/util/errors.ts';
import { sha256Json } from '../../src/queue/hash.ts';

describe('redis URLs', () => {
  it('reads redis:// URLs and rejects others', () => {
    expect(parseRedisUrl('redis://:s%40cret@q.example:6380/2')).toEqual({ host: 'q.example', port: 6380, db: 2, password: 's@cret' });
    expect(parseRedisUrl('redis://localhost')).toEqual({ host: 'localhost', port: 6379, db: 0 });
    expect(() => parseRedisUrl('http://x')).toThrow(/not a redis:\/\/ URL/);
  });
});

describe('training sweeps', () => {
  it('parses KEY=V1,V2 and forms the Cartesian product, the last key fastest', () => {
    const s = [parseSweep('style=a.jpg,b.jpg'), parseSweep('style-weight=1e4, 3e4')];
    expect(sweepPoints(s).map((p) => p.map((x) => x.value).join(' '))).toEqual(['a.jpg 1e4', 'a.jpg 3e4', 'b.jpg 1e4', 'b.jpg 3e4']);
    expect(sweepPoints([])).toEqual([[]]);
  });

  it('names the sweepable keys when given another, and wants numbers', () => {
    expect(() => parseSweep('colour=red')).toThrow(/KEY one of style, style-weight/);
    expect(() => parseSweep('lr=fast')).toThrow(UserError);
  });
});

describe('job hashes', () => {
  it('do not depend on the order keys were written in', () => {
    expect(sha256Json({ a: 1, b: { c: [1, { d: 2, e: 3 }], f: 'x' } })).toBe(sha256Json({ b: { f: 'x', c: [1, { e: 3, d: 2 }] }, a: 1 }));
    expect(sha256Json({ a: 1 })).not.toBe(sha256Json({ a: 2 }));
  });
});

describe('storage', () => {
  it('names files relative to a file:// root and refuses paths outside it', () => {
    const s = openStorage('file:///mnt/shared');
    expect(s.url).toBe('file:///mnt/shared/');
    expect(s.rel('/mnt/shared/photos/a.jpg')).toBe('photos/a.jpg');
    expect(s.local('photos/a.jpg')).toBe('/mnt/shared/photos/a.jpg');
    expect(() => s.rel('/etc/passwd')).toThrow(/outside the storage root/);
    expect(() => s.local('../x')).toThrow(/leaves the storage root/);
    expect(() => openStorage('s3://bucket/x')).toThrow(/only file: URLs/);
  });
});

describe('worker policy', () => {
  it('backs off exponentially up to a cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => backoffMs(n, 1000, 30_000))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  });

  it('refuses tasks of a newer format, and tasks without one', () => {
    expect(formatRefusal({ format: TASK_FORMAT })).toBeUndefined();
    expect(formatRefusal({ format: TASK_FORMAT + 1 })).toMatch(/newer than this worker's.*upgrade stc/);
    expect(formatRefusal({})).toMatch(/no format version/);
  });

  it('derives throughput and ETA from completed tasks', () => {
    const r = rates(
      [
        { startedAt: 0, finishedAt: 1000, units: 4 },
        { startedAt: 500, finishedAt: 2000, units: 4 },
      ],
      6,
    );
    expect(r).toEqual({ tasksPerSecond: 1, unitsPerSecond: 4, etaSeconds: 6 });
    expect(rates([], 3)).toEqual({});
  });

  it('seeks half a frame before the first frame of a range', () => {
    expect(seekSeconds(0, '5/1')).toBe(0);
    expect(seekSeconds(10, '5/1')).toBeCloseTo(1.9, 12);
    expect(seekSeconds(3, '30000/1001')).toBeCloseTo(2.5 / (30000 / 1001), 12);
  });
});

describe('stylize grids', () => {
  it('plan one task per content × style pair, named <content>__<style>.png, with an id that follows the inputs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stc-grid-'));
    try {
      for (const n of ['a.jpg', 'b.jpg', 's.jpg', 't.jpg', 'g.style']) await writeFile(join(dir, n), n);
      const inp = { spec: join(dir, 'g.style'), contents: [join(dir, 'a.jpg'), join(dir, 'b.jpg')], styles: [join(dir, 's.jpg'), join(dir, 't.jpg')], output: join(dir, 'grid'), options: { iterations: 10 } };
      const plan = await planStylize(openStorage(dir), inp);
      expect(plan.tasks.map((t) => (t.kind === 'stylize' ? `${t.content.path}+${t.style.path}->${t.output}` : ''))).toEqual([
        'a.jpg+s.jpg->grid/a__s.png',
        'a.jpg+t.jpg->grid/a__t.png',
        'b.jpg+s.jpg->grid/b__s.png',
        'b.jpg+t.jpg->grid/b__t.png',
      ]);
      expect((await planStylize(openStorage(dir), inp)).id).toBe(plan.id);
      await writeFile(join(dir, 't.jpg'), 'changed');
      expect((await planStylize(openStorage(dir), inp)).id).not.toBe(plan.id);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
