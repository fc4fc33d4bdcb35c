import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { AUTO_MIN_IMAGES, AUTO_MIN_PIXELS, isLargeImage, winogradFor } from '../../../src/runtime/apply/winograd-choice.ts';
import { applyJob } from '../../../src/runtime/apply/winograd-job.ts';

describe('winogradFor (the --winograd auto rule)', () => {
  it('auto: on from AUTO_MIN_IMAGES large images, off below', () => {
    expect(winogradFor('auto', { largeImages: AUTO_MIN_IMAGES })).toBe(true);
    expect(winogradFor('auto', { largeImages: AUTO_MIN_IMAGES - 1 })).toBe(false);
    expect(winogradFor('auto', { largeImages: 1 })).toBe(false); // one image: stc run, apply on a file
  });

  it('auto: on for a video of 256² or more, off for a smaller one', () => {
    expect(winogradFor('auto', { largeImages: 0, video: { width: 256, height: 256 } })).toBe(true);
    expect(winogradFor('auto', { largeImages: 0, video: { width: 320, height: 180 } })).toBe(false);
  });

  it('on and off are what they say', () => {
    expect(winogradFor('on', { largeImages: 0 })).toBe(true);
    expect(winogradFor('off', { largeImages: 100, video: { width: 1920, height: 1080 } })).toBe(false);
  });

  it('an image counts from 256² pixels', () => {
    expect(AUTO_MIN_PIXELS).toBe(256 * 256);
    expect(isLargeImage(512, 128)).toBe(true);
    expect(isLargeImage(255, 256)).toBe(false);
  });
});

describe('applyJob (what auto looks at in an apply input)', () => {
  it('counts a folder’s images of 256² or more after --max-size, skipping unreadable ones', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stc-winograd-job-'));
    try {
      await mkdir(join(dir, 'sub'));
      const png = (w: number, h: number) => sharp({ create: { width: w, height: h, channels: 3, background: { r: 1, g: 2, b: 3 } } }).png();
      await png(300, 300).toFile(join(dir, 'a.png'));
      await png(256, 256).toFile(join(dir, 'sub', 'b.png'));
      await png(200, 200).toFile(join(dir, 'c.png'));
      await writeFile(join(dir, 'd.png'), 'not a png');
      expect(await applyJob('folder', dir)).toEqual({ largeImages: 2 });
      expect(await applyJob('folder', dir, 255)).toEqual({ largeImages: 0 });
      expect(await applyJob('image', join(dir, 'a.png'))).toEqual({ largeImages: 1 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
