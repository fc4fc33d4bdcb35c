import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/util/errors.ts';
import { createImage } from '../../src/runtime/image-types.ts';
import { checkWritablePath, imageToTensor, readImage, resizeImage, tensorToImage, writeImage } from '../../src/runtime/image.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stc-image-'));
});

/** Pixel (x, y) of channel c. */
const px = (img: { width: number; height: number; data: Float32Array }, c: number, x: number, y: number): number =>
  img.data[c * img.width * img.height + y * img.width + x]!;

function pngChunk(type: string, data: Uint8Array): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([len, body, crc]);
}

describe('readImage', () => {
  it('applies EXIF orientation (6: rotate 90 degrees clockwise)', async () => {
    // Stored 16 wide x 8 high: left half red, right half blue.
    const raw = Buffer.alloc(16 * 8 * 3);
    for (let y = 0; y < 8; y++) for (let x = 0; x < 16; x++) raw.set(x < 8 ? [255, 0, 0] : [0, 0, 255], (y * 16 + x) * 3);
    const p = join(dir, 'rot.jpg');
    await sharp(raw, { raw: { width: 16, height: 8, channels: 3 } }).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toFile(p);
    const img = await readImage(p);
    expect([img.width, img.height]).toEqual([8, 16]);
    // After a clockwise quarter turn the left (red) half is on top.
    expect(px(img, 0, 4, 2)).toBeGreaterThan(200);
    expect(px(img, 2, 4, 2)).toBeLessThan(50);
    expect(px(img, 2, 4, 13)).toBeGreaterThan(200);
  });
  it('flattens alpha onto white', async () => {
    const raw = Buffer.from([255, 0, 0, 255, 0, 0, 255, 0, 0, 0, 0, 128]);
    const p = join(dir, 'alpha.png');
    await sharp(raw, { raw: { width: 3, height: 1, channels: 4 } }).png().toFile(p);
    const img = await readImage(p);
    expect([0, 1, 2].map((c) => px(img, c, 0, 0))).toEqual([255, 0, 0]);
    expect([0, 1, 2].map((c) => px(img, c, 1, 0))).toEqual([255, 255, 255]); // fully transparent
    const half = [0, 1, 2].map((c) => px(img, c, 2, 0)); // black at alpha 128/255 over white
    for (const v of half) expect(Math.abs(v - 255 * (1 - 128 / 255))).toBeLessThanOrEqual(1.5);
  });
  it('expands grayscale to three equal channels', async () => {
    const p = join(dir, 'gray.png');
    await sharp(Buffer.from([100, 200]), { raw: { width: 2, height: 1, channels: 1 } }).png().toFile(p);
    const img = await readImage(p);
    expect([0, 1, 2].map((c) => px(img, c, 0, 0))).toEqual([100, 100, 100]);
    expect([0, 1, 2].map((c) => px(img, c, 1, 0))).toEqual([200, 200, 200]);
  });
  it('reads 16-bit PNGs scaled to 0..255 without dropping to 8 bits', async () => {
    const p = join(dir, 'deep.png');
    const raw = new Uint16Array([1000, 32768, 65535, 0, 0, 0]);
    await sharp(raw, { raw: { width: 2, height: 1, channels: 3 } }).toColourspace('rgb16').png().toFile(p);
    expect((await sharp(p).metadata()).depth).toBe('ushort');
    const img = await readImage(p);
    expect(px(img, 0, 0, 0)).toBeCloseTo((1000 * 255) / 65535, 4);
    expect(px(img, 1, 0, 0)).toBeCloseTo((32768 * 255) / 65535, 4);
    expect(px(img, 2, 0, 0)).toBeCloseTo(255, 4);
  });
  it('resizes on request', async () => {
    const p = join(dir, 'flat.png');
    await sharp({ create: { width: 40, height: 20, channels: 3, background: { r: 10, g: 20, b: 30 } } }).png().toFile(p);
    const img = await readImage(p, { resize: { maxSide: 10 } });
    expect([img.width, img.height]).toEqual([10, 5]);
    expect(px(img, 2, 3, 3)).toBeCloseTo(30, 3);
  });
  it('gives clear errors for missing, empty, non-image and corrupt files', async () => {
    await expect(readImage(join(dir, 'nope.jpg'))).rejects.toThrow(/does not exist/);
    await writeFile(join(dir, 'empty.png'), new Uint8Array());
    await expect(readImage(join(dir, 'empty.png'))).rejects.toThrow(/is empty \(0 bytes\)/);
    await writeFile(join(dir, 'text.jpg'), 'this is not an image\n');
    await expect(readImage(join(dir, 'text.jpg'))).rejects.toThrow(/is not a readable image/);
    const good = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } }).jpeg().toBuffer();
    await writeFile(join(dir, 'cut.jpg'), good.subarray(0, good.length / 2));
    await expect(readImage(join(dir, 'cut.jpg'))).rejects.toThrow(UserError);
    await expect(readImage(dir)).rejects.toThrow(/is not a file/);
  });
  it('refuses a decompression bomb (PNG header claiming 50000x50000) before decoding', async () => {
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(50000, 0);
    ihdr.writeUInt32BE(50000, 4);
    ihdr.set([8, 2, 0, 0, 0], 8);
    const png = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      pngChunk('IHDR', ihdr),
      pngChunk('IDAT', new Uint8Array([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])),
      pngChunk('IEND', new Uint8Array()),
    ]);
    await writeFile(join(dir, 'bomb.png'), png);
    await expect(readImage(join(dir, 'bomb.png'))).rejects.toThrow(/50000x50000.*decompression bomb/);
  });
});

