import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { tinyNetModel } from './tiny-models.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stc-big-'));
  await writeFile(join(dir, 'm.onnx'), tinyNetModel(2, true));
  await sharp({ create: { width: 4096, height: 4096, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
    .jpeg({ quality: 80 })
    .toFile(join(dir, 'big.jpg'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('apply memory', () => {
  it('stylises a 4096x4096 image in tiles under 2 GB peak RSS', async () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'big-child.ts'), join(dir, 'm.onnx'), join(dir, 'big.jpg'), join(dir, 'out.png')], {
      encoding: 'utf8',
      cwd: process.cwd(),
    });
    expect(r.status, r.stderr).toBe(0);
    const { maxRssBytes, tiles } = JSON.parse(r.stdout) as { maxRssBytes: number; tiles: number };
    console.info(`4096x4096 apply: peak RSS ${(maxRssBytes / 2 ** 20).toFixed(0)} MiB over ${tiles} tiles`);
    expect(tiles).toBe(81); // 512-pixel tiles, 64 overlap: 9 x 9
    expect(maxRssBytes).toBeLessThan(2e9);
    const m = await sharp(join(dir, 'out.png')).metadata();
    expect([m.width, m.height]).toEqual([4096, 4096]);
  });
});
