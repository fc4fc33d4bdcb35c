/**
 * `stc apply spec.style` through the real CLI: a folder that `--winograd auto` counts runs the compiled spec with
 * Winograd and gives `stc run`'s pixels to within a level; a folder of mixed sizes compiles only the size with enough
 * images and runs the others on one size-free session; one image runs the same compiled graph as `stc run`, pixel
 * for pixel; flags that need an exported model, and an image too large to run whole, are one error line each,
 * before anything is written.
 */
import { copyFile, mkdir, readdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { AUTO_MIN_IMAGES } from '../../src/runtime/apply/winograd-choice.ts';
import { ffmpegAvailable, probeVideo } from '../../src/runtime/apply/video.ts';
import { isOneLineError, stc } from './run-cli.ts';
import { wideWorkspace } from './wide-workspace.ts';
import { maxPixelDiff, noisePng, pngPixels } from '../fixtures/wide-spec.ts';

let dir = '';
const p = (name: string) => join(dir, name);
beforeAll(async () => {
  dir = await wideWorkspace('stc-apply-spec-');
  await noisePng(p('large.png'), 9, 1100, 1100);
  // photos/ (AUTO_MIN_IMAGES at 256², enough work for a compile of their own) and two small images of two more sizes.
  await mkdir(p('mixed'));
  for (const f of await readdir(p('photos'))) await copyFile(join(p('photos'), f), join(p('mixed'), f));
  await noisePng(join(p('mixed'), 'wide.png'), 11, 64, 48);
  await noisePng(join(p('mixed'), 'tall.png'), 12, 48, 64);
}, 60_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('stc apply spec.style', () => {
  it('a folder of 256² images: compiled once, with Winograd under auto, the pixels of stc run to within a level', async () => {
    const img = join(p('photos'), '3.png');
    const [folder, run] = await Promise.all([
      stc(['apply', p('wide.style'), p('photos'), '-o', p('out'), '--batch', '4']),
      stc(['run', p('wide.style'), '--input', img, '-o', p('run.png')]),
    ]);
    for (const r of [folder, run]) expect(r.code, r.stderr).toBe(0);
    // Two batches of four at one size: one compile.
    expect(folder.stderr.match(/compiled for 256x256, batch 4 in [\d.]+ s; Winograd F\(4x4,3x3\) on 1 convs/g)?.length).toBe(1);
    expect((await readdir(p('out'))).sort()).toEqual(Array.from({ length: AUTO_MIN_IMAGES }, (_, k) => `${k}.png`).sort());
    expect(maxPixelDiff(await pngPixels(join(p('out'), '3.png')), await pngPixels(p('run.png')))).toBeLessThanOrEqual(1);
  }, 120_000);

  it('a folder of mixed sizes: the 256² images compiled for, the two small sizes on one size-free session (each compiled under --winograd on)', async () => {
    const [folder, run, on] = await Promise.all([
      stc(['apply', p('wide.style'), p('mixed'), '-o', p('out-mixed'), '--batch', '4']),
      stc(['run', p('wide.style'), '--input', join(p('mixed'), 'wide.png'), '-o', p('run-wide.png')]),
      stc(['apply', p('wide.style'), p('mixed'), '-o', p('out-mixed-on'), '--winograd', 'on']),
    ]);
    for (const r of [folder, run, on]) expect(r.code, r.stderr).toBe(0);
    // --winograd on needs a size to rewrite: every size compiles.
    expect(on.stderr).toMatch(/compiled for 64x48 in/);
    expect(on.stderr).not.toMatch(/any size/);
    expect(folder.stderr.match(/compiled for 256x256, batch 4 in [\d.]+ s; Winograd/g)?.length).toBe(1);
    expect(folder.stderr.match(/compiled for any size \(the sizes with few images\) in [\d.]+ s/g)?.length).toBe(1);
    expect(folder.stderr).not.toMatch(/compiled for (64x48|48x64)/);
    expect((await readdir(p('out-mixed'))).length).toBe(AUTO_MIN_IMAGES + 2);
    const wide = await sharp(join(p('out-mixed'), 'wide.png')).metadata();
    expect([wide.width, wide.height]).toEqual([64, 48]);
    expect(maxPixelDiff(await pngPixels(join(p('out-mixed'), 'wide.png')), await pngPixels(p('run-wide.png')))).toBeLessThanOrEqual(1);
  }, 120_000);

  it('one image: the graph stc run compiles (no Winograd under auto), pixel for pixel; --winograd off on a folder', async () => {
    const img = join(p('photos'), '5.png');
    const [one, run, off] = await Promise.all([
      stc(['apply', p('wide.style'), img, '-o', p('one.png')]),
      stc(['run', p('wide.style'), '--input', img, '-o', p('run5.png')]),
      stc(['apply', p('wide.style'), p('photos'), '-o', p('out-off'), '--winograd', 'off']),
    ]);
    for (const r of [one, run, off]) expect(r.code, r.stderr).toBe(0);
    expect(one.stderr).toMatch(/compiled for 256x256 in/);
    expect(one.stderr + off.stderr).not.toMatch(/Winograd/);
    expect(maxPixelDiff(await pngPixels(p('one.png')), await pngPixels(p('run5.png')))).toBe(0);
    expect(maxPixelDiff(await pngPixels(join(p('out-off'), '5.png')), await pngPixels(p('run5.png')))).toBe(0);
  }, 120_000);

  if (!ffmpegAvailable()) console.warn('test/cli/apply-spec.test.ts: the video case is skipped: ffmpeg is not on PATH');
  it.skipIf(!ffmpegAvailable())('a video: compiled once at its frame size, with Winograd under auto, every frame written', async () => {
    const clip = p('clip.mp4');
    const made = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=256x256:rate=10', '-frames:v', '6', '-pix_fmt', 'yuv420p', clip]);
    expect(made.status, String(made.stderr)).toBe(0);
    const r = await stc(['apply', p('wide.style'), clip, '-o', p('styled.mp4')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.match(/compiled for 256x256 in [\d.]+ s; Winograd F\(4x4,3x3\) on 1 convs/g)?.length).toBe(1);
    expect(r.stderr).toMatch(/stylised 6 frames/);
    const info = probeVideo(p('styled.mp4'));
    expect([info.width, info.height]).toEqual([256, 256]);
  }, 120_000);

  it('flags for an exported model, and an image too large to run whole, are one error line, nothing written', async () => {
    const [int8, tile, weights, large] = await Promise.all([
      stc(['apply', p('wide.style'), p('photos'), '-o', p('e1'), '--precision', 'int8']),
      stc(['apply', p('wide.style'), p('photos'), '-o', p('e2'), '--tile', '128']),
      stc(['apply', p('wide.onnx'), p('photos'), '-o', p('e3'), '--weights', p('w.pth')]),
      stc(['apply', p('wide.style'), p('large.png'), '-o', p('e4.png')]),
    ]);
    for (const r of [int8, tile, weights, large]) expect(isOneLineError(r), r.stderr).toBe(true);
    expect(int8.stderr).toMatch(/stc export/);
    expect(tile.stderr).toMatch(/--tile is for an exported model/);
    expect(weights.stderr).toMatch(/--weights and --network are for a \.style spec/);
    expect(large.stderr).toMatch(/large\.png \(1100x1100\) is larger than 1048576 pixels: .*--max-size/);
    for (const out of ['e1', 'e2', 'e3', 'e4.png']) expect(existsSync(p(out))).toBe(false);
    // --max-size brings it under the limit.
    const fitted = await stc(['apply', p('wide.style'), p('large.png'), '-o', p('fitted.png'), '--max-size', '512']);
    expect(fitted.code, fitted.stderr).toBe(0);
    expect((await sharp(p('fitted.png')).metadata()).width).toBe(512);
  }, 120_000);
});
