import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rm, writeFile, mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { DataLoader, type SkipEvent } from '../../../src/runtime/data/loader.ts';
import { listImages } from '../../../src/runtime/data/scan.ts';
import { UserError } from '../../../src/util/errors.ts';
import { makeDataFolder } from './fixtures.ts';

const SIZE = 16;
let dir: string;

beforeAll(async () => {
  // 5 images of 24x16: the short side already equals SIZE, so with maxScale 1 no resize happens.
  dir = await makeDataFolder(5, 24, 16);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Blue tag and crop offset of a coordinate-image sample (pixel (x, y) holds (x, y, tag)). */
function describeSample(img: { data: Float32Array; width: number; height: number }): { tag: number; left: number; top: number } {
  const plane = img.width * img.height;
  return { left: img.data[0]!, top: img.data[plane]!, tag: img.data[2 * plane]! };
}

describe('listImages', () => {
  it('finds images recursively, sorted, ignoring other files', async () => {
    const files = await listImages(dir);
    expect(files).toHaveLength(5);
    expect(files).toEqual([...files].sort());
    expect(files.some((f) => f.includes('deeper'))).toBe(true);
  });

  it('rejects an empty folder with a UserError', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'stc-empty-'));
    await expect(listImages(empty)).rejects.toBeInstanceOf(UserError);
    await expect(listImages(join(empty, 'missing'))).rejects.toThrow(/does not exist/);
    await rm(empty, { recursive: true });
  });
});

describe('DataLoader', () => {
  it('crops exactly the planned window and visits every file once per epoch', async () => {
    const files = await listImages(dir);
    const loader = new DataLoader({ files, size: SIZE, seed: 11, maxScale: 1, prefetch: 3 });
    const tags: number[] = [];
    for (let i = 0; i < 10; i++) {
      const img = await loader.next();
      expect([img.width, img.height]).toEqual([SIZE, SIZE]);
      const s = describeSample(img);
      expect(s.top).toBe(0);
      expect(s.left).toBeGreaterThanOrEqual(0);
      expect(s.left).toBeLessThanOrEqual(24 - SIZE);
      // the crop is a contiguous window: pixel (x, y) holds (left + x, top + y)
      const plane = SIZE * SIZE;
      expect(img.data[3 * SIZE + 5]).toBe(s.left + 5);
      expect(img.data[plane + 3 * SIZE + 5]).toBe(s.top + 3);
      tags.push(s.tag);
    }
    const epoch0 = tags.slice(0, 5).sort((a, b) => a - b);
    const epoch1 = tags.slice(5).sort((a, b) => a - b);
    expect(epoch0).toEqual([10, 20, 30, 40, 50]);
    expect(epoch1).toEqual([10, 20, 30, 40, 50]);
    expect(tags.slice(0, 5)).not.toEqual(tags.slice(5)); // reshuffled (true for this seed)
    await loader.close();
  });

  it('batches samples into [n, 3, size, size]', async () => {
    const loader = new DataLoader({ files: await listImages(dir), size: SIZE, seed: 1 });
    const b = await loader.nextBatch(3);
    expect(b.shape).toEqual([3, 3, SIZE, SIZE]);
    expect(b.data.length).toBe(3 * 3 * SIZE * SIZE);
    await loader.close();
  });

  it('resumes from a saved state exactly, across an epoch boundary, despite prefetching', async () => {
    const files = await listImages(dir);
    const a = new DataLoader({ files, size: SIZE, seed: 42, prefetch: 4 });
    for (let i = 0; i < 4; i++) await a.next();
    const saved = JSON.parse(JSON.stringify(a.state()));
    const b = new DataLoader({ files, size: SIZE, seed: 999, state: saved, prefetch: 2 });
    for (let i = 0; i < 7; i++) {
      const [x, y] = [await a.next(), await b.next()];
      expect(Buffer.from(y.data.buffer).equals(Buffer.from(x.data.buffer))).toBe(true);
    }
    await Promise.all([a.close(), b.close()]);
  });

  it('refuses to resume on a folder with a different number of files', async () => {
    const files = await listImages(dir);
    const a = new DataLoader({ files, size: SIZE, seed: 1 });
    expect(() => new DataLoader({ files: files.slice(1), size: SIZE, seed: 1, state: a.state() })).toThrow(UserError);
  });

  it('skips and counts corrupt files without failing', async () => {
    const bad = await makeDataFolder(3, 24, 16);
    await writeFile(join(bad, 'broken.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5]));
    await writeFile(join(bad, 'sub', 'empty.png'), '');
    const events: SkipEvent[] = [];
    const files = await listImages(bad);
    expect(files).toHaveLength(5);
    const loader = new DataLoader({ files, size: SIZE, seed: 3, onSkip: (e) => events.push(e) });
    const tags: number[] = [];
    for (let i = 0; i < 6; i++) tags.push(describeSample(await loader.next()).tag);
    // two epochs of 3 good images each => both bad files skipped twice
    expect(tags.slice(0, 3).sort((a, b) => a - b)).toEqual([10, 20, 30]);
    expect(loader.skipped).toBeGreaterThanOrEqual(2);
    expect(new Set(events.map((e) => e.path.split('/').pop()))).toEqual(new Set(['broken.jpg', 'empty.png']));
    expect(events[events.length - 1]!.skipped).toBe(loader.skipped);
    await loader.close();
    await rm(bad, { recursive: true, force: true });
  });

  it('fails clearly when no file decodes', async () => {
    const bad = await mkdtemp(join(tmpdir(), 'stc-bad-'));
    await writeFile(join(bad, 'a.jpg'), 'garbage');
    await writeFile(join(bad, 'b.png'), 'garbage');
    const loader = new DataLoader({ files: await listImages(bad), size: SIZE, seed: 3 });
    await expect(loader.next()).rejects.toThrow(/none of the 2 images/);
    await loader.close();
    await rm(bad, { recursive: true, force: true });
  });
});