describe('writeImage', () => {
  it('clamps, rounds and writes PNG losslessly, leaving no temp files', async () => {
    const d = await mkdtemp(join(tmpdir(), 'stc-write-'));
    const img = createImage(2, 1);
    img.data.set([-5, 300, 12.6, 12.4, 0, 255]); // R plane, G plane, B plane
    const p = join(d, 'o.png');
    await writeImage(p, img);
    expect(await readdir(d)).toEqual(['o.png']);
    const back = await readImage(p);
    expect([...back.data]).toEqual([0, 255, 13, 12, 0, 255]);
  });
  it('writes JPEG by extension', async () => {
    const p = join(dir, 'o.jpg');
    await writeImage(p, createImage(4, 4));
    expect((await sharp(p).metadata()).format).toBe('jpeg');
  });
  it('fails before any work when the folder is missing or the extension unknown', async () => {
    await expect(checkWritablePath(join(dir, 'missing', 'o.png'))).rejects.toThrow(/folder .*missing does not exist/);
    await expect(checkWritablePath(join(dir, 'o.gif'))).rejects.toThrow(/must end in .png, .jpg or .jpeg/);
    await expect(checkWritablePath(join(dir, 'o.png'))).resolves.toBeUndefined();
  });
});

describe('tensor conversion and resize', () => {
  it('maps an image to [1, 3, H, W] in CHW order and back', () => {
    const img = createImage(3, 2);
    img.data.forEach((_, i) => (img.data[i] = i));
    const t = imageToTensor(img);
    expect(t.shape).toEqual([1, 3, 2, 3]);
    expect(t.data[1 * 6 + 1 * 3 + 2]).toBe(px(img, 1, 2, 1));
    const two = { shape: [2, 3, 2, 3], data: Float32Array.from({ length: 36 }, (_, i) => i) };
    expect([...tensorToImage(two, 1).data]).toEqual([...two.data.slice(18)]);
  });
  it('resizeImage keeps a constant image constant in float, and shrinking averages with a widened triangle filter', () => {
    const img = createImage(8, 6);
    img.data.fill(42.25);
    const r = resizeImage(img, 5, 3);
    expect([r.width, r.height]).toEqual([5, 3]);
    for (const v of r.data) expect(v).toBeCloseTo(42.25, 5);
    const ramp = createImage(4, 2);
    ramp.data.forEach((_, i) => (ramp.data[i] = i % 4 < 2 ? 0 : 100)); // left half 0, right half 100 (a step)
    const h = resizeImage(ramp, 2, 1);
    // Output pixel 0 is centred at input x = 1.0; the triangle of half-width 2 gives x = 0, 1, 2
    // (centres 0.5, 1.5, 2.5) weights 0.75, 0.75, 0.25, normalised by 1.75.
    expect(px(h, 0, 0, 0)).toBeCloseTo((100 * 0.25) / 1.75, 4);
    expect(px(h, 0, 1, 0)).toBeCloseTo((100 * 1.5) / 1.75, 4);
  });
});
