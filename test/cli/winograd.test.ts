/**
 * `--winograd auto|on|off` through the real CLI: `stc apply --winograd on` on a folder loads the wide convs as
 * Winograd and writes the direct model's pixels, `auto` (the default) keeps an exported model's direct convs;
 * `stc run` on one image does not use it unless asked, and gives the same image either way; an explicit `on` where
 * it cannot run is one error line.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTO_MIN_IMAGES } from '../../src/runtime/apply/winograd-choice.ts';
import { isOneLineError, stc } from './run-cli.ts';
import { wideWorkspace } from './wide-workspace.ts';
import { maxPixelDiff, pngPixels } from '../fixtures/wide-spec.ts';

const LINE = /Winograd F\(4x4,3x3\) on 1 convs/;

let dir = '';
const p = (name: string) => join(dir, name);
beforeAll(async () => {
  dir = await wideWorkspace('stc-winograd-');
}, 60_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('stc apply --winograd', () => {
  it(`on: the folder's wide conv as Winograd, the same pixels as auto (direct convs for an exported model)`, async () => {
    const [on, auto] = await Promise.all([
      stc(['apply', p('wide.onnx'), p('photos'), '-o', p('out'), '--winograd', 'on']),
      stc(['apply', p('wide.onnx'), join(p('photos'), '0.png'), '-o', p('one.png')]),
    ]);
    for (const r of [on, auto]) expect(r.code, r.stderr).toBe(0);
    expect(on.stderr).toMatch(LINE);
    expect(auto.stderr).not.toMatch(/Winograd/);
    expect((await readdir(p('out'))).length).toBe(AUTO_MIN_IMAGES);
    // float32 rounding of the two conv forms may move a pixel by one level
    expect(maxPixelDiff(await pngPixels(join(p('out'), '0.png')), await pngPixels(p('one.png')))).toBeLessThanOrEqual(1);
  }, 120_000);

  it('auto keeps a folder of 256² images direct for an exported model; on with --device gpu or another backend, or a bad mode, is one error line', async () => {
    const [auto, gpu, bad, backend] = await Promise.all([
      stc(['apply', p('wide.onnx'), p('photos'), '-o', p('out-auto')]),
      stc(['apply', p('wide.onnx'), p('photos'), '-o', p('out-gpu'), '--winograd', 'on', '--device', 'gpu']),
      stc(['apply', p('wide.onnx'), p('photos'), '-o', p('out-bad'), '--winograd', 'maybe']),
      stc(['run', p('wide.style'), '--input', join(p('photos'), '1.png'), '-o', p('x.png'), '--winograd', 'on', '--backend', 'reference']),
    ]);
    expect(isOneLineError(backend)).toBe(true);
    expect(backend.stderr).toMatch(/--backend onnx/);
    expect(auto.code, auto.stderr).toBe(0);
    expect(auto.stderr).not.toMatch(/Winograd/);
    expect(isOneLineError(gpu)).toBe(true);
    expect(gpu.stderr).toMatch(/--winograd on is for the CPU/);
    expect(isOneLineError(bad)).toBe(true);
  }, 120_000);
});

describe('stc run --winograd', () => {
  it('auto is off for one image; on compiles the pass and writes the same image', async () => {
    const img = join(p('photos'), '1.png');
    const [auto, on] = await Promise.all([
      stc(['run', p('wide.style'), '--input', img, '-o', p('run-auto.png')]),
      stc(['run', p('wide.style'), '--input', img, '-o', p('run-on.png'), '--winograd', 'on']),
    ]);
    expect(auto.code, auto.stderr).toBe(0);
    expect(on.code, on.stderr).toBe(0);
    expect(auto.stderr).not.toMatch(/Winograd/);
    expect(on.stderr).toMatch(LINE);
    expect(maxPixelDiff(await pngPixels(p('run-auto.png')), await pngPixels(p('run-on.png')))).toBeLessThanOrEqual(1);
  }, 120_000);
});
