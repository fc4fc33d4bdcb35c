/**
 * `stc transfer` and `stc export SPEC.style` end to end on the real arbitrary-style models (../shared;
 * skipped with a notice when absent), on tiny images: outputs exist at the content's size, blends and
 * strengths change the result, and every bad input ends in one message and exit 1.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { spawnSync } from 'node:child_process';
import { ffmpegAvailable } from '../../src/runtime/apply/video.ts';
import { encodeNpy } from '../../src/weights/index.ts';

const ROOT = join(import.meta.dirname, '../..');
const MODELS = join(ROOT, '../shared/models/arbitrary-style');
const hasShared = existsSync(MODELS);
if (!hasShared) console.warn('[stc tests] ../shared/models/arbitrary-style is absent: skipping the stc transfer tests');
const SPEC = join(ROOT, 'specs/arbitrary.style');

/** Run the CLI; returns the exit code and what it wrote to stderr. */
async function stc(...args: string[]): Promise<{ code: number; err: string }> {
  const write = process.stderr.write.bind(process.stderr);
  const out = process.stdout.write.bind(process.stdout);
  let err = '';
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    return { code: await main(['node', 'stc', ...args]), err };
  } finally {
    process.stderr.write = write;
    process.stdout.write = out;
  }
}

async function png(path: string, w: number, h: number, f: (x: number, y: number, c: number) => number): Promise<void> {
  const data = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = f(x, y, c);
  await sharp(data, { raw: { width: w, height: h, channels: 3 } }).png().toFile(path);
}

async function pixels(path: string): Promise<{ width: number; height: number; data: Buffer }> {
  const { data, info } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data };
}

function meanAbs(a: Buffer, b: Buffer): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / a.length;
}

