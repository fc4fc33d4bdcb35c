import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import sharp from 'sharp';
import { DEFAULT_BATCH, applyToFolder, applyToImage, applyToVideo, inputKind } from '../../../src/runtime/apply/apply.ts';
import { loadImageModel, type ImageModel } from '../../../src/runtime/apply/model.ts';
import { planBatches } from '../../../src/runtime/apply/stylize.ts';
import { readRgb8 } from '../../../src/runtime/apply/io.ts';
import { ffmpegAvailable } from '../../../src/runtime/apply/video.ts';
import { UserError } from '../../../src/util/errors.ts';
import { writeCoordImage } from '../data/fixtures.ts';
import { tinyNetModel } from './tiny-models.ts';

let dir: string;
let model: ImageModel;
let calls: number[][] = [];
let run: ImageModel['run'];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stc-apply-'));
  await writeFile(join(dir, 'm.onnx'), tinyNetModel(5));
  model = await loadImageModel(join(dir, 'm.onnx'), { threads: 1 });
  run = async (x) => {
    calls.push([...x.shape]);
    return model.run(x);
  };
  await mkdir(join(dir, 'in', 'sub'), { recursive: true });
  for (let i = 0; i < 5; i++) await writeCoordImage(join(dir, 'in', `a${i}.png`), 20, 12, i);
  await writeCoordImage(join(dir, 'in', 'sub', 'b.png'), 15, 9, 7);
});
afterAll(async () => {
  await model.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('planBatches', () => {
  it('groups equal sizes into batches of at most n and keeps odd sizes apart', () => {
    const items = [
      { id: 1, width: 4, height: 4 },
      { id: 2, width: 5, height: 4 },
      { id: 3, width: 4, height: 4 },
      { id: 4, width: 4, height: 4 },
    ];
    expect(planBatches(items, 2).map((b) => b.map((i) => i.id))).toEqual([[1, 3], [4], [2]]);
  });
});

describe('apply', () => {
  it('processes a folder in same-size batches, mirroring its layout, with the same pixels as one at a time', async () => {
    calls = [];
    const n = await applyToFolder(run, join(dir, 'in'), join(dir, 'out'), { batch: 2 });
    expect(n).toBe(6);
    expect(calls).toEqual([
      [2, 3, 12, 20],
      [2, 3, 12, 20],
      [1, 3, 12, 20],
      [1, 3, 9, 15],
    ]);
    expect((await readdir(join(dir, 'out'))).sort()).toEqual(['a0.png', 'a1.png', 'a2.png', 'a3.png', 'a4.png', 'sub']);
    // batching does not change results: compare with a single-image run
    await applyToImage(run, join(dir, 'in', 'a3.png'), join(dir, 'single.png'));
    const [a, b] = [await readRgb8(join(dir, 'out', 'a3.png')), await readRgb8(join(dir, 'single.png'))];
    let maxDiff = 0;
    for (let i = 0; i < a.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a.data[i]! - b.data[i]!));
    expect(maxDiff).toBeLessThanOrEqual(1);
  });

  it('runs one image per model run unless told to batch (DEFAULT_BATCH on the CPU)', async () => {
    calls = [];
    expect(await applyToFolder(run, join(dir, 'in'), join(dir, 'out-default'))).toBe(6);
    expect(calls.map((c) => c[0])).toEqual(Array(6).fill(DEFAULT_BATCH));
    expect(DEFAULT_BATCH).toBe(1);
  });

  it('limits the output size with maxSize, keeping the aspect ratio', async () => {
    await applyToImage(run, join(dir, 'in', 'a0.png'), join(dir, 'small.jpg'), { maxSize: 10 });
    const m = await sharp(join(dir, 'small.jpg')).metadata();
    expect([m.width, m.height, m.format]).toEqual([10, 6, 'jpeg']);
  });

  it('classifies inputs and rejects unknown output formats', async () => {
    expect(await inputKind(join(dir, 'in'))).toBe('folder');
    expect(await inputKind(join(dir, 'in', 'a0.png'))).toBe('image');
    await expect(inputKind(join(dir, 'nope'))).rejects.toBeInstanceOf(UserError);
    await expect(applyToImage(run, join(dir, 'in', 'a0.png'), join(dir, 'x.bmp'))).rejects.toThrow(/\.png, \.jpg or \.webp/);
  });

  it.skipIf(ffmpegAvailable())('explains that video needs ffmpeg when it is absent', async () => {
    await writeFile(join(dir, 'clip.mp4'), 'not really a video');
    expect(await inputKind(join(dir, 'clip.mp4'))).toBe('video');
    await expect(applyToVideo(run, join(dir, 'clip.mp4'), join(dir, 'out.mp4'))).rejects.toThrow(/needs ffmpeg.*apt-get install ffmpeg/);
  });

  it.skipIf(!ffmpegAvailable())('stylises every frame of a video through ffmpeg and keeps size and frame count', async () => {
    const clip = join(dir, 'src.mp4');
    const made = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=32x24:rate=10', '-frames:v', '7', '-pix_fmt', 'yuv420p', clip]);
    expect(made.status, String(made.stderr)).toBe(0);
    calls = [];
    const out = join(dir, 'styled.mp4');
    const frames = await applyToVideo(run, clip, out);
    expect(frames).toBe(7);
    expect(calls.length).toBe(7); // one network run per frame
    const probe = spawnSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=width,height,nb_read_frames', '-of', 'csv=p=0', out], { encoding: 'utf8' });
    expect(probe.stdout.trim()).toBe('32,24,7');
    expect((await readdir(dir)).filter((f) => f.startsWith('.tmp-'))).toEqual([]);
  });

  it.skipIf(!ffmpegAvailable())('leaves no partial video when the input cannot be decoded', async () => {
    await writeFile(join(dir, 'broken.mp4'), 'not really a video');
    await expect(applyToVideo(run, join(dir, 'broken.mp4'), join(dir, 'never.mp4'))).rejects.toBeInstanceOf(UserError);
    const left = await readdir(dir);
    expect(left.filter((f) => f === 'never.mp4' || f.startsWith('.tmp-'))).toEqual([]);
  });
});
