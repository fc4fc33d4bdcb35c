/**
 * `--winograd auto|on|off` through the real CLI: `stc apply --winograd on` on a folder loads the wide convs as
 * Winograd and writes the direct model's pixels, `auto` (the default) keeps an exported model's direct convs;
 * `stc run` on one image does not use it unless asked, and gives the same image either way; an explicit `on` where
 * it cannot run is one error line.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTO_MIN_IMAGES } from '../../src/runtime/apply/winograd-choice.ts';
import { isOneLineError, stc } from './run-cli.ts';

// One 128-channel 3×3 conv (Winograd's minimum width) on a 32² map at 256² input: cheap, and the only wide conv.
// AUTO_MIN_IMAGES images of 256²: a folder that auto would count for a compiled spec.
const WIDE = `main network wide {
  input x: image[N, 3, H, W]
  conv(128, 8, stride: 8); relu()
  conv(128, 3, padding: reflect); instance_norm(); relu()
  upsample(8)
  output y = conv(3, 1)
}
`;
const LINE = /Winograd F\(4x4,3x3\) on 1 convs/;

let dir = '';
const p = (name: string) => join(dir, name);
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stc-winograd-'));
  await writeFile(p('wide.style'), WIDE);
  await mkdir(p('photos'));
  const noise = (seed: number) => Buffer.from(Array.from({ length: 256 * 256 * 3 }, (_, i) => (i * 37 + seed * 101 + ((i * i) % 251)) % 256));
  await Promise.all(Array.from({ length: AUTO_MIN_IMAGES }, (_, k) => sharp(noise(k), { raw: { width: 256, height: 256, channels: 3 } }).png().toFile(join(p('photos'), `${k}.png`))));
  const c = await stc(['compile', p('wide.style'), '-o', p('wide.onnx')]);
  if (c.code !== 0) throw new Error(c.stderr);
}, 60_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

const pixels = async (f: string) => (await sharp(f).raw().toBuffer()) as Uint8Array;
const maxDiff = (a: Uint8Array, b: Uint8Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

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
    expect(maxDiff(await pixels(join(p('out'), '0.png')), await pixels(p('one.png')))).toBeLessThanOrEqual(1);
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
    expect(maxDiff(await pixels(p('run-auto.png')), await pixels(p('run-on.png')))).toBeLessThanOrEqual(1);
  }, 120_000);
});
