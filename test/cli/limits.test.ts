/**
 * Issue 21, defect 4: every input that used to run to gigabytes or throw a RangeError is refused before
 * any work, with one message that names the flag and the limit, and exit code 1.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { writeImage } from '../../src/runtime/image.ts';
import { createImage } from '../../src/runtime/image-types.ts';
import { tinyNetModel } from '../runtime/apply/tiny-models.ts';
import { pngClaiming } from '../../tools/fuzz/files.ts';

const ROOT = join(fileURLToPath(import.meta.url), '../../..');
const SQUEEZENET = join(ROOT, '../shared/weights/squeezenet1_1');
const COCO = join(ROOT, '../shared/datasets/coco128');

let dir: string;

async function stc(...args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    return { code: await main(['node', 'stc', ...args]), stderr };
  } finally {
    spy.mockRestore();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stc-limits-'));
  await writeImage(join(dir, '1x1.png'), createImage(1, 1));
  const tex = createImage(100, 80);
  tex.data.fill(128);
  await writeImage(join(dir, 'texture.png'), tex);
  writeFileSync(join(dir, 'bomb.png'), pngClaiming(16000, 16000));
  writeFileSync(join(dir, 'm.onnx'), tinyNetModel(1, true));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bounds checked before work starts', () => {
  it('quilt --target 1x1.png --size 3000: the texture scaled like the target is refused, naming --texture-size', async () => {
    // the enlarged texture stops at twice the target's long side (6000 px), still over the 16-megapixel cap
    const r = await stc('quilt', '--texture', join(dir, 'texture.png'), '--target', join(dir, '1x1.png'), '--size', '3000', '-o', join(dir, 'q.png'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/scaling the texture 3000x.*--texture-size.*means 6000x4800 pixels.*over the limit of 16 megapixels/);
    expect(existsSync(join(dir, 'q.png'))).toBe(false);
  });

  it('quilt --target 1x1.png --size 64: the texture is enlarged to twice the target (128 px), not 64x, with a note', async () => {
    const r = await stc('quilt', '--texture', join(dir, 'texture.png'), '--target', join(dir, '1x1.png'), '--size', '64', '-o', join(dir, 'q64.png'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/note: the texture is enlarged to 128 px on its long side \(twice the target's\), not 6400 px/);
    expect(existsSync(join(dir, 'q64.png'))).toBe(true);
  });

  it('quilt --size 100000x100000 is refused (was a RangeError)', async () => {
    const r = await stc('quilt', '--texture', join(dir, 'texture.png'), '--size', '100000x100000', '-o', join(dir, 'q.png'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--size 100000x100000 means 100000x100000 pixels');
    // the 100-megapixel cap of every --size comes first; between the two caps, quilting's own applies
    const mid = await stc('quilt', '--texture', join(dir, 'texture.png'), '--size', '5000x5000', '-o', join(dir, 'q.png'));
    expect(mid.code).toBe(1);
    expect(mid.stderr).toContain('--size 5000x5000 means 5000x5000 pixels (25 megapixels), over the limit of 16 megapixels');
  });

  it('apply refuses a PNG that claims 16000x16000 before decoding it (the 100 Mpx cap of every command)', async () => {
    const r = await stc('apply', join(dir, 'm.onnx'), join(dir, 'bomb.png'), '-o', join(dir, 'a.png'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/16000x16000 pixels \(256 megapixels\), over the limit of 100 megapixels/);
  });

  it('verify --size 100000x100000 is refused at the pixel cap; a size over --max-memory by the liveness estimate', async () => {
    const huge = await stc('verify', join(ROOT, 'specs/johnson-in.style'), '--size', '100000x100000');
    expect(huge.code).toBe(1);
    expect(huge.stderr).toContain('over the limit of 100 megapixels');
    const big = await stc('verify', join(ROOT, 'specs/johnson-in.style'), '--size', '1000x1000', '--max-memory', '0.25');
    expect(big.code).toBe(1);
    expect(big.stderr).toMatch(/--size 1000x1000 --batch 1 needs an estimated [\d.]+ GiB .* over the limit of 0\.25 GiB \(--max-memory\)/);
  });

  it('an enlarging --size over the pixel cap is refused before sharp allocates (stylize), and run checks --max-memory', async () => {
    const r = await stc('stylize', join(ROOT, 'specs/gatys.style'), '--content', join(dir, 'texture.png'), '--style', join(dir, 'texture.png'), '--size', '100000', '-o', join(dir, 's.png'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/to 100000x80000 pixels \(8000 megapixels, from --size\) is over the limit of 100 megapixels/);
    const run = await stc('run', join(ROOT, 'specs/johnson-in.style'), '--input', join(dir, 'texture.png'), '--size', '800x1000', '-o', join(dir, 'r.png'), '--max-memory', '0.1');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/the input at 1000x800 \(--input, --size\) needs an estimated [\d.]+ GiB .*over the limit of 0\.10 GiB \(--max-memory\)/);
  });

  it('stylize refuses a Gatys step estimated over --max-memory before loading the loss network', async () => {
    const r = await stc('stylize', join(ROOT, 'specs/gatys.style'), '--content', join(dir, 'texture.png'), '--style', join(dir, 'texture.png'), '--size', '2000', '--max-memory', '0.5', '-o', join(dir, 's.png'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the Gatys step at 1600x2000 \(--size\) needs an estimated [\d.]+ GiB .*over the limit of 0\.50 GiB \(--max-memory\)/);
  });

  it('compile refuses a network whose weights alone pass --max-memory, before initialising them', async () => {
    // each parameter under the checker's 2^26 elements (conv(65536) is now refused there), ten of them over 1 GiB
    const chain = Array.from({ length: 10 }, () => 'conv(2048, 3, padding: zero)').join(' -> ');
    writeFileSync(join(dir, 'big.style'), `main network big {\n  input x: image[N, 3, H, W]\n  ${chain}\n}\n`);
    const r = await stc('compile', join(dir, 'big.style'), '-o', join(dir, 'big.onnx'), '--max-memory', '1');
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/network big needs an estimated 1\.27 GiB \(its float32 weights\), over the limit of 1(\.00)? GiB \(--max-memory\)/);
  });

  it('train --size 100000 and a step graph over --max-memory are refused before training', async (ctx) => {
    if (!existsSync(SQUEEZENET) || !existsSync(COCO)) {
      console.warn(`skipped: ${SQUEEZENET} or ${COCO} is absent (../shared)`);
      ctx.skip();
    }
    const base = ['train', join(ROOT, 'specs/johnson-in.style'), '--data', COCO, '--style', join(dir, 'texture.png'), '--loss-net', 'squeezenet1_1', '--weights', SQUEEZENET];
    const huge = await stc(...base, '--size', '100000', '--out', join(dir, 'run1'));
    expect(huge.code).toBe(1);
    expect(huge.stderr).toContain('--size 100000 --batch 4 means');
    const big = await stc(...base, '--size', '512', '--batch', '2', '--max-memory', '1', '--out', join(dir, 'run2'));
    expect(big.code).toBe(1);
    expect(big.stderr).toMatch(/--size 512 --batch 2 needs an estimated [\d.]+ GiB .*\(--max-memory\)/);
    expect(existsSync(join(dir, 'run2', 'checkpoints'))).toBe(false);
  });
});
