/**
 * Issue 21, defect 9, through the real CLI: `run` crops a network's extra rows and columns as `apply` does;
 * one alpha rule (flattened onto white) for both; `apply` on a folder skips an unreadable image, counts it
 * and reports it; `apply` on one image says what it wrote.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stc } from './run-cli.ts';

// Stride 2 down, 2× up (zero padding, so a 1×1 input is valid): 97×73 comes out 98×74 before the crop.
const UPDOWN = `main network updown {
  input x: image[N, 3, H, W]
  conv(4, 3, stride: 2, pad: 1); relu()
  upsample(2)
  output y = conv(3, 3, pad: 1)
}
`;
const IDENTITY = `main network identity {
  input x: image[N, 3, H, W]
  output y = scale(1)
}
`;

let dir = '';
const p = (name: string) => join(dir, name);
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stc-run-apply-'));
  await writeFile(p('updown.style'), UPDOWN);
  await writeFile(p('identity.style'), IDENTITY);
  const grey = (w: number, h: number) => sharp({ create: { width: w, height: h, channels: 3, background: { r: 90, g: 120, b: 150 } } }).png();
  await grey(97, 73).toFile(p('97x73.png'));
  await grey(1, 1).toFile(p('1x1.png'));
  // Left half opaque blue, right half fully transparent red.
  const rgba = Buffer.alloc(8 * 4 * 4);
  for (let i = 0; i < 32; i++) rgba.set(i % 8 < 4 ? [0, 0, 255, 255] : [255, 0, 0, 0], 4 * i);
  await sharp(rgba, { raw: { width: 8, height: 4, channels: 4 } }).png().toFile(p('alpha.png'));
  await mkdir(p('folder'));
  await grey(20, 16).toFile(join(p('folder'), 'good.png'));
  await writeFile(join(p('folder'), 'broken.png'), Buffer.from('not a png at all'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const size = async (f: string) => {
  const m = await sharp(f).metadata();
  return `${m.width}x${m.height}`;
};
const pixel = async (f: string, x: number, y: number) => {
  const { data, info } = await sharp(f).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return [...data.subarray(3 * (y * info.width + x), 3 * (y * info.width + x) + 3)];
};

describe('stc run', () => {
  it('writes the input size (97×73, 1×1), not the network’s padded output', async () => {
    const [a, b] = await Promise.all([
      stc(['run', p('updown.style'), '--input', p('97x73.png'), '-o', p('97.png')]),
      stc(['run', p('updown.style'), '--input', p('1x1.png'), '-o', p('1.png')]),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(await size(p('97.png'))).toBe('97x73');
    expect(a.stdout).toMatch(/wrote .*97\.png \(97x73\)/);
    expect(await size(p('1.png'))).toBe('1x1');
  });
});

describe('one alpha rule for run and apply', () => {
  it('both flatten a transparent pixel onto white', async () => {
    const [r, c] = await Promise.all([
      stc(['run', p('identity.style'), '--input', p('alpha.png'), '-o', p('alpha-run.png')]),
      stc(['compile', p('identity.style'), '-o', p('identity.onnx')]),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(c.code, c.stderr).toBe(0);
    const a = await stc(['apply', p('identity.onnx'), p('alpha.png'), '-o', p('alpha-apply.png')]);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toMatch(/^wrote .*alpha-apply\.png/m); // a single image says what it wrote
    for (const f of ['alpha-run.png', 'alpha-apply.png']) {
      expect(await pixel(p(f), 1, 1), f).toEqual([0, 0, 255]);
      expect(await pixel(p(f), 6, 2), f).toEqual([255, 255, 255]);
    }
  });

  it('apply on a folder skips an unreadable image, writes the others, and reports the count', async () => {
    if (!existsSync(p('identity.onnx'))) expect((await stc(['compile', p('identity.style'), '-o', p('identity.onnx')])).code).toBe(0);
    const r = await stc(['apply', p('identity.onnx'), p('folder'), '-o', p('folder-out')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/skipped unreadable image .*broken\.png: /);
    expect(r.stderr).toMatch(/stylised 1 images into .*folder-out; skipped 1 unreadable/);
    expect(await size(join(p('folder-out'), 'good.png'))).toBe('20x16');
    expect(existsSync(join(p('folder-out'), 'broken.png'))).toBe(false);
  });
});