describe.skipIf(!hasShared)('stc transfer', () => {
  let dir: string;
  const p = (f: string) => join(dir, f);
  const base = () => ['transfer', SPEC, '--weights-dir', MODELS, '--threads', '2'];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stc-transfer-test-'));
    // 30 x 21: not a multiple of 4, so the network's 32 x 24 output is cropped back
    await png(p('photo.png'), 30, 21, (x, y, c) => (x * 8 + y * 5 + c * 60) % 256);
    await png(p('stripes.png'), 64, 48, (x, _y, c) => ((x >> 2) % 2 ? 230 : 20) + c * 5);
    await png(p('dots.png'), 48, 64, (x, y, c) => ((x % 6 < 2 && y % 6 < 2) ? 250 : 40 + c * 50));
    await mkdir(p('photos'));
    await png(p('photos/a.png'), 24, 20, (x, y, c) => (x * 9 + c * 40 + y) % 256);
    await png(p('photos/b.png'), 24, 20, (x, y, c) => (y * 11 + c * 70) % 256);
    await png(p('dot.png'), 1, 1, () => 128);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('stylises an image at its own size; blends and strength change the result', async () => {
    const single = await stc(...base(), '--style', p('stripes.png'), '--content', p('photo.png'), '-o', p('one.png'));
    expect(single.code).toBe(0);
    expect(single.err).toContain(`wrote ${p('one.png')}`);
    const one = await pixels(p('one.png'));
    expect([one.width, one.height]).toEqual([30, 21]);
    expect((await stc(...base(), '--style', p('stripes.png'), '--style', p('dots.png'), '--style-blend', '1,3', '--content', p('photo.png'), '-o', p('blend.png'))).code).toBe(0);
    expect((await stc(...base(), '--style', p('stripes.png'), '--strength', '0', '--content', p('photo.png'), '-o', p('none.png'))).code).toBe(0);
    expect((await stc(...base(), '--style', p('stripes.png'), '--style', p('dots.png'), '--style-blend', '1,0', '--content', p('photo.png'), '-o', p('first.png'))).code).toBe(0);
    const [blend, none, first] = await Promise.all(['blend.png', 'none.png', 'first.png'].map((f) => pixels(p(f))));
    expect(meanAbs(one.data, blend!.data)).toBeGreaterThan(2);
    expect(meanAbs(one.data, none!.data)).toBeGreaterThan(2);
    expect(meanAbs(one.data, first!.data)).toBeLessThan(0.01); // weight 0 on the second style: the same vector
  });

  it('the default predictor (int8 on the file\'s scales; --predictor-int8 the same) stylises nearly as float32 does', async () => {
    // one.png (the first test): stripes on the photo with the default predictor
    const f32 = ['--predictor-precision', 'float32'];
    expect((await stc(...base(), ...f32, '--style', p('stripes.png'), '--content', p('photo.png'), '-o', p('f32.png'))).code).toBe(0);
    expect((await stc(...base(), '--predictor-int8', '--style', p('stripes.png'), '--content', p('photo.png'), '-o', p('int8.png'))).code).toBe(0);
    expect((await stc(...base(), ...f32, '--style', p('dots.png'), '--content', p('photo.png'), '-o', p('dots-f32.png'))).code).toBe(0);
    const [byDefault, f32Image, int8, dots] = await Promise.all(['one.png', 'f32.png', 'int8.png', 'dots-f32.png'].map((f) => pixels(p(f))));
    expect([int8!.width, int8!.height]).toEqual([30, 21]);
    expect(meanAbs(byDefault!.data, int8!.data)).toBe(0); // the default on the CPU is the int8 predictor
    // The vectors differ by the int8 rounding (on the .tflite file's activation scales; cosine 0.9998+ with
    // TFLite's on paintings): well below the change to another style.
    const [rounding, otherStyle] = [meanAbs(f32Image!.data, int8!.data), meanAbs(f32Image!.data, dots!.data)];
    console.info(`[transfer] int8 (default) vs float32 predictor: mean |diff| ${rounding.toFixed(2)}; another style: ${otherStyle.toFixed(2)}`);
    expect(rounding).toBeGreaterThan(0);
    expect(rounding).toBeLessThan(otherStyle / 10);
    expect((await stc(...base(), '--predictor-int8', '--device', 'gpu', '--style', p('stripes.png'), '--content', p('photo.png'), '-o', p('gpu.png'))).err).toMatch(/CPU provider only, not on the GPU/);
  });

  it('stylises a folder', async () => {
    expect((await stc(...base(), '--style', p('dots.png'), '--content', p('photos'), '-o', p('out'))).code).toBe(0);
    for (const f of ['a.png', 'b.png']) expect([(await pixels(p(`out/${f}`))).width]).toEqual([24]);
  });

  it.skipIf(!ffmpegAvailable())('stylises a video frame by frame (ffmpeg)', async () => {
    const clip = p('clip.mp4');
    const made = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=32x24:rate=10', '-frames:v', '3', '-pix_fmt', 'yuv420p', clip]);
    expect(made.status, String(made.stderr)).toBe(0);
    expect((await stc(...base(), '--style', p('dots.png'), '--content', clip, '-o', p('styled.mp4'))).code).toBe(0);
    const probe = spawnSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=width,height,nb_read_frames', '-of', 'csv=p=0', p('styled.mp4')], { encoding: 'utf8' });
    expect(probe.stdout.trim()).toBe('32,24,3');
  });

  it('exports one baked style as a one-input ONNX model and as a tfjs module', async () => {
    const args = ['export', SPEC, '--weights-dir', MODELS, '--style', p('stripes.png')];
    expect((await stc(...args, '-o', p('fixed.onnx'))).code).toBe(0);
    const session = await ort.InferenceSession.create(p('fixed.onnx'));
    expect(session.inputNames).toEqual(['content']);
    const y = (await session.run({ content: new ort.Tensor('float32', new Float32Array(3 * 16 * 16).fill(128), [1, 3, 16, 16]) }))['image']!;
    expect(y.dims).toEqual([1, 3, 16, 16]);
    await session.release();
    expect((await stc(...args, '--target', 'tfjs', '-o', p('fixed.mjs'))).code).toBe(0);
    expect(existsSync(p('fixed.mjs'))).toBe(true);
    // The baked vector comes from the default predictor: int8 on the file's scales for ONNX, float32 for tfjs.
    expect((await stc(...args, '--predictor-precision', 'int8', '-o', p('fixed-int8.onnx'))).code).toBe(0);
    expect((await stc(...args, '--target', 'tfjs', '--predictor-precision', 'float32', '-o', p('fixed-f32.mjs'))).code).toBe(0);
    const same = async (a: string, b: string) => Buffer.compare(await readFile(p(a)), await readFile(p(b))) === 0;
    expect(await same('fixed.onnx', 'fixed-int8.onnx')).toBe(true);
    expect(await same('fixed.mjs', 'fixed-f32.mjs')).toBe(true);
  });

  it('bad inputs end in one message and exit 1', async () => {
    const wrong = p('wrong.npy');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(wrong, encodeNpy({ shape: [1, 50, 1, 1], data: new Float32Array(50) }));
    const cases: [string[], RegExp][] = [
      [[...base(), '--content', p('photo.png'), '-o', p('x.png')], /at least one --style/],
      [[...base(), '--style', p('dots.png'), '--style-blend', '1,2', '--content', p('photo.png'), '-o', p('x.png')], /2 weight\(s\) for 1 style/],
      [[...base(), '--style', p('dots.png'), '--strength', '2', '--content', p('photo.png'), '-o', p('x.png')], /--strength must be between 0 and 1/],
      [[...base(), '--style', p('dots.png'), '--strength', '0.5', '--content', p('photos'), '-o', p('x')], /single content image/],
      [[...base(), '--style-vector', wrong, '--content', p('photo.png'), '-o', p('x.png')], /has 50 values; network 'style_transfer' takes 100/],
      [[...base(), '--style', p('dots.png'), '--content', p('dot.png'), '-o', p('x.png')], /a 1x1 image is too small for this network: reflect padding 4/],
      [[...base(), '--style', p('missing.jpg'), '--content', p('photo.png'), '-o', p('x.png')], /missing\.jpg does not exist/],
      [['transfer', SPEC, '--weights-dir', dir, '--style', p('dots.png'), '--content', p('photo.png'), '-o', p('x.png')], /style_predict_quantized_256\.tflite does not exist/],
      [['transfer', join(ROOT, 'specs/johnson-in.style'), '--style', p('dots.png'), '--content', p('photo.png'), '-o', p('x.png')], /not a style-conditioned network/],
    ];
    for (const [args, msg] of cases) {
      const r = await stc(...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.err).toMatch(msg);
      expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
    }
  });
});
